package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
)

// get sends one request and drains the answer; it returns the status.
func get(c *http.Client, method, url, ctype, body string) (int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return do(c, req)
}

// do sends req and reads the whole answer; it returns the status.
func do(c *http.Client, req *http.Request) (int, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// MixedResult is a mixed run's load on the unit.
type MixedResult struct {
	Requests, Reads, Writes, Failed int
	UCMCalls, Logins, Challenges    int
	CookieExpiries                  int
	Clients                         int
}

// Mixed runs clients concurrent clients for n requests in all against one simulated unit: nine
// reads in ten (an extension, a page of extensions, the calls list), one write in ten (PATCH an
// extension), and the unit forgetting every cookie at a third and at two thirds of the run (the
// UCM's cookie expiring). It counts what reached the unit.
func Mixed(n, clients int) (MixedResult, error) {
	res := MixedResult{Clients: clients}
	sim, st, stop, err := simStack(StackOptions{Pool: sessionpool.Options{ListFreshness: time.Second}})
	if err != nil {
		return res, err
	}
	defer stop()
	c := st.Client(clients)
	base := st.Server.URL + "/v1/units/sim"
	var next, failed, writes atomic.Int64
	var expire sync.Once
	var expire2 sync.Once
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				switch {
				case i == n/3:
					expire.Do(sim.ExpireCookies)
				case i == 2*n/3:
					expire2.Do(sim.ExpireCookies)
				}
				var code int
				var err error
				switch i % 10 {
				case 0:
					writes.Add(1)
					code, err = get(c, http.MethodPatch, base+"/extensions/1001", "application/merge-patch+json",
						fmt.Sprintf(`{"max_contacts":%d}`, i%10+1))
				case 1, 2, 3:
					code, err = get(c, http.MethodGet, base+"/extensions?page_size=20", "", "")
				case 4, 5:
					code, err = get(c, http.MethodGet, base+"/calls", "", "")
				default:
					code, err = get(c, http.MethodGet, base+"/extensions/1000", "", "")
				}
				if err != nil || code >= 300 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	cnt := sim.Counters()
	res.Requests, res.Writes, res.Failed = n, int(writes.Load()), int(failed.Load())
	res.Reads = n - res.Writes
	res.UCMCalls = sim.TotalCalls() - cnt.Challenges - cnt.Logins - cnt.FailedLogins
	res.Logins, res.Challenges, res.CookieExpiries = cnt.Logins, cnt.Challenges, 2
	return res, nil
}

// BurstResult is n concurrent identical requests and what reached the unit.
type BurstResult struct {
	Requests, Failed        int
	Challenges, Logins      int
	Calls                   int // of the read's action
	CoalescedReportedByPool float64
}

// ColdStart sends n concurrent GET …/extensions/1000 to a unit the gateway has never contacted.
func ColdStart(n int) (BurstResult, error) { return burst(n, false) }

// Coalescing sends n concurrent identical reads to a warm unit that takes 20 ms to answer.
func Coalescing(n int) (BurstResult, error) { return burst(n, true) }

func burst(n int, warm bool) (BurstResult, error) {
	res := BurstResult{Requests: n}
	sim, st, stop, err := simStack(StackOptions{})
	if err != nil {
		return res, err
	}
	defer stop()
	c := st.Client(n)
	url := st.Server.URL + "/v1/units/sim/extensions/1000"
	if warm {
		if _, err := get(c, http.MethodGet, st.Server.URL+"/v1/units/sim/system/status", "", ""); err != nil {
			return res, err
		}
		sim.SetLatency(20 * time.Millisecond)
	}
	before := sim.Counters()
	start := make(chan struct{})
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			if code, err := get(c, http.MethodGet, url, "", ""); err != nil || code != http.StatusOK {
				failed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	after := sim.Counters()
	res.Failed = int(failed.Load())
	res.Challenges, res.Logins = after.Challenges-before.Challenges, after.Logins-before.Logins
	res.Calls = sim.Calls("getSIPAccount")
	return res, nil
}

// FanOutResult is the unit's load under many pollers and many event subscribers.
type FanOutResult struct {
	Pollers             int
	PollFor             time.Duration
	Polls, PollFailures int
	PollUCMCallsPerSec  float64
	Subscribers         int
	SubscribedFor       time.Duration
	Connected           int
	SSEUCMCallsPerSec   float64
	SourcesRunning      float64
	PollInterval        time.Duration
}

// FanOut has pollers clients poll GET …/calls once a second for d (the 1 s freshness window on),
// then subs clients follow GET …/events for d (the poll source, one per unit): it counts the
// channel-list calls that reached the unit per second in each case.
func FanOut(pollers, subs int, d time.Duration) (FanOutResult, error) {
	res := FanOutResult{Pollers: pollers, PollFor: d, Subscribers: subs, SubscribedFor: d, PollInterval: 2 * time.Second}
	sim, st, stop, err := simStack(StackOptions{
		Pool: sessionpool.Options{ListFreshness: time.Second},
		Events: func(pool *sessionpool.Pool, m *metrics.Metrics, logger *slog.Logger) *events.Set {
			so := events.SourceOptions{Unit: "sim", Upstream: pool, Logger: logger, Metrics: m}
			return events.NewSet(events.NewHub("sim", events.NewPoller(so, res.PollInterval), events.HubOptions{Logger: logger, Metrics: m}))
		},
	})
	if err != nil {
		return res, err
	}
	defer stop()
	lists := func() int { return sim.Calls("listBridgedChannels") + sim.Calls("listUnBridgedChannels") }

	c := st.Client(pollers)
	url := st.Server.URL + "/v1/units/sim/calls"
	if _, err := get(c, http.MethodGet, url, "", ""); err != nil { // warm: the session
		return res, err
	}
	time.Sleep(1100 * time.Millisecond)
	before := lists()
	began := time.Now()
	var polls, failures atomic.Int64
	var wg sync.WaitGroup
	for i := range pollers {
		wg.Go(func() {
			// Spread over the second, as independent clients are.
			time.Sleep(time.Duration(i) * time.Second / time.Duration(pollers))
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for time.Since(began) < d {
				polls.Add(1)
				if code, err := get(c, http.MethodGet, url, "", ""); err != nil || code != http.StatusOK {
					failures.Add(1)
				}
				<-t.C
			}
		})
	}
	wg.Wait()
	res.PollUCMCallsPerSec = float64(lists()-before) / time.Since(began).Seconds()
	res.Polls, res.PollFailures = int(polls.Load()), int(failures.Load())

	// SSE: subscribers follow the unit's events for d.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sc := st.Client(subs)
	var connected atomic.Int64
	var swg sync.WaitGroup
	for range subs {
		swg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, st.Server.URL+"/v1/units/sim/events", nil)
			resp, err := sc.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				connected.Add(1)
			}
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
			}
		})
	}
	time.Sleep(time.Second) // everyone connected, the source started
	before = lists()
	t0 := time.Now()
	time.Sleep(d)
	res.SSEUCMCallsPerSec = float64(lists()-before) / time.Since(t0).Seconds()
	res.Connected = int(connected.Load())
	res.SourcesRunning = gaugeValue(st.Metrics, "ucm_gateway_event_source_up")
	cancel()
	swg.Wait()
	return res, nil
}

// gaugeValue sums a gauge's series.
func gaugeValue(m *metrics.Metrics, name string) float64 {
	fams, err := m.Registry.Gather()
	if err != nil {
		return -1
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() == name {
			for _, s := range f.GetMetric() {
				sum += s.GetGauge().GetValue()
			}
		}
	}
	return sum
}
