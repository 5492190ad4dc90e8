package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

// Hop measures GET /v1/units/u/extensions/1000 through the whole gateway against the canned
// upstream, and the same request through net/http/httputil.ReverseProxy to the same upstream:
// the cheapest hop Go has. Both run in this process, so both include the client's and the
// upstream's share alike.
func Hop(parallel bool) (gw, proxy testing.BenchmarkResult, err error) {
	up := NewUpstream()
	defer up.Close()
	st, err := NewStack([]Unit{{ID: "u", URL: up.URL(), CertSHA256: CertPin(up.Server)}}, StackOptions{}, true)
	if err != nil {
		return gw, proxy, err
	}
	defer st.Close()
	target, _ := url.Parse(up.URL())
	rp := httputil.NewSingleHostReverseProxy(target)
	tr := up.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64 // as many as the gateway's own client may keep
	rp.Transport = tr
	ps := httptest.NewServer(rp)
	defer ps.Close()

	gw = run(st.Client(64), st.Server.URL+"/v1/units/u/extensions/1000", parallel)
	proxy = run(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, ps.URL+"/api", parallel)
	return gw, proxy, nil
}

func run(c *http.Client, url string, parallel bool) testing.BenchmarkResult {
	one := func(b *testing.B) bool {
		resp, err := c.Get(url)
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
	return testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		if !one(b) { // warm: login, connections
			return
		}
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
			return
		}
		for b.Loop() {
			if !one(b) {
				return
			}
		}
	})
}
