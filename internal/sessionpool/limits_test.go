package sessionpool

import (
	"context"
	"errors"
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

func requireRefused(t *testing.T, err error, kind Refusal) *UnavailableError {
	t.Helper()
	var unav *UnavailableError
	require.ErrorAs(t, err, &unav, "want the pool to refuse (%s), got %v", kind, err)
	require.Equal(t, kind, unav.Kind, "refused for another reason: %v", err)
	return unav
}

// write is a harmless write: never coalesced and never retried, so each one is one call.
func write(p *Pool, unit string) error {
	_, err := p.Do(context.Background(), unit, "updateSIPAccount", map[string]any{"extension": "1000", harmlessEdit: "ring4"})
	return err
}

func TestBreakerTripsOnTransportFailuresNotOnTheUnitsAnswers(t *testing.T) {
	tests := []struct {
		name     string
		inject   func(sim *ucmsim.UCM, rt *simTransport)
		wantErr  error
		wantOpen bool
	}{
		{name: "invalid value -15", inject: func(sim *ucmsim.UCM, _ *simTransport) { sim.FailNext(100, -15) }, wantErr: ucm.StatusInvalidValue},
		{name: "no such item -16", inject: func(sim *ucmsim.UCM, _ *simTransport) { sim.SetActionError("updateSIPAccount", -16) }, wantErr: ucm.StatusNoSuchItem},
		{name: "abnormal system error -9", inject: func(sim *ucmsim.UCM, _ *simTransport) { sim.FailNext(100, -9) }, wantErr: ucm.StatusSystemError},
		{name: "system timeout -8", inject: func(sim *ucmsim.UCM, _ *simTransport) { sim.FailNext(100, -8) }, wantErr: ucm.StatusSystemTimeout},
		{name: "unreachable", inject: func(_ *ucmsim.UCM, rt *simTransport) { rt.down.Store(true) }, wantErr: ucm.ErrTransport, wantOpen: true},
		{name: "timeout", inject: func(sim *ucmsim.UCM, _ *simTransport) { sim.StallRequests() }, wantErr: ucm.ErrTimeout, wantOpen: true},
		{name: "HTML page instead of the API", inject: func(sim *ucmsim.UCM, _ *simTransport) { sim.FailNextHTML(100) }, wantErr: ucm.ErrNotJSON, wantOpen: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sim := simOn(ucmsim.Config{})
				client, rt := inProcessClient(sim)
				p, _ := newPool(t, Options{BreakerFailures: 3, CallTimeout: time.Second}, client, simPassword)
				defer p.Close(context.Background())
				require.NoError(t, write(p, unitID))
				tc.inject(sim, rt)
				for i := range 3 {
					require.ErrorIs(t, write(p, unitID), tc.wantErr, "write %d", i+1)
				}
				trips := rt.trips.Load()
				err := write(p, unitID)
				if !tc.wantOpen {
					require.ErrorIs(t, err, tc.wantErr, "the unit answered every time: it is up, and its answer is the client's")
					assert.Equal(t, "closed", breakerOf(t, p))
					assert.Equal(t, trips+1, rt.trips.Load())
					return
				}
				requireRefused(t, err, RefusedBreakerOpen)
				assert.ErrorIs(t, err, tc.wantErr, "the refusal names the failure that opened the breaker")
				assert.Equal(t, "open", breakerOf(t, p))
				assert.Equal(t, trips, rt.trips.Load(), "an open breaker sends nothing")
				sim.Resume()
			})
		})
	}
}

