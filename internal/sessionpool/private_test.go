package sessionpool_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	. "github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// A private unit (each replica's own demo simulator) never uses the fleet's store: it logs in
// on its own even while Redis is down, where a shared unit refuses, and it does not take the
// shared cookie of a unit with the same id on another replica.
func TestPrivateUnitsKeepTheirSessionToThemselves(t *testing.T) {
	f := newFleet(t, 1, simPassword)
	_, err := f.pools[0].Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
	require.NoError(t, err)
	own := simOn(ucmsim.Config{})
	p, err := New(Options{Metrics: metrics.New("test"), Sessions: f.stores[0]},
		[]UnitConfig{{ID: unitID, Username: apiUser, Password: simPassword, Client: httpsClient(t, own), Private: true}})
	require.NoError(t, err)
	defer p.Close(context.Background())
	_, err = p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
	require.NoError(t, err)
	assert.Equal(t, 1, own.Counters().Logins, "its own login, not the fleet's cookie of another unit")

	f.redis.Stop()
	require.Eventually(t, func() bool { return !f.health[0].Up() }, 5*time.Second, 10*time.Millisecond)
	own.ForgetCookies()
	_, err = p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
	require.NoError(t, err, "a private unit does not need Redis")
	assert.Equal(t, 2, own.Counters().Logins)
}
