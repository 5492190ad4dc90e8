package handlers

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// chaosLoad is what the clients of one unit saw.
type chaosLoad struct {
	mu       sync.Mutex
	statuses map[string]int // "200", "503 unit-overloaded", …
	sent     atomic.Int64
}

func (c *chaosLoad) add(a answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := fmt.Sprint(a.status)
	if a.typ != "" {
		k += " " + a.typ
	}
	c.statuses[k]++
}

func (c *chaosLoad) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.statuses {
		out[k] = v
	}
	return out
}

// TestChaos runs mixed load (reads, shared reads, writes) on two units while one of them
// reboots twice and stalls once. The issue asks for 30 seconds; this runs in about four, with
// the protections scaled to match (faultOptions: 1 s call timeout, 2 slots, a breaker that
// opens for 0.3 s growing to 1 s), in real time because the units are real TLS servers.
// The steady unit sees no error at all; the chaotic one costs one login per reboot, never more
// calls at once than its bulkhead, few calls while stalled, and serves again soon after each
// fault.
func TestChaos(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Run("play", playChaos)
	goleak.VerifyNone(t, before)
}

func playChaos(t *testing.T) {
	f := newFaultEnv(t, faultOptions(), nil)
	f.warm(t)
	steady, chaotic := f.healthy, f.sick
	chaotic.sim.ResetPeak()
	chaotic.calls.peak.Store(0)
	loads := map[string]*chaosLoad{steady.id: {statuses: map[string]int{}}, chaotic.id: {statuses: map[string]int{}}}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, unit := range []string{steady.id, chaotic.id} {
		for w := range 6 {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					method, path, body := http.MethodGet, fmt.Sprintf("/v1/units/%s/extensions/%d", unit, 1000+(w+i)%6), ""
					switch {
					case i%10 == 3:
						method, path, body = http.MethodPatch, fmt.Sprintf("/v1/units/%s/extensions/%d", unit, 1000+w), patchBody
					case i%4 == 0:
						path = "/v1/units/" + unit + "/system/status" // the same read from every worker: shared
					}
					loads[unit].sent.Add(1)
					loads[unit].add(f.send(t, method, path, body))
					time.Sleep(10 * time.Millisecond)
				}
			})
		}
	}

	// served waits until the chaotic unit answers a read again and returns how long it took.
	served := func() time.Duration {
		start := time.Now()
		require.Eventually(t, func() bool {
			return f.send(t, http.MethodGet, "/v1/units/"+chaotic.id+"/system/version", "").status == http.StatusOK
		}, 5*time.Second, 20*time.Millisecond, "the chaotic unit did not recover")
		return time.Since(start)
	}
	reboot := func() time.Duration {
		chaotic.srv.RefuseConnections()
		chaotic.sim.ForgetCookies()
		time.Sleep(400 * time.Millisecond)
		require.NoError(t, chaotic.srv.AcceptConnections())
		return served()
	}

	time.Sleep(300 * time.Millisecond)
	recovered := []time.Duration{reboot()}
	time.Sleep(300 * time.Millisecond)

	callsBefore, sentBefore := chaotic.sim.TotalCalls(), loads[chaotic.id].sent.Load()
	chaotic.sim.StallRequests()
	time.Sleep(1200 * time.Millisecond)
	callsDuringStall, sentDuringStall := chaotic.sim.TotalCalls()-callsBefore, loads[chaotic.id].sent.Load()-sentBefore
	chaotic.sim.Resume()
	recovered = append(recovered, served())
	time.Sleep(300 * time.Millisecond)

	recovered = append(recovered, reboot())
	time.Sleep(300 * time.Millisecond)
	stop()
	wg.Wait()

	steadySaw, chaoticSaw := loads[steady.id].snapshot(), loads[chaotic.id].snapshot()
	t.Logf("steady unit: %v", steadySaw)
	t.Logf("chaotic unit: %v; recovered after %v; %d calls reached it during the stall for %d requests", chaoticSaw, recovered, callsDuringStall, sentDuringStall)

	assert.Equal(t, map[string]int{"200": steadySaw["200"]}, steadySaw, "the steady unit's clients saw errors")
	assert.Positive(t, steadySaw["200"])

	for k := range chaoticSaw {
		switch k {
		case "200", "503 unit-unreachable", "503 unit-unavailable", "503 unit-overloaded", "504 unit-timeout", "504 unit-write-outcome-unknown":
		default:
			t.Errorf("the chaotic unit's clients got %q, which none of these faults should cause", k)
		}
	}
	assert.Positive(t, chaoticSaw["200"])
	assert.Equal(t, 3, chaotic.sim.Counters().Logins, "one login at the start and one per reboot")
	assert.Zero(t, chaotic.sim.Counters().FailedLogins)
	assert.LessOrEqual(t, chaotic.calls.peak.Load(), int64(f.opts.MaxInFlight), "the gateway never had more calls open to the unit than its bulkhead")
	// The unit counts a request until it notices its client left: right after the gateway gave up
	// on the stalled calls and sent the next ones, it may for a moment count both.
	assert.LessOrEqual(t, chaotic.sim.Counters().PeakInFlight, 2*f.opts.MaxInFlight, "the unit saw more at once than the bulkhead and the calls just abandoned")
	// While stalled, 2 slots hold calls for up to 1 s each, then the breaker lets one probe
	// through every 0.3-1 s: a handful of calls, however many requests the clients send.
	assert.LessOrEqual(t, callsDuringStall, 2*f.opts.MaxInFlight+2, "calls that reached the stalled unit")
	assert.Greater(t, sentDuringStall, int64(2*callsDuringStall), "the clients kept sending; the gateway kept the load off the unit")
	for i, d := range recovered {
		assert.Less(t, d, f.opts.BreakerOpenMax+f.opts.RequestTimeout, "recovery %d took longer than the breaker's longest period", i+1)
	}
	assert.Positive(t, testutil.ToFloat64(f.metrics.Refusals.WithLabelValues(chaotic.id, "breaker_open"))+
		testutil.ToFloat64(f.metrics.Refusals.WithLabelValues(chaotic.id, "overloaded")), "the gateway refused requests rather than pile them on the unit")
}