func TestBreakerProbesSoonAndLessOftenWhileTheUnitStaysDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, rt := inProcessClient(sim)
		p, m := newPool(t, Options{BreakerFailures: 2, BreakerOpen: 2 * time.Second, BreakerOpenMax: 8 * time.Second}, client, simPassword)
		defer p.Close(context.Background())
		gauge := func() float64 { return testutil.ToFloat64(m.BreakerState.WithLabelValues(unitID)) }
		read := func() error {
			_, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
			return err
		}
		require.NoError(t, read())

		rt.down.Store(true)
		require.ErrorIs(t, write(p, unitID), ucm.ErrTransport)
		require.ErrorIs(t, write(p, unitID), ucm.ErrTransport)
		assert.Equal(t, "open", breakerOf(t, p))
		assert.Equal(t, 2.0, gauge(), "ucm_gateway_breaker_state must say open (2)")
		st, _ := p.Unit(unitID)
		assert.Equal(t, time.Now().Add(2*time.Second), st.BreakerRetryAt, "the status says when the next probe goes")

		// Open periods grow while the probes fail, up to the cap.
		trips := rt.trips.Load()
		for i, open := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
			for range 5 {
				unav := requireRefused(t, read(), RefusedBreakerOpen)
				assert.Equal(t, open, unav.RetryAfter, "open period %d", i+1)
			}
			assert.Equal(t, trips, rt.trips.Load(), "requests reached the network while the breaker was open")
			time.Sleep(open)
			assert.Equal(t, "half_open", breakerOf(t, p))
			require.ErrorIs(t, read(), ucm.ErrTransport, "the probe after %s reaches the unit", open)
			trips++
			assert.Equal(t, trips, rt.trips.Load(), "exactly one probe, and a failed probe is not retried")
		}

		// The unit comes back: the next probe, at most 8s later, closes the breaker. While the
		// probe is in flight, other requests still fail fast.
		rt.down.Store(false)
		back := time.Now()
		time.Sleep(8 * time.Second)
		rt.delayReplies("getSIPAccount", time.Second)
		var wg sync.WaitGroup
		wg.Go(func() { assert.NoError(t, read(), "the probe after the outage") })
		synctest.Wait()
		assert.Equal(t, 1.0, gauge(), "ucm_gateway_breaker_state must say half-open (1)")
		requireRefused(t, write(p, unitID), RefusedBreakerOpen)
		wg.Wait()
		assert.LessOrEqual(t, time.Since(back), 10*time.Second, "a unit that is back is served again within about 10 s")
		assert.Equal(t, "closed", breakerOf(t, p))
		assert.Equal(t, 0.0, gauge())
		require.NoError(t, write(p, unitID))
		assert.Equal(t, 1, sim.Counters().Logins, "the session survived the outage")

		// The next outage starts again from the first period.
		rt.down.Store(true)
		require.Error(t, write(p, unitID))
		require.Error(t, write(p, unitID))
		assert.Equal(t, 2*time.Second, requireRefused(t, read(), RefusedBreakerOpen).RetryAfter)
	})
}

func TestInFlightRequestsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, rt := inProcessClient(sim)
		p, m := newPool(t, Options{MaxInFlight: 2, SlotWait: 10 * time.Second}, client, simPassword)
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

// A stalled unit holds at most MaxInFlight requests; the rest are refused after SlotWait, not
// after the request deadline, and the other units of the pool do not notice.
func TestFullBulkheadRefusesFastAndSparesOtherUnits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sick, healthy := simOn(ucmsim.Config{}), simOn(ucmsim.Config{})
		sickClient, sickRT := inProcessClient(sick)
		healthyClient, _ := inProcessClient(healthy)
		p, m := newMultiPool(t, Options{MaxInFlight: 2, SlotWait: time.Second, RequestTimeout: 15 * time.Second, CallTimeout: 10 * time.Second},
			map[string]Caller{"sick": sickClient, "healthy": healthyClient})
		defer p.Close(context.Background())
		for _, id := range []string{"sick", "healthy"} {
			_, err := p.Do(context.Background(), id, "getSystemStatus", nil)
			require.NoError(t, err)
		}
		sick.ResetPeak()
		sick.StallRequests()

		var held sync.WaitGroup
		for i := range 2 {
			held.Go(func() {
				_, err := p.Do(context.Background(), "sick", "getSIPAccount", sipAccount(fmt.Sprint(1000+i)))
				assert.ErrorIs(t, err, ucm.ErrTimeout, "a stalled call ends at the call timeout")
			})
		}
		synctest.Wait()

		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				start := time.Now()
				_, err := p.Do(context.Background(), "sick", "getSIPAccount", sipAccount(fmt.Sprint(1002+i)))
				unav := requireRefused(t, err, RefusedOverloaded)
				assert.Equal(t, time.Second, time.Since(start), "refused after SlotWait, not the request deadline")
				assert.Equal(t, time.Second, unav.RetryAfter)
			})
			wg.Go(func() {
				start := time.Now()
				_, err := p.Do(context.Background(), "healthy", "getSIPAccount", sipAccount(fmt.Sprint(1000+i)))
				assert.NoError(t, err, "the other unit answers normally")
				assert.Zero(t, time.Since(start), "and at once")
			})
		}
		wg.Wait()
		assert.LessOrEqual(t, sick.Counters().PeakInFlight, 2, "the stalled unit never saw more than the bulkhead")
		assert.EqualValues(t, 2, sickRT.peak.Load())
		assert.Equal(t, 6.0, testutil.ToFloat64(m.Refusals.WithLabelValues("sick", "overloaded")), "ucm_gateway_unit_refusals_total{reason=overloaded}")
		held.Wait()
		sick.Resume()
	})
}

