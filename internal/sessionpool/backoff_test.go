package sessionpool

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

func half() float64 { return 0.5 }

func requireUnavailable(t *testing.T, err error) *UnavailableError {
	t.Helper()
	var unav *UnavailableError
	require.ErrorAs(t, err, &unav, "want the pool to answer UnavailableError, got %v", err)
	assert.Equal(t, unitID, unav.Unit)
	return unav
}

func loginStatus(s ucm.Status, remainNum *int) error {
	return &ucm.Error{Status: s, Action: "login", RemainNum: remainNum}
}

func TestLoginFailureDecidesStopOrBackOff(t *testing.T) {
	three := 3
	tests := []struct {
		name      string
		err       error
		stop      bool          // logins stop until a reset
		wantState State         // when not stopped
		wantRetry time.Duration // when not stopped; BackoffBase 1s, jitter 0.5 → 750ms
	}{
		{name: "wrong credentials -37", err: loginStatus(ucm.StatusWrongCredentials, &three), stop: true},
		{name: "no permission or not whitelisted -47", err: loginStatus(ucm.StatusNoPermission, nil), stop: true},
		{name: "login restricted -68", err: loginStatus(ucm.StatusLoginRestricted, nil), stop: true},
		{name: "login forbidden -70", err: loginStatus(ucm.StatusLoginForbidden, nil), stop: true},
		{name: "no such user -71", err: loginStatus(ucm.StatusNoSuchUser, nil), stop: true},
		{name: "undocumented status", err: loginStatus(ucm.Status(-999), nil), stop: true},
		{name: "invalid parameters -1", err: loginStatus(ucm.StatusInvalidParams, nil), stop: true},
		{name: "too frequent with attempts left", err: loginStatus(ucm.StatusTooFrequent, &three), stop: true},
		{name: "too frequent -45", err: loginStatus(ucm.StatusTooFrequent, nil), wantState: StateBackingOff, wantRetry: 15 * time.Second},
		{name: "too frequent -46", err: loginStatus(ucm.StatusTooFrequent2, nil), wantState: StateBackingOff, wantRetry: 15 * time.Second},
		{name: "too frequent -57", err: loginStatus(ucm.StatusTooFrequentLong, nil), wantState: StateBackingOff, wantRetry: 60 * time.Second},
		{name: "system busy -51", err: loginStatus(ucm.StatusTaskRunning, nil), wantState: StateBackingOff, wantRetry: 750 * time.Millisecond},
		{name: "system error -9", err: loginStatus(ucm.StatusSystemError, nil), wantState: StateBackingOff, wantRetry: 750 * time.Millisecond},
		{name: "connection closed -7", err: loginStatus(ucm.StatusConnectionClosed, nil), wantState: StateBackingOff, wantRetry: 750 * time.Millisecond},
		{name: "html page", err: &ucm.NotJSONError{Action: "challenge", HTTPStatus: 502, ContentType: "text/html"}, wantState: StateBackingOff, wantRetry: 750 * time.Millisecond},
		{name: "unreachable", err: &ucm.TransportError{Action: "challenge", Err: context.DeadlineExceeded, Timeout: true}, wantState: StateUnreachable, wantRetry: 750 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				unit := &fakeCaller{loginErr: []error{tc.err}}
				p, _ := newPool(t, Options{BackoffBase: time.Second, Jitter: half}, unit, simPassword)
				defer p.Close(context.Background())
				do := func() error {
					_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
					return err
				}

				err := do()
				if tc.stop {
					var stop *LoginStoppedError
					require.ErrorAs(t, err, &stop, "a login refusal that may cost the unit's attempts must stop logins")
					time.Sleep(time.Hour)
					require.ErrorAs(t, do(), &stop, "logins resumed on their own after an hour")
					logins, _ := unit.counts()
					assert.Equal(t, 1, logins, "the pool tried to log in again after the unit refused it")
					assert.Equal(t, StateAuthFailed, unitState(t, p))
					return
				}

				unav := requireUnavailable(t, err)
				assert.Equal(t, tc.wantRetry, unav.RetryAfter, "back-off after %v", tc.err)
				assert.ErrorIs(t, err, tc.err, "the cause is kept for the operator")
				assert.Equal(t, tc.wantState, unitState(t, p))

				time.Sleep(tc.wantRetry - time.Millisecond)
				unav = requireUnavailable(t, do())
				assert.Equal(t, time.Millisecond, unav.RetryAfter, "RetryAfter counts down to the next allowed login")
				logins, _ := unit.counts()
				assert.Equal(t, 1, logins, "the pool logged in again before the back-off ended")

				time.Sleep(time.Millisecond)
				require.NoError(t, do(), "after the back-off the pool must try again")
				logins, calls := unit.counts()
				assert.Equal(t, 2, logins)
				assert.Equal(t, 1, calls)
				assert.Equal(t, StateReady, unitState(t, p))
			})
		})
	}
}

