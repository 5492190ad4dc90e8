package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// HopResult is one side of the hop comparison: the best of the rounds.
type HopResult struct {
	testing.BenchmarkResult
	CPUNsPerOp float64 // the process's CPU time (user+system, every goroutine) per request
}

// Hop measures GET /v1/units/u/extensions/1000 through the whole gateway against the canned
// upstream, and the same request through net/http/httputil.ReverseProxy to the same upstream:
// the cheapest hop Go has. Both run in this process, so both include the client's and the
// upstream's share alike. The two alternate for rounds rounds and each keeps its best (lowest
// ns/op): on a shared machine other work only ever adds time, so the best round is the
// closest to the code's own cost, and alternating exposes both to the same conditions.
//
// direct is the loop without a hop: the client posting the gateway's getSIPAccount request to
// the upstream itself, so what a hop adds is its figure less direct's.
func Hop(parallel bool, rounds int) (gw, proxy, direct HopResult, err error) {
	up := NewUpstream()
	defer up.Close()
	st, err := NewStack([]Unit{{ID: "u", URL: up.URL(), CertSHA256: CertPin(up.Server)}}, StackOptions{}, true)
	if err != nil {
		return gw, proxy, direct, err
	}
	defer st.Close()
	tr := up.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64 // as many as the gateway's own client may keep
	ps := httptest.NewServer(FixedPostProxy(up.URL(), tr))
	defer ps.Close()

	client := func() *http.Client { return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}} }
	gwc, pxc := client(), client()
	dc := &http.Client{Transport: up.Client().Transport.(*http.Transport).Clone()}
	best := func(r *HopResult, n HopResult) {
		if r.N == 0 || n.NsPerOp() < r.NsPerOp() {
			*r = n
		}
	}
	for range max(1, rounds) {
		best(&gw, run(gwc, http.MethodGet, st.Server.URL+"/v1/units/u/extensions/1000", "Bearer "+st.Key, parallel))
		best(&proxy, run(pxc, http.MethodGet, ps.URL+"/api", "", parallel))
		best(&direct, run(dc, http.MethodPost, up.URL()+"/api", "", parallel))
	}
	return gw, proxy, direct, nil
}

// directRequest is what the gateway sends the unit for the read (internal/ucm's encoding).
const directRequest = `{"request":{"action":"getSIPAccount","cookie":"sid1234567890-1652464570","extension":"1000"}}`

// FixedPostProxy is the cheapest hop Go has for the read: httputil.ReverseProxy receiving the
// GET and sending the upstream a fixed POST, the gateway's getSIPAccount request, whose reply
// it copies back. Nothing is checked, converted or shared.
func FixedPostProxy(upstream string, tr http.RoundTripper) *httputil.ReverseProxy {
	target, err := url.Parse(upstream)
	if err != nil {
		panic(err)
	}
	return &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.Path = "/api"
			pr.Out.Method = http.MethodPost
			pr.Out.Body = io.NopCloser(strings.NewReader(directRequest))
			pr.Out.ContentLength = int64(len(directRequest))
			pr.Out.Header.Set("Content-Type", "application/json;charset=UTF-8")
		},
	}
}

func run(c *http.Client, method, url, auth string, parallel bool) HopResult {
	one := func(b *testing.B) bool {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(directRequest)
		}
		req, err := http.NewRequest(method, url, body)
		if err != nil {
			b.Error(err)
			return false
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		}
		resp, err := c.Do(req)
		if err != nil {
			b.Error(err)
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("GET %s: %d", url, resp.StatusCode)
			return false
		}
		return true
	}
	r := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		if !one(b) { // warm: login, connections
			return
		}
		cpu := startCPU()
		b.ResetTimer()
		if parallel {
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !one(b) {
						return
					}
				}
			})
		} else {
			for b.Loop() {
				if !one(b) {
					return
				}
			}
		}
		cpu.report(b)
	})
	return HopResult{BenchmarkResult: r, CPUNsPerOp: r.Extra["cpu-ns/op"]}
}

// cpuMark is the process's CPU time at a point of a benchmark.
type cpuMark time.Duration

func startCPU() cpuMark { return cpuMark(processCPU()) }

// report adds cpu-ns/op, the process's CPU time per iteration since the mark: on a machine
// others share, wall time per op grows with their load, CPU per op much less.
func (m cpuMark) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-time.Duration(m))/float64(b.N), "cpu-ns/op")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
