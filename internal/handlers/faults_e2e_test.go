package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
)

// outcome is one kind of answer a fault may give, and how many of the burst may get it.
type outcome struct {
	status   int
	typ      string
	min, max int
	retry    int // when set: the Retry-After every such answer carries, in seconds
	ucm      int // when set: the ucm_status every such answer carries
}

// faultCase is one fault played against unit "sick": what is injected, what the clients send,
// what they get, and how much of it reached the unit.
type faultCase struct {
	name     string
	inject   func(f *faultEnv)
	method   string
	path     func(i int) string // request i of the burst
	body     string
	n        int  // requests in the burst
	serial   bool // one after another (the order of outcomes matters) instead of all at once
	want     []outcome
	maxCalls int // most requests the unit may receive for the burst (logins excluded); -1: not checked
	after    func(t *testing.T, f *faultEnv)
	tune     func(o *sessionpool.Options) // changes to faultOptions for this case
}

// Statuses whose answers must say when to come back.
var needsRetryAfter = map[string]bool{"unit-overloaded": true, "unit-unavailable": true, "unit-unreachable": true, "unit-rate-limited": true}

func extPath(i int) string { return fmt.Sprintf("/v1/units/sick/extensions/%d", 1000+i%6) }
func samePath(int) string  { return "/v1/units/sick/extensions/1001" }

const patchBody = `{"alertinfo":"ring5"}`