func TestUnreachableUnitBacksOffExponentially(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, rt := inProcessClient(sim)
		p, _ := newPool(t, Options{BackoffBase: time.Second, BackoffMax: 8 * time.Second, Jitter: half}, client, simPassword)
		defer p.Close(context.Background())
		do := func() error {
			_, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
			return err
		}
		rt.down.Store(true)

		// Equal jitter: half of the (doubling, capped) delay is fixed, half random.
		for i, want := range []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 6 * time.Second} {
			trips := rt.trips.Load()
			err := do()
			assert.ErrorIs(t, err, ucm.ErrTransport)
			unav := requireUnavailable(t, err)
			assert.Equal(t, want, unav.RetryAfter, "back-off after failure %d", i+1)
			assert.Equal(t, trips+1, rt.trips.Load(), "failure %d: one login attempt (its challenge) reached the network", i+1)
			assert.Equal(t, StateUnreachable, unitState(t, p))

			// Until the back-off ends, requests fail fast without touching the network.
			trips = rt.trips.Load()
			for range 5 {
				requireUnavailable(t, do())
			}
			assert.Equal(t, trips, rt.trips.Load(), "requests during the back-off reached the network")
			time.Sleep(want)
		}
		st, err := p.Unit(unitID)
		require.NoError(t, err)
		assert.EqualValues(t, 5, st.LoginFailures)
		assert.Equal(t, "closed", st.Breaker, "failed logins are the back-off's business, not the breaker's")
		assert.False(t, st.RetryAt.IsZero())

		rt.down.Store(false)
		require.NoError(t, do(), "the unit is back: the next login must succeed")
		st, err = p.Unit(unitID)
		require.NoError(t, err)
		assert.Equal(t, StateReady, st.State)
		assert.True(t, st.RetryAt.IsZero(), "a successful login clears the back-off")
		assert.Equal(t, 1, sim.Counters().Logins)

		// The next outage starts again from the base delay.
		rt.down.Store(true)
		time.Sleep(time.Hour) // the session lapses: the next request needs a login
		assert.Equal(t, 750*time.Millisecond, requireUnavailable(t, do()).RetryAfter,
			"a successful login must reset the back-off for the next outage")
	})
}

func TestBackOffJitterStaysWithinHalfAndFullDelay(t *testing.T) {
	for _, j := range []float64{0, 0.25, 0.999} {
		synctest.Test(t, func(t *testing.T) {
			unit := &fakeCaller{loginErr: []error{&ucm.TransportError{Action: "challenge", Err: context.DeadlineExceeded}}}
			p, _ := newPool(t, Options{BackoffBase: 4 * time.Second, Jitter: func() float64 { return j }}, unit, simPassword)
			defer p.Close(context.Background())
			_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
			got := requireUnavailable(t, err).RetryAfter
			assert.GreaterOrEqual(t, got, 2*time.Second, "jitter %v", j)
			assert.Less(t, got, 4*time.Second, "jitter %v", j)
		})
	}
}
