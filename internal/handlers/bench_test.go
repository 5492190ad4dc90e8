package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkGetExtension is one full REST read: HTTP through the router and validator, the pool,
// HTTPS to the simulator on loopback (warm session, keep-alive), and the schema-driven codec.
func BenchmarkGetExtension(b *testing.B) {
	e := newEnv(b)
	client := e.srv.Client()
	url := e.srv.URL + "/v1/units/demo/extensions/1000"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	if got := e.sim.Counters().Logins; got != 1 {
		b.Fatalf("logins = %d; want 1", got)
	}
}

// BenchmarkGetExtensionParallel is the same read from many clients at once: it shows what
// coalescing and the shared session buy under load.
func BenchmarkGetExtensionParallel(b *testing.B) {
	e := newEnv(b)
	parallelGets(b, e.srv.URL, e.sim)
}

// parallelGets reads extension 1000 from many clients at once for b.N reads and reports the
// UCM calls they cost sim.
func parallelGets(b *testing.B, base string, sim interface{ Calls(string) int }) {
	// Enough idle connections for every parallel client, with the key newEnv's client sends.
	client := &http.Client{Transport: &bearer{key: adminKey, base: &http.Transport{MaxIdleConnsPerHost: 64}}}
	url := base + "/v1/units/demo/extensions/1000"
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(sim.Calls("getSIPAccount"))/float64(b.N), "ucm-calls/op")
}

// BenchmarkCodecExtension converts one getSIPAccount reply to the REST type.
func BenchmarkCodecExtension(b *testing.B) {
	e := newEnv(b)
	raw, err := e.pool.Do(b.Context(), "demo", "getSIPAccount", map[string]any{"extension": "1000"})
	require.NoError(b, err)
	var reply struct {
		Extension map[string]any `json:"extension"`
	}
	require.NoError(b, json.Unmarshal(raw, &reply))
	s := &Server{codec: newCodec(mustSpec(b))}
	schema := s.codec.schema("Extension")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = objectFromUCM(schema, reply.Extension)
	}
}

// BenchmarkFleetGetExtensionParallel is BenchmarkGetExtensionParallel on a replica whose
// budgets, keys and sessions live in a real Redis: the difference is what shared state costs a
// request (the rate limiter's round trips).
func BenchmarkFleetGetExtensionParallel(b *testing.B) {
	f := newFleetEnv(b, 1, access{})
	parallelGets(b, f.replicas[0].srv.URL, f.sim)
}