func faultCases() []faultCase {
	return []faultCase{
		{
			name:   "stall: the bulkhead's requests time out, the rest are refused at once",
			inject: func(f *faultEnv) { f.sick.sim.StallRequests() },
			method: http.MethodGet, path: extPath, n: 6,
			want:     []outcome{{status: 504, typ: "unit-timeout", min: 2, max: 2}, {status: 503, typ: "unit-overloaded", min: 4, max: 4, retry: 1}},
			maxCalls: 2,
		},
		{
			name:   "stall while answering a write: outcome unknown, not retried",
			inject: func(f *faultEnv) { f.sick.sim.StallReplies() },
			method: http.MethodPatch, path: samePath, body: patchBody, n: 1,
			want:     []outcome{{status: 504, typ: "unit-write-outcome-unknown", min: 1, max: 1}},
			maxCalls: 1,
			after: func(t *testing.T, f *faultEnv) {
				f.sick.sim.Resume()
				rec, _ := f.sick.sim.Extension("1001")
				assert.Equal(t, "ring5", rec["alertinfo"], "the write whose answer was lost did happen: the client was right to check")
			},
		},
		{
			name:   "slow, within the call timeout: answered",
			inject: func(f *faultEnv) { f.sick.sim.SetLatency(300 * time.Millisecond) },
			method: http.MethodGet, path: extPath, n: 2,
			want:     []outcome{{status: 200, typ: "", min: 2, max: 2}},
			maxCalls: 2,
		},
		{
			name:   "identical reads share one call",
			inject: func(f *faultEnv) { f.sick.sim.SetLatency(300 * time.Millisecond) },
			method: http.MethodGet, path: samePath, n: 10,
			want:     []outcome{{status: 200, typ: "", min: 10, max: 10}},
			maxCalls: 2, // one shared call; a straggler may start a second
		},
		{
			name:   "refused connections: unreachable, then the breaker fails fast",
			inject: func(f *faultEnv) { f.sick.srv.RefuseConnections() },
			// A breaker that stays open while the test looks at it.
			tune:   func(o *sessionpool.Options) { o.BreakerOpen, o.BreakerOpenMax = 5*time.Second, 5*time.Second },
			method: http.MethodGet, path: extPath, n: 6, serial: true,
			want:     []outcome{{status: 503, typ: "unit-unreachable", min: 1, max: 2, retry: 5}, {status: 503, typ: "unit-unavailable", min: 4, max: 5, retry: 5}},
			maxCalls: 0,
			after: func(t *testing.T, f *faultEnv) {
				got := testutil.ToFloat64(f.metrics.UCMCalls.WithLabelValues("sick", "getSIPAccount", "transport"))
				assert.LessOrEqual(t, got, float64(f.opts.BreakerFailures), "connection attempts: a read retries once, then the breaker stops them")
				var unit struct {
					Breaker        string  `json:"breaker"`
					BreakerRetryAt *string `json:"breaker_retry_at"`
					MaxInFlight    int     `json:"max_in_flight"`
				}
				a := f.send(t, http.MethodGet, "/v1/units/sick", "")
				require.NoError(t, json.Unmarshal([]byte(a.body), &unit), a.body)
				assert.Equal(t, "open", unit.Breaker, "GET /v1/units/{unit} shows the breaker")
				assert.NotNil(t, unit.BreakerRetryAt, "and when it will next try the unit")
				assert.Equal(t, 2, unit.MaxInFlight)
				assert.Equal(t, 2.0, testutil.ToFloat64(f.metrics.BreakerState.WithLabelValues("sick")), "ucm_gateway_breaker_state says open")
				assert.Equal(t, 0.0, testutil.ToFloat64(f.metrics.BreakerState.WithLabelValues("healthy")))
			},
		},
		{
			name: "refused connection on a write: not sent, so not unknown",
			inject: func(f *faultEnv) {
				f.sick.srv.RefuseConnections()
				// The port closing also closes the gateway's idle keep-alive connection; a write
				// sent on it before the gateway has read that close could have been received, so
				// it is rightly "unknown". This case is about a connection the unit refuses, so
				// let the close arrive first.
				time.Sleep(100 * time.Millisecond)
			},
			method: http.MethodPatch, path: samePath, body: patchBody, n: 1,
			want:     []outcome{{status: 503, typ: "unit-unreachable", min: 1, max: 1, retry: 5}},
			maxCalls: 0,
		},
		{
			name:   "HTML error page: bad reply, then the breaker",
			inject: func(f *faultEnv) { f.sick.sim.FailNextHTML(100) },
			tune:   func(o *sessionpool.Options) { o.BreakerOpen, o.BreakerOpenMax = 5*time.Second, 5*time.Second },
			method: http.MethodGet, path: extPath, n: 5, serial: true,
			want:     []outcome{{status: 502, typ: "unit-bad-reply", min: 3, max: 3}, {status: 503, typ: "unit-unavailable", min: 2, max: 2, retry: 5}},
			maxCalls: 3,
		},
		{
			name:   "truncated reply to a read: tried once more",
			inject: func(f *faultEnv) { f.sick.sim.TruncateNext(1) },
			method: http.MethodGet, path: samePath, n: 1,
			want:     []outcome{{status: 200, typ: "", min: 1, max: 1}},
			maxCalls: 2,
		},
		{
			name:   "truncated reply to a write: outcome unknown",
			inject: func(f *faultEnv) { f.sick.sim.TruncateNext(1) },
			method: http.MethodPatch, path: samePath, body: patchBody, n: 1,
			want:     []outcome{{status: 504, typ: "unit-write-outcome-unknown", min: 1, max: 1}},
			maxCalls: 1,
		},
		{
			name:   "too frequent -45: 429 and a 15 s pause",
			inject: func(f *faultEnv) { f.sick.sim.RateLimit(-45, time.Minute) },
			method: http.MethodGet, path: extPath, n: 4, serial: true,
			want:     []outcome{{status: 429, typ: "unit-rate-limited", min: 4, max: 4, retry: 15, ucm: -45}},
			maxCalls: 1,
			after: func(t *testing.T, f *faultEnv) {
				a := f.send(t, http.MethodGet, "/v1/units/sick", "")
				assert.Contains(t, a.body, `"paused_until":"`, "the unit's state shows the pause")
			},
		},
		{
			name:   "too frequent -57: 429 and a 60 s pause",
			inject: func(f *faultEnv) { f.sick.sim.RateLimit(-57, time.Minute) },
			method: http.MethodPatch, path: samePath, body: patchBody, n: 3, serial: true,
			want:     []outcome{{status: 429, typ: "unit-rate-limited", min: 3, max: 3, retry: 60, ucm: -57}},
			maxCalls: 1,
		},
		{
			name:   "reboot: one re-login, nobody notices",
			inject: func(f *faultEnv) { f.sick.srv.Reboot() },
			method: http.MethodGet, path: extPath, n: 6,
			want:     []outcome{{status: 200, typ: "", min: 6, max: 6}},
			maxCalls: -1,
			after: func(t *testing.T, f *faultEnv) {
				assert.Equal(t, 2, f.sick.sim.Counters().Logins, "exactly one re-login after the reboot")
			},
		},
	}
}

// TestFaults plays every fault against one unit while the other is in use, over TLS to the
// simulator and HTTP through the real router: what the client gets (status, problem type,
// Retry-After), how much reached the unit (never more than the bulkhead at once, no retry
// storm), that the other unit answered normally throughout, and that nothing leaked.
func TestFaults(t *testing.T) {
	for _, tc := range faultCases() {
		t.Run(tc.name, func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			t.Run("play", func(t *testing.T) { playFault(t, tc) })
			goleak.VerifyNone(t, before)
		})
	}
}