// Whatever happens on the way (a slow login, a rejected cookie, a stalled call), a request ends
// by its deadline.
func TestClientNeverWaitsLongerThanTheRequestDeadline(t *testing.T) {
	tests := []struct {
		name    string
		warm    bool
		arrange func(sim *ucmsim.UCM, rt *simTransport)
	}{
		{name: "slow login, then a stalled call", arrange: func(sim *ucmsim.UCM, rt *simTransport) {
			rt.delayReplies("login", 2500*time.Millisecond)
			rt.delayReplies("getSIPAccount", time.Hour)
		}},
		{name: "stalled login", arrange: func(sim *ucmsim.UCM, rt *simTransport) {
			rt.delayReplies("login", time.Hour)
		}},
		{name: "rejected cookie, slow re-login, stalled retry", warm: true, arrange: func(sim *ucmsim.UCM, rt *simTransport) {
			sim.FailNext(1, -6)
			rt.delayReplies("login", 2*time.Second)
			rt.delayReplies("getSIPAccount", time.Hour)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sim := simOn(ucmsim.Config{})
				client, rt := inProcessClient(sim)
				p, _ := newPool(t, Options{RequestTimeout: 5 * time.Second, CallTimeout: 3 * time.Second}, client, simPassword)
				defer p.Close(context.Background())
				if tc.warm {
					_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
					require.NoError(t, err)
				}
				tc.arrange(sim, rt)
				start := time.Now()
				_, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
				require.Error(t, err)
				assert.True(t, isTimeout(err), "want a timeout, got %v", err)
				assert.LessOrEqual(t, time.Since(start), 5*time.Second, "the request outlived its deadline")
			})
		})
	}
}

func TestSlowCallsHitTheirDeadline(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		wantErr  bool
		wantTook time.Duration
	}{
		{name: "call timeout", opts: Options{RequestTimeout: 15 * time.Second, CallTimeout: 5 * time.Second}, wantErr: true, wantTook: 5 * time.Second},
		{name: "request timeout shorter than the call timeout", opts: Options{RequestTimeout: 4 * time.Second, CallTimeout: 10 * time.Second}, wantErr: true, wantTook: 4 * time.Second},
		{name: "longer deadline for this action", opts: Options{RequestTimeout: 5 * time.Second, ActionTimeouts: map[string]time.Duration{"getSIPAccount": time.Minute}}, wantTook: 20 * time.Second},
		{name: "other actions' deadline does not apply", opts: Options{RequestTimeout: 5 * time.Second, ActionTimeouts: map[string]time.Duration{"applyChanges": time.Minute}}, wantErr: true, wantTook: 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sim := simOn(ucmsim.Config{})
				client, rt := inProcessClient(sim)
				p, m := newPool(t, tc.opts, client, simPassword)
				defer p.Close(context.Background())
				_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
				require.NoError(t, err)
				sim.SetLatency(20 * time.Second)
				trips := rt.trips.Load()

				start := time.Now()
				_, err = p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
				assert.Equal(t, tc.wantTook, time.Since(start))
				if !tc.wantErr {
					require.NoError(t, err)
					return
				}
				require.True(t, isTimeout(err), "want a timeout, got %v", err)
				assert.Equal(t, trips+1, rt.trips.Load(), "a timed-out read is not tried again")
				if tc.opts.CallTimeout > 0 && tc.opts.CallTimeout < tc.opts.RequestTimeout {
					assert.Equal(t, 1.0, testutil.ToFloat64(m.UCMCalls.WithLabelValues(unitID, "getSIPAccount", "timeout")))
				}
			})
		})
	}
}

// isTimeout: the request ran out of time, whether its own call's deadline or the request's fired
// first (a shared read's caller may see either; both are a 504 to the client).
func isTimeout(err error) bool {
	return errors.Is(err, ucm.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}
