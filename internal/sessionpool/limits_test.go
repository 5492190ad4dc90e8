package sessionpool

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

func breakerOf(t *testing.T, p *Pool) string {
	t.Helper()
	st, err := p.Unit(unitID)
	require.NoError(t, err)
	return st.Breaker
}

func TestBreakerFailsFastWhileUnitIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, rt := inProcessClient(sim)
		p, m := newPool(t, Options{BreakerFailures: 3, BreakerOpen: 15 * time.Second}, client, simPassword)
		defer p.Close(context.Background())
		do := func(action string, params map[string]any) error {
			_, err := p.Do(context.Background(), unitID, action, params)
			return err
		}
		read := func() error { return do("getSIPAccount", sipAccount("1000")) }
		gauge := func() float64 { return testutil.ToFloat64(m.BreakerState.WithLabelValues(unitID)) }
		require.NoError(t, read())

		// Error statuses prove the unit is up: they never open the breaker.
		sim.FailNext(5, -9)
		for range 5 {
			require.ErrorIs(t, read(), ucm.StatusSystemError, "a unit answering with an error status is up: the client gets the status")
		}
		require.NoError(t, read())
		assert.Equal(t, "closed", breakerOf(t, p))

		rt.down.Store(true)
		for i := range 3 {
			err := read()
			require.ErrorIs(t, err, ucm.ErrTransport, "failure %d must be the unit's own transport error", i+1)
			var unav *UnavailableError
			require.NotErrorAs(t, err, &unav, "failure %d: the breaker opened too early", i+1)
		}

		// Open: fail fast without touching the network.
		trips := rt.trips.Load()
		for range 10 {
			unav := requireUnavailable(t, read())
			assert.Contains(t, unav.Reason, "breaker")
			assert.Equal(t, 15*time.Second, unav.RetryAfter)
		}
		assert.Equal(t, trips, rt.trips.Load(), "requests reached the network while the breaker was open")
		assert.Equal(t, "open", breakerOf(t, p))
		assert.Equal(t, 2.0, gauge(), "ucm_gateway_breaker_state must say open (2)")

		// After BreakerOpen one probe goes through; the unit is still down, so it opens again.
		time.Sleep(15*time.Second + time.Millisecond)
		assert.Equal(t, "half_open", breakerOf(t, p))
		require.ErrorIs(t, read(), ucm.ErrTransport, "the half-open probe must reach the unit")
		assert.Equal(t, trips+1, rt.trips.Load())
		requireUnavailable(t, read())
		assert.Equal(t, trips+1, rt.trips.Load())

		// The unit comes back: while the probe is in flight other requests still fail fast, and
		// the probe's success closes the breaker.
		time.Sleep(15*time.Second + time.Millisecond)
		rt.down.Store(false)
		rt.delayReplies("getSIPAccount", time.Second)
		var wg sync.WaitGroup
		wg.Go(func() { assert.NoError(t, read(), "the probe after the outage") })
		synctest.Wait()
		assert.Equal(t, 1.0, gauge(), "ucm_gateway_breaker_state must say half-open (1)")
		requireUnavailable(t, do("getSystemStatus", nil))
		wg.Wait()
		assert.Equal(t, "closed", breakerOf(t, p))
		assert.Equal(t, 0.0, gauge())
		require.NoError(t, do("getSystemStatus", nil))
		assert.Equal(t, 1, sim.Counters().Logins, "the session survived the outage")
	})
}

func TestInFlightRequestsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, rt := inProcessClient(sim)
		p, m := newPool(t, Options{MaxInFlight: 2}, client, simPassword)
		defer p.Close(context.Background())
		_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
		require.NoError(t, err)
		sim.SetLatency(time.Second)

		start := time.Now()
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				_, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount(fmt.Sprint(1000+i)))
				assert.NoError(t, err)
			})
		}
		synctest.Wait()
		assert.Equal(t, 2.0, testutil.ToFloat64(m.InFlight.WithLabelValues(unitID)), "ucm_gateway_ucm_in_flight while saturated")
		wg.Wait()
		assert.EqualValues(t, 2, rt.peak.Load(), "the unit saw more concurrent requests than MaxInFlight")
		assert.Equal(t, 3*time.Second, time.Since(start), "6 one-second calls through 2 slots take 3 seconds")
		assert.Zero(t, testutil.ToFloat64(m.InFlight.WithLabelValues(unitID)))
	})
}

func TestWaitingForASlotEndsAtTheDeadline(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		params  map[string]any
		wantErr func(t *testing.T, err error)
	}{
		{
			name: "write", action: "updateSIPAccount", params: map[string]any{"extension": "1001", harmlessEdit: "ring4"},
			wantErr: func(t *testing.T, err error) {
				assert.Contains(t, requireUnavailable(t, err).Reason, "slot")
			},
		},
		{
			// A read waits on a flight detached from its own deadline, so it sees the deadline itself.
			name: "read", action: "getSystemStatus",
			wantErr: func(t *testing.T, err error) { assert.ErrorIs(t, err, context.DeadlineExceeded) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sim := simOn(ucmsim.Config{})
				client, rt := inProcessClient(sim)
				p, _ := newPool(t, Options{MaxInFlight: 1, RequestTimeout: time.Minute}, client, simPassword)
				defer p.Close(context.Background())
				_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
				require.NoError(t, err)

				// One slow read holds the only slot for 30 seconds.
				rt.delayReplies("getSIPAccount", 30*time.Second)
				var wg sync.WaitGroup
				defer wg.Wait()
				wg.Go(func() {
					_, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
					assert.NoError(t, err)
				})
				synctest.Wait()

				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err = p.Do(ctx, unitID, tc.action, tc.params)
				cancel()
				require.Error(t, err, "the request got a slot the slow call was holding")
				tc.wantErr(t, err)
				assert.Equal(t, 2*time.Second, time.Since(start), "the request must give up at its own deadline")

				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(time.Second, cancel)
				_, err = p.Do(ctx, unitID, tc.action, tc.params)
				require.ErrorIs(t, err, context.Canceled, "a client hanging up is not the unit being unavailable")
				var unav *UnavailableError
				assert.NotErrorAs(t, err, &unav)
			})
		})
	}
}

func TestSlowCallsHitTheirDeadline(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		wantErr  error
		wantTook time.Duration
	}{
		{name: "request timeout", opts: Options{RequestTimeout: 5 * time.Second}, wantErr: ucm.ErrTimeout, wantTook: 5 * time.Second},
		{name: "longer deadline for this action", opts: Options{RequestTimeout: 5 * time.Second, ActionTimeouts: map[string]time.Duration{"getSIPAccount": time.Minute}}, wantTook: 20 * time.Second},
		{name: "other actions' deadline does not apply", opts: Options{RequestTimeout: 5 * time.Second, ActionTimeouts: map[string]time.Duration{"applyChanges": time.Minute}}, wantErr: ucm.ErrTimeout, wantTook: 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sim := simOn(ucmsim.Config{})
				client, _ := inProcessClient(sim)
				p, m := newPool(t, tc.opts, client, simPassword)
				defer p.Close(context.Background())
				_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
				require.NoError(t, err)
				sim.SetLatency(20 * time.Second)

				start := time.Now()
				_, err = p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
				assert.Equal(t, tc.wantTook, time.Since(start))
				if tc.wantErr == nil {
					require.NoError(t, err)
					return
				}
				require.ErrorIs(t, err, tc.wantErr)
				assert.Equal(t, 1.0, testutil.ToFloat64(m.UCMCalls.WithLabelValues(unitID, "getSIPAccount", "timeout")))
			})
		})
	}
}
