package sessionpool

// The fixtures of harness_test.go, for the tests of package sessionpool_test (fleet_test.go),
// which must be external: they import shared, which imports sessionpool.
const (
	FixtureUnitID      = unitID
	FixtureAPIUser     = apiUser
	FixtureSimPassword = simPassword
	FixtureWrongPasswd = wrongPasswd
)

var (
	FixtureSimOn       = simOn
	FixtureHTTPSClient = httpsClient
	FixtureNewPool     = newPool
	FixtureCloseAtEnd  = closeAtEnd
	FixtureSipAccount  = sipAccount
	FixtureUnitState   = unitState
)
