package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// Latency is one fixed-rate run.
type Latency struct {
	Name                string
	Requests            uint64
	Success             float64 // 0..1
	P50, P99, Max, Mean time.Duration
}

// Throughput is one closed-loop run.
type Throughput struct {
	Name    string
	PerSec  float64
	Success float64
}

// LoopbackResult is the gateway in front of the simulator, against the simulator itself.
type LoopbackResult struct {
	Rate              int
	Duration          time.Duration
	Gateway, Direct   Latency
	Closed            []Throughput // direct, reverse proxy, gateway
	ClosedWorkers     int
	ClosedDuration    time.Duration
	GatewayUCMCalls   int
	GatewayClientReqs uint64
}

// Loopback runs vegeta (as a library, bounded in time) at rate requests per second for d
// against GET /v1/units/sim/extensions/1000 through the gateway, and against the simulator
// itself with a pre-made cookie (POST /api getSIPAccount): the difference is what the gateway
// adds. Then each target closed-loop (workers requests in flight, as fast as they are answered),
// with httputil.ReverseProxy in front of the simulator as the cheapest Go hop.
func Loopback(rate int, d time.Duration, workers int, closedFor time.Duration) (LoopbackResult, error) {
	res := LoopbackResult{Rate: rate, Duration: d, ClosedWorkers: workers, ClosedDuration: closedFor}
	sim, st, stop, err := simStack(StackOptions{})
	if err != nil {
		return res, err
	}
	defer stop()

	// The direct target: the simulator's own API with a cookie of its own.
	c, err := ucm.NewClient(sim.URL(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // loopback simulator
	if err != nil {
		return res, err
	}
	defer c.CloseIdle()
	cookie, err := c.Login(context.Background(), "api", simPassword)
	if err != nil {
		return res, err
	}
	body := []byte(fmt.Sprintf(`{"request":{"action":"getSIPAccount","cookie":%q,"extension":"1000"}}`, cookie))
	direct := vegeta.Target{Method: http.MethodPost, URL: sim.URL() + "/api", Body: body,
		Header: http.Header{"Content-Type": {"application/json;charset=UTF-8"}}}
	gw := vegeta.Target{Method: http.MethodGet, URL: st.Server.URL + "/v1/units/sim/extensions/1000",
		Header: http.Header{"Authorization": {"Bearer " + st.Key}}}

	target, _ := url.Parse(sim.URL())
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: workers} //nolint:gosec // loopback simulator
	ps := httptest.NewServer(rp)
	defer ps.Close()
	proxied := direct
	proxied.URL = ps.URL + "/api"

	// Warm both: sessions, connections, caches.
	for _, t := range []vegeta.Target{gw, direct, proxied} {
		fixed(t, 200, 500*time.Millisecond)
	}
	before := sim.TotalCalls()
	res.Gateway = fixed(gw, rate, d)
	res.GatewayUCMCalls = sim.TotalCalls() - before
	res.GatewayClientReqs = res.Gateway.Requests
	res.Gateway.Name = "gateway → simulator"
	res.Direct = fixed(direct, rate, d)
	res.Direct.Name = "simulator, direct (pre-made cookie)"
	for _, t := range []struct {
		name string
		t    vegeta.Target
	}{{"simulator, direct", direct}, {"httputil.ReverseProxy → simulator", proxied}, {"gateway → simulator", gw}} {
		tp := closed(t.t, workers, closedFor)
		tp.Name = t.name
		res.Closed = append(res.Closed, tp)
	}
	return res, nil
}

func attacker(workers int) *vegeta.Attacker {
	return vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Workers(uint64(workers)), vegeta.MaxWorkers(uint64(workers)),
		vegeta.Connections(workers), vegeta.MaxConnections(workers),
		vegeta.TLSConfig(&tls.Config{InsecureSkipVerify: true}), //nolint:gosec // loopback simulator
		vegeta.Timeout(10*time.Second))
}

func fixed(t vegeta.Target, rate int, d time.Duration) Latency {
	a := attacker(64)
	var m vegeta.Metrics
	for r := range a.Attack(vegeta.NewStaticTargeter(t), vegeta.Rate{Freq: rate, Per: time.Second}, d, "fixed") {
		m.Add(r)
	}
	m.Close()
	return Latency{Requests: m.Requests, Success: m.Success, P50: m.Latencies.P50, P99: m.Latencies.P99, Max: m.Latencies.Max, Mean: m.Latencies.Mean}
}

func closed(t vegeta.Target, workers int, d time.Duration) Throughput {
	a := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Workers(uint64(workers)), vegeta.MaxWorkers(uint64(workers)),
		vegeta.Connections(workers), vegeta.TLSConfig(&tls.Config{InsecureSkipVerify: true}), vegeta.Timeout(10*time.Second)) //nolint:gosec // loopback simulator
	var m vegeta.Metrics
	for r := range a.Attack(vegeta.NewStaticTargeter(t), vegeta.Rate{Freq: 0}, d, "closed") {
		m.Add(r)
	}
	m.Close()
	return Throughput{PerSec: m.Throughput, Success: m.Success}
}
