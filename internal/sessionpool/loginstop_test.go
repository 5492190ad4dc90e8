package sessionpool

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// loginAttempts is every login the unit judged, successful or not.
func loginAttempts(sim *ucmsim.UCM) int {
	c := sim.Counters()
	return c.Logins + c.FailedLogins
}

// handshakes is every handshake the pool started: each begins with a challenge request, which a
// banned client already sees refused.
func handshakes(sim *ucmsim.UCM) int { return sim.Calls("challenge") }

// concurrentDo runs n identical-unit requests at once and returns their errors.
func concurrentDo(p *Pool, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
		})
	}
	wg.Wait()
	return errs
}

func requireLoginStopped(t *testing.T, err error, want ucm.Status) {
	t.Helper()
	var stop *LoginStoppedError
	require.ErrorAs(t, err, &stop, "want the pool to refuse with LoginStoppedError, got %v", err)
	assert.Equal(t, unitID, stop.Unit)
	got, ok := ucm.StatusOf(err)
	require.True(t, ok, "LoginStoppedError must carry the unit's status: %v", err)
	assert.Equal(t, want, got)
}

func TestRefusedCredentialsStopAllLogins(t *testing.T) {
	tests := []struct {
		name       string
		simCfg     ucmsim.Config
		user, pass string
		banFirst   bool // another client got the gateway's address banned before it starts
		wantStatus ucm.Status
		fix        func(sim *ucmsim.UCM)
	}{
		{
			name: "wrong password", user: apiUser, pass: wrongPasswd, wantStatus: ucm.StatusWrongCredentials,
			fix: func(sim *ucmsim.UCM) { sim.SetPassword(wrongPasswd) },
		},
		{
			name: "unknown user", user: "nobody", pass: simPassword, wantStatus: ucm.StatusNoSuchUser,
			simCfg: ucmsim.Config{Username: "nobody-yet"},
		},
		{
			name: "last attempt gets the address banned", simCfg: ucmsim.Config{MaxLoginAttempts: 1},
			user: apiUser, pass: wrongPasswd, wantStatus: ucm.StatusLoginRestricted,
			fix: func(sim *ucmsim.UCM) { sim.SetPassword(wrongPasswd); sim.LiftBan() },
		},
		{
			name: "address already banned", simCfg: ucmsim.Config{MaxLoginAttempts: 1}, banFirst: true,
			user: apiUser, pass: simPassword, wantStatus: ucm.StatusLoginForbidden,
			fix: func(sim *ucmsim.UCM) { sim.LiftBan() },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := simOn(tc.simCfg)
			client := httpsClient(t, sim)
			if tc.banFirst {
				_, err := client.Login(context.Background(), apiUser, "guess")
				require.ErrorIs(t, err, ucm.StatusLoginRestricted, "setup: ban the client address")
			}
			before := handshakes(sim)
			p, err := New(Options{}, []UnitConfig{{ID: unitID, Username: tc.user, Password: tc.pass, Client: client}})
			require.NoError(t, err)
			closeAtEnd(t, p)

			// A cold unit hit by 20 requests at once: one attempt, shared by all.
			for _, err := range concurrentDo(p, 20) {
				requireLoginStopped(t, err, tc.wantStatus)
			}
			assert.Equal(t, before+1, handshakes(sim), "concurrent requests must share one login attempt")
			attempts := loginAttempts(sim)
			if !tc.banFirst {
				assert.Equal(t, 1, attempts, "the unit judged more than one login from the pool")
			}

			st, err := p.Unit(unitID)
			require.NoError(t, err)
			assert.Equal(t, StateAuthFailed, st.State)
			assert.Equal(t, int(tc.wantStatus), st.LastErrorStatus)
			assert.EqualValues(t, 1, st.LoginFailures)
			assert.NotEmpty(t, st.LastError, "an operator must see why logins stopped")

			// Later requests are refused at once: the unit's remaining attempts are never spent.
			for _, err := range concurrentDo(p, 20) {
				requireLoginStopped(t, err, tc.wantStatus)
			}
			assert.Equal(t, before+1, handshakes(sim), "the pool tried to log in again after the unit refused its credentials")
			assert.Equal(t, attempts, loginAttempts(sim), "the pool spent another of the unit's login attempts")

			if tc.fix == nil {
				return
			}
			// Fixing the unit is not enough: the pool waits for the operator's reset.
			tc.fix(sim)
			_, err = p.Do(context.Background(), unitID, "getSystemStatus", nil)
			requireLoginStopped(t, err, tc.wantStatus)
			assert.Equal(t, before+1, handshakes(sim))

			st, err = p.Reset(unitID)
			require.NoError(t, err)
			assert.Equal(t, StateCold, st.State, "after a reset the unit waits for the next request")
			_, err = p.Do(context.Background(), unitID, "getSystemStatus", nil)
			require.NoError(t, err, "after the fix and a reset, requests must work again")
			assert.Equal(t, 1, sim.Counters().Logins)
			assert.Equal(t, StateReady, unitState(t, p))
		})
	}
}

func TestCloseDoesNotLogOutWithoutSession(t *testing.T) {
	sim := simOn(ucmsim.Config{})
	p, _ := newPool(t, Options{}, httpsClient(t, sim), wrongPasswd)
	_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
	requireLoginStopped(t, err, ucm.StatusWrongCredentials)
	p.Close(context.Background())
	assert.Zero(t, sim.Calls("logout"), "there is no session to log out of")
	assert.Equal(t, 1, loginAttempts(sim))
}

func TestResetUnknownUnit(t *testing.T) {
	p, _ := newPool(t, Options{}, &fakeCaller{}, simPassword)
	closeAtEnd(t, p)
	_, err := p.Reset("nope")
	require.ErrorIs(t, err, ErrUnknownUnit)
	_, err = p.Unit("nope")
	require.ErrorIs(t, err, ErrUnknownUnit)
	_, err = p.Do(context.Background(), "nope", "getSystemStatus", nil)
	require.ErrorIs(t, err, ErrUnknownUnit)
	assert.False(t, p.Has("nope"))
	assert.True(t, p.Has(unitID))
}

func TestDuplicateUnitIsRejected(t *testing.T) {
	c := &fakeCaller{}
	_, err := New(Options{}, []UnitConfig{{ID: "a", Client: c}, {ID: "a", Client: c}})
	require.Error(t, err, "two units with one id must be a configuration error")
}
