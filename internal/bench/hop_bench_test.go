package bench

import (
	"io"
	"net/http"
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
