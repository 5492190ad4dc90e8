package bench

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
)

// CPUResult is a closed-loop run against a hop running as a process of its own, with that
// process's CPU.
type CPUResult struct {
	Clients           int
	Duration          time.Duration
	Requests, Failed  int
	CPU               time.Duration // the process's user+system time over the run
	PerSec            float64       // requests per second of wall time
	PerCPUSecond      float64       // requests per second of the process's CPU: GET/s per core
	UpstreamCalls     int
	UpstreamCallsFrac float64 // upstream calls per request (1: nothing coalesced)
}

// GatewayCPU runs the real binary in front of the canned upstream (one unit) and keeps clients
// requests in flight for d: GET …/extensions/{ext}, each client its own extensions so that no
// two reads coalesce and every request is a full hop. The gateway runs in its own process, so
// /proc gives its CPU apart from the load generator's and the upstream's, which share the
// machine: requests per CPU-second is what one core of gateway serves.
func GatewayCPU(bin string, clients int, d time.Duration) (CPUResult, error) {
	up := NewUpstream()
	defer up.Close()
	key, hash, err := auth.Generate()
	if err != nil {
		return CPUResult{}, err
	}
	cfg := fmt.Sprintf("log_level: error\nmetrics: {per_unit: false}\nrate_limit: {requests: 100000000}\n"+
		"api_keys:\n  - name: bench\n    hashes: [%s]\n    scopes: [read]\n    units: [\"*\"]\n"+
		"units:\n  - {id: u, url: %q, username: api, password: \"${PW}\", tls: {pin_sha256: %s}}\n", hash, up.URL(), CertPin(up.Server))
	g, _, err := startGateway(bin, cfg, key, "PW="+simPassword)
	if err != nil {
		return CPUResult{}, err
	}
	defer g.stop()
	return closedLoopCPU(g.pid(), up, clients, d, func(ext int) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/units/u/extensions/%d", g.base, ext), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		return req
	})
}

// BuildProxy compiles the FixedPostProxy command (internal/bench/fixedproxy) into dir.
func BuildProxy(dir string) (string, error) {
	return build(dir, "fixedproxy", "./internal/bench/fixedproxy")
}

// ProxyCPU is GatewayCPU for the cheapest Go hop: the fixedproxy binary (BuildProxy) in front
// of the same canned upstream, under the same load.
func ProxyCPU(bin string, clients int, d time.Duration) (CPUResult, error) {
	up := NewUpstream()
	defer up.Close()
	dir, err := os.MkdirTemp("", "ucm-bench-proxy-")
	if err != nil {
		return CPUResult{}, err
	}
	defer os.RemoveAll(dir)
	ca := filepath.Join(dir, "upstream.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: up.Certificate().Raw}), 0o600); err != nil {
		return CPUResult{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return CPUResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-listen", addr, "-upstream", up.URL(), "-ca", ca)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return CPUResult{}, err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	base := "http://" + addr
	c := &http.Client{Timeout: 5 * time.Second}
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if code, err := get(c, http.MethodGet, base+"/", "", ""); err == nil && code == http.StatusOK {
			break
		}
		if time.Since(start) > 30*time.Second {
			return CPUResult{}, fmt.Errorf("fixedproxy did not answer within 30 s")
		}
	}
	return closedLoopCPU(cmd.Process.Pid, up, clients, d, func(int) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, base+"/api", nil)
		return req
	})
}

// closedLoopCPU keeps clients requests (newReq(ext) each) in flight against the process pid
// for d, after a second's warm-up, and reads its CPU time around the run.
func closedLoopCPU(pid int, up *Upstream, clients int, d time.Duration, newReq func(ext int) *http.Request) (CPUResult, error) {
	res := CPUResult{Clients: clients, Duration: d}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	loop := func(until time.Time, count, failed *atomic.Int64) {
		var wg sync.WaitGroup
		for w := range clients {
			wg.Go(func() {
				for i := 0; time.Now().Before(until); i++ {
					if code, err := do(c, newReq(1000+w*100+i%100)); err != nil || code != http.StatusOK {
						failed.Add(1)
					}
					count.Add(1)
				}
			})
		}
		wg.Wait()
	}
	var warm, warmFailed atomic.Int64
	loop(time.Now().Add(time.Second), &warm, &warmFailed) // login, connections, the heap's size
	if warmFailed.Load() > 0 {
		return res, fmt.Errorf("%d of %d warm-up requests failed", warmFailed.Load(), warm.Load())
	}
	cpu0, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	calls0 := up.Calls.Load()
	var n, failed atomic.Int64
	start := time.Now()
	loop(start.Add(d), &n, &failed)
	wall := time.Since(start)
	cpu1, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	res.Requests, res.Failed = int(n.Load()), int(failed.Load())
	res.CPU = cpu1 - cpu0
	res.PerSec = float64(res.Requests) / wall.Seconds()
	if res.CPU > 0 {
		res.PerCPUSecond = float64(res.Requests) / res.CPU.Seconds()
	}
	res.UpstreamCalls = int(up.Calls.Load() - calls0)
	res.UpstreamCallsFrac = float64(res.UpstreamCalls) / float64(res.Requests)
	return res, nil
}
