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

	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// mixedRequest is request i of a burst: reads of different extensions, the system status, and now
// and then a harmless write, so the burst is not one coalesced read.
func mixedRequest(i int) (action string, params map[string]any) {
	ext := fmt.Sprint(1000 + i%6)
	switch {
	case i%25 == 0:
		return "updateSIPAccount", map[string]any{"extension": ext, harmlessEdit: "ring2"}
	case i%7 == 0:
		return "getSystemStatus", nil
	default:
		return "getSIPAccount", sipAccount(ext)
	}
}

// burst runs n mixed requests at once and returns the errors they got.
func burst(p *Pool, n int) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			action, params := mixedRequest(i)
			_, errs[i] = p.Do(context.Background(), unitID, action, params)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func requireNoErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		action, _ := mixedRequest(i)
		require.NoError(t, err, "request %d (%s) failed: a client would see an error for a healthy unit", i, action)
	}
}

func TestColdUnitBurstLogsInOnce(t *testing.T) {
	sim := simOn(ucmsim.Config{})
	p, _ := newPool(t, Options{}, httpsClient(t, sim), simPassword)
	closeAtEnd(t, p)

	requireNoErrors(t, burst(p, 200))

	c := sim.Counters()
	assert.Equal(t, 1, c.Challenges, "200 concurrent requests on a cold unit must share one challenge")
	assert.Equal(t, 1, c.Logins, "200 concurrent requests on a cold unit must share one login")
	assert.Zero(t, c.FailedLogins)
	assert.Positive(t, c.Calls["updateSIPAccount"], "the burst included writes")
	assert.Equal(t, StateReady, unitState(t, p))
}

func TestRebootedUnitIsReloggedOnceUnderLoad(t *testing.T) {
	sim := simOn(ucmsim.Config{})
	p, m := newPool(t, Options{}, httpsClient(t, sim), simPassword)
	closeAtEnd(t, p)
	_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
	require.NoError(t, err)

	sim.ForgetCookies() // the unit rebooted: the pool's cookie is now refused with -6
	requireNoErrors(t, burst(p, 100))

	c := sim.Counters()
	assert.Equal(t, 2, c.Logins, "a reboot must cost exactly one re-login, however many requests notice it")
	assert.Equal(t, 2, c.Challenges)
	st, err := p.Unit(unitID)
	require.NoError(t, err)
	assert.EqualValues(t, 2, st.Logins)
	assert.Equal(t, StateReady, st.State)
	assert.Equal(t, "closed", st.Breaker, "-6 replies prove the unit is up: they must not trip the breaker")
	assert.Zero(t, testutil.ToFloat64(m.Logins.WithLabelValues(unitID, "failure")), "no login failed")
	assert.Equal(t, 2.0, testutil.ToFloat64(m.Logins.WithLabelValues(unitID, "success")))
}

func TestCallerGivingUpDoesNotFailOthers(t *testing.T) {
	tests := []struct {
		name      string
		request   func(i int) (string, map[string]any)
		wantReads int // getSIPAccount calls the unit receives; 0: not checked
	}{
		// Different requests: everyone waits on the same login.
		{name: "waiting on the shared login", request: func(i int) (string, map[string]any) {
			return "getSIPAccount", sipAccount(fmt.Sprint(1000 + i%6))
		}},
		// Identical reads: everyone waits on the same coalesced call, started by the one who gives up.
		{name: "waiting on a coalesced read", wantReads: 1, request: func(int) (string, map[string]any) {
			return "getSIPAccount", sipAccount("1003")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := simOn(ucmsim.Config{})
			sim.SetLatency(200 * time.Millisecond)
			p, _ := newPool(t, Options{}, httpsClient(t, sim), simPassword)
			closeAtEnd(t, p)

			ctx, cancel := context.WithCancel(context.Background())
			first := make(chan error, 1)
			go func() {
				action, params := tc.request(0)
				_, err := p.Do(ctx, unitID, action, params)
				first <- err
			}()
			time.Sleep(5 * time.Millisecond) // let the first caller start the handshake

			var wg sync.WaitGroup
			errs := make([]error, 10)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					action, params := tc.request(i + 1)
					_, errs[i] = p.Do(context.Background(), unitID, action, params)
				}()
			}
			time.Sleep(15 * time.Millisecond)
			cancel()

			select {
			case err := <-first:
				require.ErrorIs(t, err, context.Canceled, "the caller that gave up must get its own cancellation")
			case <-time.After(300 * time.Millisecond): // the login alone takes 400ms
				t.Fatal("a cancelled caller kept waiting for the unit")
			}
			wg.Wait()
			for i, err := range errs {
				require.NoError(t, err, "caller %d failed because another caller gave up", i+1)
			}
			assert.Equal(t, 1, sim.Counters().Logins, "the login must survive the cancellation: no second login")
			assert.Equal(t, StateReady, unitState(t, p))
			if tc.wantReads > 0 {
				assert.Equal(t, tc.wantReads, sim.Calls("getSIPAccount"), "the shared read must go on for the others, once")
			}
		})
	}
}

func TestCancelledRequestIsNotABreakerFailure(t *testing.T) {
	for _, warm := range []bool{false, true} {
		name := map[bool]string{false: "hung up waiting for the login", true: "hung up during the call"}[warm]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sim := simOn(ucmsim.Config{})
				client, _ := inProcessClient(sim)
				p, _ := newPool(t, Options{BreakerFailures: 1}, client, simPassword)
				defer p.Close(context.Background())
				if warm {
					_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
					require.NoError(t, err)
				}
				sim.SetLatency(time.Second)

				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
				_, err := p.Do(ctx, unitID, "updateSIPAccount", map[string]any{"extension": "1000", harmlessEdit: "ring3"})
				require.ErrorIs(t, err, context.Canceled)

				_, err = p.Do(context.Background(), unitID, "getSystemStatus", nil)
				require.NoError(t, err, "a client hanging up must not open the breaker for everyone else")
				st, err := p.Unit(unitID)
				require.NoError(t, err)
				assert.Equal(t, "closed", st.Breaker)
			})
		})
	}
}
