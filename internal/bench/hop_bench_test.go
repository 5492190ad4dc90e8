package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

// BenchmarkGatewayHop is Hop's gateway side as a Go benchmark, for profiles:
// go test -run '^$' -bench GatewayHop -cpuprofile cpu.prof ./internal/bench/
func BenchmarkGatewayHop(b *testing.B) {
	up := NewUpstream()
	defer up.Close()
	st, err := NewStack([]Unit{{ID: "u", URL: up.URL(), CertSHA256: CertPin(up.Server)}}, StackOptions{}, true)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c := st.Client(4)
	url := st.Server.URL + "/v1/units/u/extensions/1000"
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}

// BenchmarkReverseProxyHop is the cheapest Go hop to the same upstream, for comparison.
func BenchmarkReverseProxyHop(b *testing.B) {
	up := NewUpstream()
	defer up.Close()
	target, _ := url.Parse(up.URL())
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = up.Client().Transport
	ps := httptest.NewServer(rp)
	defer ps.Close()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get(ps.URL + "/api")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
