package sessionpool

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

func TestExpiredCookieIsReplacedTransparently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{CookieIdleTimeout: 10 * time.Minute})
		client, _ := inProcessClient(sim)
		// The pool believes cookies live an hour, so it still sends the one the unit dropped.
		p, m := newPool(t, Options{IdleTimeout: time.Hour}, client, simPassword)
		defer p.Close(context.Background())
		ctx := context.Background()

		_, err := p.Do(ctx, unitID, "getSIPAccount", sipAccount("1000"))
		require.NoError(t, err)
		time.Sleep(11 * time.Minute)

		raw, err := p.Do(ctx, unitID, "getSIPAccount", sipAccount("1000"))
		require.NoError(t, err, "the client saw the unit's cookie expiry instead of a transparent re-login")
		assert.Contains(t, string(raw), `"1000"`)
		assert.Equal(t, 2, sim.Counters().Logins, "an expired cookie costs exactly one re-login")
		assert.Equal(t, 3, sim.Calls("getSIPAccount"), "first call, the refused call, and its one retry")
		assert.Equal(t, 1.0, testutil.ToFloat64(m.UCMCalls.WithLabelValues(unitID, "getSIPAccount", "status_-6")),
			"the refused call is counted as status_-6")
		assert.Equal(t, 2.0, testutil.ToFloat64(m.UCMCalls.WithLabelValues(unitID, "getSIPAccount", "ok")))
	})
}

func TestRejectedSessionIsRetriedOnce(t *testing.T) {
	tests := []struct {
		name       string
		failNext   int
		status     int
		ext        string
		wantErr    error // nil: the client sees success
		wantLogins int
		wantCalls  int // getSIPAccount requests the unit received
	}{
		{name: "cookie error -6", failNext: 1, status: -6, ext: "1000", wantLogins: 2, wantCalls: 2},
		{name: "need authentication -5", failNext: 1, status: -5, ext: "1000", wantLogins: 2, wantCalls: 2},
		{name: "refused again after re-login", failNext: 2, status: -6, ext: "1000", wantErr: ucm.StatusCookie, wantLogins: 2, wantCalls: 2},
		{name: "other error status is the client's answer", ext: "9999", wantErr: ucm.StatusNoSuchItem, wantLogins: 1, wantCalls: 1},
		{name: "system error is not retried", failNext: 1, status: -9, ext: "1000", wantErr: ucm.StatusSystemError, wantLogins: 1, wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := simOn(ucmsim.Config{})
			client, _ := inProcessClient(sim)
			p, _ := newPool(t, Options{}, client, simPassword)
			closeAtEnd(t, p)
			_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
			require.NoError(t, err)
			if tc.failNext > 0 {
				sim.FailNext(tc.failNext, tc.status)
			}

			_, err = p.Do(context.Background(), unitID, "getSIPAccount", sipAccount(tc.ext))
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			assert.Equal(t, tc.wantLogins, sim.Counters().Logins, "logins at the unit")
			assert.Equal(t, tc.wantCalls, sim.Calls("getSIPAccount"), "requests at the unit: one retry at most")
		})
	}
}

func TestKeepAliveKeepsUnitsInUseLoggedIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{CookieIdleTimeout: 10 * time.Minute})
		client, _ := inProcessClient(sim)
		p, m := newPool(t, Options{IdleTimeout: 10 * time.Minute}, client, simPassword)
		defer p.Close(context.Background())
		ctx := context.Background()
		use := func() {
			t.Helper()
			_, err := p.Do(ctx, unitID, "getSIPAccount", sipAccount("1002"))
			require.NoError(t, err)
		}

		// Steady traffic every 3 minutes for 30 minutes: the traffic alone keeps the cookie alive.
		for range 10 {
			use()
			time.Sleep(3 * time.Minute)
		}
		assert.Equal(t, 1, sim.Counters().Logins, "steady traffic must ride one session")
		assert.Zero(t, sim.Calls("getSystemStatus"), "no keep-alive is needed while traffic flows")

		// Traffic every 12 minutes, longer than the unit keeps an idle cookie: keep-alive bridges it.
		for range 5 {
			use()
			time.Sleep(12 * time.Minute)
		}
		use()
		assert.Equal(t, 1, sim.Counters().Logins, "keep-alive must refresh the cookie of a unit in use before the unit drops it")
		assert.Positive(t, sim.Calls("getSystemStatus"), "the gaps were bridged by keep-alive pings")
		assert.Zero(t, testutil.ToFloat64(m.UCMCalls.WithLabelValues(unitID, "getSIPAccount", "status_-6")))

		// Then nobody uses the unit: keep-alive lets the session lapse.
		time.Sleep(15 * time.Minute)
		synctest.Wait()
		pings := sim.Calls("getSystemStatus")
		time.Sleep(15 * time.Minute)
		synctest.Wait()
		assert.Equal(t, pings, sim.Calls("getSystemStatus"), "keep-alive went on pinging a unit nobody used for 30 minutes")
		assert.Equal(t, StateCold, unitState(t, p), "the status still says ready for a session the unit dropped long ago")
		assert.Equal(t, 1.0, testutil.ToFloat64(m.SessionState.WithLabelValues(unitID, "cold")))

		// The next request logs in again, without first sending the cookie the pool knows is dead.
		reads := sim.Calls("getSIPAccount")
		use()
		assert.Equal(t, 2, sim.Counters().Logins, "a request after the quiet spell logs in again, once")
		assert.Equal(t, reads+1, sim.Calls("getSIPAccount"), "the pool sent a cookie it knew had lapsed (a wasted -6)")
		assert.Zero(t, testutil.ToFloat64(m.UCMCalls.WithLabelValues(unitID, "getSIPAccount", "status_-6")))
		assert.Zero(t, testutil.ToFloat64(m.UCMCalls.WithLabelValues(unitID, "getSystemStatus", "status_-6")))
	})
}

func TestKeepAliveLeavesUnusedUnitsAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, rt := inProcessClient(sim)
		p, _ := newPool(t, Options{}, client, simPassword)
		defer p.Close(context.Background())

		time.Sleep(2 * time.Hour)
		synctest.Wait()
		assert.Zero(t, rt.trips.Load(), "the pool contacted a unit nobody asked for")
		assert.Equal(t, StateCold, unitState(t, p))
	})
}

func TestKeepAliveReplacesACookieTheUnitDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, _ := inProcessClient(sim)
		p, _ := newPool(t, Options{IdleTimeout: 10 * time.Minute}, client, simPassword)
		defer p.Close(context.Background())
		ctx := context.Background()

		_, err := p.Do(ctx, unitID, "getSIPAccount", sipAccount("1000"))
		require.NoError(t, err)
		sim.ForgetCookies() // the unit rebooted while the gateway was quiet
		time.Sleep(8 * time.Minute)
		synctest.Wait()
		assert.Equal(t, 2, sim.Counters().Logins, "the keep-alive ping should have noticed the reboot and logged in again")

		reads := sim.Calls("getSIPAccount")
		_, err = p.Do(ctx, unitID, "getSIPAccount", sipAccount("1000"))
		require.NoError(t, err)
		assert.Equal(t, reads+1, sim.Calls("getSIPAccount"), "the request found a fresh session, no -6 round trip")
		assert.Equal(t, 2, sim.Counters().Logins)
	})
}
