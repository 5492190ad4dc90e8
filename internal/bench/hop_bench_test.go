package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
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
	benchGet(b, st.Server.URL+"/v1/units/u/extensions/1000", "Bearer "+st.Key)
}

// BenchmarkReverseProxyHop is the cheapest Go hop to the same upstream (FixedPostProxy), for
// comparison.
func BenchmarkReverseProxyHop(b *testing.B) {
	up := NewUpstream()
	defer up.Close()
	ps := httptest.NewServer(FixedPostProxy(up.URL(), up.Client().Transport))
	defer ps.Close()
	benchGet(b, ps.URL+"/api", "")
}

// benchGet is the client loop both benchmarks share: a fresh request each time, as a client
// makes one, and the answer read to the end.
func benchGet(b *testing.B, url, auth string) {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
	cpu.report(b)
}