func playFault(t *testing.T, tc faultCase) {
	opts := faultOptions()
	if tc.tune != nil {
		tc.tune(&opts)
	}
	f := newFaultEnv(t, opts, nil)
	f.warm(t)
	f.sick.sim.ResetPeak()
	f.sick.calls.peak.Store(0)
	callsBefore := f.sick.sim.TotalCalls()

	// The other unit is used all along; it must not notice.
	stop := make(chan struct{})
	var healthy sync.WaitGroup
	var healthyOK, healthyBad atomic.Int64
	for w := range 2 {
		healthy.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				a := f.send(t, http.MethodGet, fmt.Sprintf("/v1/units/healthy/extensions/%d", 1000+(w+i)%6), "")
				if a.status == http.StatusOK && a.took < time.Second {
					healthyOK.Add(1)
				} else {
					healthyBad.Add(1)
					t.Errorf("the healthy unit answered %d in %s: %s", a.status, a.took, a.body)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}

	tc.inject(f)
	var answers []answer
	if tc.serial {
		for i := range tc.n {
			answers = append(answers, f.send(t, tc.method, tc.path(i), tc.body))
		}
	} else {
		answers = f.burst(t, tc.n, tc.method, tc.path, tc.body)
	}
	close(stop)
	healthy.Wait()

	counts := map[int]int{}
	for i, a := range answers {
		k := -1
		for j, o := range tc.want {
			if a.status == o.status && a.typ == o.typ {
				k = j
			}
		}
		require.NotEqual(t, -1, k, "answer %d is %d %q, not one this fault may give: %s", i, a.status, a.typ, a.body)
		counts[k]++
		if o := tc.want[k]; o.retry > 0 {
			assert.Equal(t, strconv.Itoa(o.retry), a.retryAfter, "answer %d (%s) Retry-After", i, a.typ)
		}
		if o := tc.want[k]; o.ucm != 0 {
			if assert.NotNil(t, a.ucmStatus, "answer %d (%s) names the unit's status", i, a.typ) {
				assert.Equal(t, o.ucm, *a.ucmStatus)
			}
		}
		if needsRetryAfter[a.typ] {
			secs, err := strconv.Atoi(a.retryAfter)
			assert.NoError(t, err, "answer %d (%s) must carry Retry-After in seconds", i, a.typ)
			assert.Positive(t, secs, "answer %d (%s) Retry-After", i, a.typ)
		}
		assert.Less(t, a.took, f.opts.RequestTimeout+time.Second, "answer %d took longer than the request deadline", i)
	}
	for j, o := range tc.want {
		assert.GreaterOrEqual(t, counts[j], o.min, "answers %d %q", o.status, o.typ)
		assert.LessOrEqual(t, counts[j], o.max, "answers %d %q", o.status, o.typ)
	}
	if tc.maxCalls >= 0 {
		assert.LessOrEqual(t, f.sick.sim.TotalCalls()-callsBefore, tc.maxCalls, "requests that reached the sick unit")
	}
	assert.LessOrEqual(t, f.sick.calls.peak.Load(), int64(f.opts.MaxInFlight), "the gateway had more calls open to the sick unit than the bulkhead allows")
	assert.LessOrEqual(t, f.sick.sim.Counters().PeakInFlight, f.opts.MaxInFlight, "the sick unit saw more requests at once than the bulkhead allows")
	assert.Positive(t, healthyOK.Load(), "the healthy unit was used during the fault")
	assert.Zero(t, healthyBad.Load())
	if tc.after != nil {
		tc.after(t, f)
	}
	f.sick.sim.Resume()
}

// A client that hangs up cancels its UCM work: the gateway drops the call to the unit at once,
// instead of holding a slot until the call's own deadline.
func TestClientHangingUpCancelsItsUCMWork(t *testing.T) {
	for _, tc := range []struct{ name, method, body string }{
		{"read", http.MethodGet, ""},
		{"write", http.MethodPatch, patchBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultEnv(t, faultOptions(), nil)
			f.warm(t)
			f.sick.sim.StallRequests()
			defer f.sick.sim.Resume()

			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			var rd io.Reader
			if tc.body != "" {
				rd = strings.NewReader(tc.body)
			}
			req, err := http.NewRequestWithContext(ctx, tc.method, f.srv.URL+"/v1/units/sick/extensions/1002", rd)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/merge-patch+json")
			start := time.Now()
			_, err = f.client.Do(req)
			require.ErrorIs(t, err, context.DeadlineExceeded, "the client gave up")

			require.Eventually(t, func() bool { return f.sick.sim.Counters().Abandoned == 1 && f.sick.sim.InFlight() == 0 },
				f.opts.CallTimeout, 5*time.Millisecond, "the unit's request must end when the client leaves")
			assert.Less(t, time.Since(start), f.opts.CallTimeout, "ended by the client leaving, not by the call timeout")
			st, err := f.pool.Unit("sick")
			require.NoError(t, err)
			assert.Zero(t, st.InFlight, "the slot is free again")
			assert.Equal(t, "closed", st.Breaker, "a client leaving is not the unit failing")
		})
	}
}
