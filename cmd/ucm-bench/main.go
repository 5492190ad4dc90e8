// Command ucm-bench measures what the gateway costs and writes the report `make bench` commits
// as docs/benchmarks.md: the hop it adds in front of a UCM, the load it puts on a unit, and what
// it takes to serve many units, each figure beside its target. Every load it makes targets
// loopback and stops by itself; the whole run takes a couple of minutes on two cores.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/bench"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

func main() {
	out := flag.String("out", "docs/benchmarks.md", "where to write the report (also printed)")
	flag.Parse()
	var b bytes.Buffer
	if err := report(&b); err != nil {
		fmt.Fprintln(os.Stderr, "ucm-bench:", err)
		os.Exit(1)
	}
	os.Stdout.Write(b.Bytes())
	if *out != "" {
		if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil { //nolint:gosec // a document
			fmt.Fprintln(os.Stderr, "ucm-bench:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "ucm-bench: wrote", *out)
	}
}

// verdict is a target's check mark.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func step(name string) { fmt.Fprintf(os.Stderr, "ucm-bench: %s…\n", name) }

func report(w io.Writer) error {
	began := time.Now()
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# Benchmarks\n\n")
	p("Measured by `make bench` (`go run ./cmd/ucm-bench`), every figure in the same run, on this machine:\n\n")
	p("- Machine: %s, %d cores (GOMAXPROCS %d), %s/%s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	p("- Go: %s\n- Date: %s\n- Commit: %s\n\n", runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 MST"), commit())
	p("All load targets loopback and stops by itself. The machine is shared (other work runs on its two cores), so\n")
	p("latencies, the tail above all, move from run to run; counts of calls and logins do not.\n\n")

	var targets []string
	target := func(name, want, got string, ok bool) {
		targets = append(targets, fmt.Sprintf("| %s | %s | %s | %s |", name, want, got, verdict(ok)))
	}

	step("building the gateway")
	dir, err := os.MkdirTemp("", "ucm-bench-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := bench.BuildGateway(dir)
	if err != nil {
		return err
	}
	proxyBin, err := bench.BuildProxy(dir)
	if err != nil {
		return err
	}

	// 1. Hop cost.
	step("hop cost")
	const rounds = 3
	gw, px, dr, err := bench.Hop(false, rounds)
	if err != nil {
		return err
	}
	gwp, pxp, _, err := bench.Hop(true, 1)
	if err != nil {
		return err
	}
	ratio := float64(gw.NsPerOp()) / float64(px.NsPerOp())
	cpuRatio := gw.CPUNsPerOp / px.CPUNsPerOp
	perCore := float64(gwp.N) / gwp.T.Seconds() / float64(runtime.GOMAXPROCS(0))
	proxyPerCore := float64(pxp.N) / pxp.T.Seconds() / float64(runtime.GOMAXPROCS(0))
	p("## Hop cost (in-process)\n\n")
	p("GET /v1/units/{unit}/extensions/{ext} through the whole gateway (API key, rate limit, validator, pool, HTTPS to the\n")
	p("unit, the schema-driven codec) against an in-process upstream answering the vendor guide's getSIPAccount reply, beside\n")
	p("the same upstream through `net/http/httputil.ReverseProxy` sending it the gateway's request as a fixed POST and copying\n")
	p("the reply back (`bench.FixedPostProxy`), the cheapest hop Go has. All include the client's and the\n")
	p("upstream's share; the difference is the hop's. One request at a time; the three alternate for %d rounds and each\n", rounds)
	p("keeps its best (other work on the machine only ever adds time). CPU/op is the process's CPU time (every goroutine,\n")
	p("user and system) per request, which the machine's other load moves far less than wall time.\n\n")
	p("| | ns/op | CPU ns/op | B/op | allocs/op |\n|---|---:|---:|---:|---:|\n")
	for _, r := range []struct {
		name string
		r    bench.HopResult
	}{{"gateway", gw}, {"httputil.ReverseProxy", px}, {"no hop (client → upstream)", dr}} {
		p("| %s | %d | %.0f | %d | %d |\n", r.name, r.r.NsPerOp(), r.r.CPUNsPerOp, r.r.AllocedBytesPerOp(), r.r.AllocsPerOp())
	}
	p("| ratio gateway / proxy | %.2f× | %.2f× | %.2f× | %.2f× |\n\n", ratio, cpuRatio, float64(gw.AllocedBytesPerOp())/float64(px.AllocedBytesPerOp()), float64(gw.AllocsPerOp())/float64(px.AllocsPerOp()))
	ownAllocs := gw.AllocsPerOp() - dr.AllocsPerOp()
	p("The whole loop counts in every row: the client's and the upstream's share is the last row's, so what each hop\n")
	p("adds is its row less that one: the gateway %.0f µs of CPU and %d allocations a read, the proxy %.0f µs and %d.\n\n",
		(gw.CPUNsPerOp-dr.CPUNsPerOp)/1e3, ownAllocs, (px.CPUNsPerOp-dr.CPUNsPerOp)/1e3, px.AllocsPerOp()-dr.AllocsPerOp())
	p("In parallel (RunParallel, 4 clients per core): gateway %.0f GET/s per core, ReverseProxy %.0f per core (the whole\n", perCore, proxyPerCore)
	p("loop: client, gateway or proxy and upstream share the same cores).\n\n")
	p("Reproduce: `go test -run '^$' -bench Hop -benchmem ./internal/bench/` (profile with `-cpuprofile cpu.prof`).\n\n")

	step("gateway CPU (the real binary)")
	// The two alternate, and each keeps its best round: like wall time, CPU per request only
	// grows with other work on the machine (its cache misses, its preemptions).
	const cpuRounds = 2
	var cpu, pcpu bench.CPUResult
	var gwRounds, pxRounds []string
	for range cpuRounds {
		g, err := bench.GatewayCPU(bin, 16, 4*time.Second)
		if err != nil {
			return err
		}
		px, err := bench.ProxyCPU(proxyBin, 16, 4*time.Second)
		if err != nil {
			return err
		}
		gwRounds, pxRounds = append(gwRounds, fmt.Sprintf("%.0f", g.PerCPUSecond)), append(pxRounds, fmt.Sprintf("%.0f", px.PerCPUSecond))
		if g.PerCPUSecond > cpu.PerCPUSecond {
			cpu = g
		}
		if px.PerCPUSecond > pcpu.PerCPUSecond {
			pcpu = px
		}
	}
	p("## GET/s per core (the real binary)\n\n")
	p("The gateway binary in its own process in front of the canned upstream, %d clients keeping reads in flight for %s\n", cpu.Clients, cpu.Duration)
	p("(GET …/extensions/{ext}, each client its own extensions, so no two reads coalesce and every request is a whole hop:\n")
	p("%.2f upstream calls a request); then the same for the cheapest hop (`internal/bench/fixedproxy`: the ReverseProxy\n", cpu.UpstreamCallsFrac)
	p("above, as a process). The load generator and the upstream run in the bench's process on the same two cores; each\n")
	p("hop's own CPU (user + system, /proc/<pid>/stat) says what one core of it serves. The two alternate for %d rounds,\n", cpuRounds)
	p("and each keeps its best (GET/s per core by round: gateway %s, proxy %s).\n\n", strings.Join(gwRounds, " / "), strings.Join(pxRounds, " / "))
	p("| hop | requests | failed | requests/s | its CPU | GET/s per core | CPU per request |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range []struct {
		name string
		r    bench.CPUResult
	}{{"gateway", cpu}, {"httputil.ReverseProxy (fixedproxy)", pcpu}} {
		p("| %s | %d | %d | %.0f | %.2f s | %.0f | %.0f µs |\n", r.name, r.r.Requests, r.r.Failed, r.r.PerSec, r.r.CPU.Seconds(), r.r.PerCPUSecond, 1e6/r.r.PerCPUSecond)
	}
	p("\nReproduce: `go run ./cmd/ucm-bench` (bench.GatewayCPU, bench.ProxyCPU).\n\n")
	target("GET/s per core (the gateway's own CPU)", "≥ 10,000", fmt.Sprintf("%.0f", cpu.PerCPUSecond), cpu.PerCPUSecond >= 10000)
	target("hop cost vs cheapest Go hop (time per request)", "≤ 2×", fmt.Sprintf("%.2f×", ratio), ratio <= 2)
	target("hop cost vs cheapest Go hop (CPU per request)", "≤ 2×", fmt.Sprintf("%.2f×", cpuRatio), cpuRatio <= 2)
	target("allocations per read (the gateway's own)", "a few hundred (≤ 300)", fmt.Sprint(ownAllocs), ownAllocs <= 300)
	target("allocations per read (whole loop: client, gateway, upstream)", "≤ 300", fmt.Sprint(gw.AllocsPerOp()), gw.AllocsPerOp() <= 300)

	// 2. Loopback latency.
	step("loopback latency (vegeta)")
	lb, err := bench.Loopback(1000, 5*time.Second, 8, 3*time.Second)
	if err != nil {
		return err
	}
	p("## Added latency on loopback\n\n")
	p("vegeta (as a library) at a fixed %d requests/s for %s: GET …/extensions/1000 through the gateway in front of the\n", lb.Rate, lb.Duration)
	p("simulator (internal/ucm/ucmsim, HTTPS), and the same read straight to the simulator with a pre-made cookie.\n\n")
	p("| target | requests | success | p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n")
	for _, l := range []bench.Latency{lb.Gateway, lb.Direct} {
		p("| %s | %d | %.1f%% | %s | %s | %s |\n", l.Name, l.Requests, 100*l.Success, ms(l.P50), ms(l.P99), ms(l.Max))
	}
	d50, d99 := lb.Gateway.P50-lb.Direct.P50, lb.Gateway.P99-lb.Direct.P99
	p("| **added by the gateway** | | | %s | %s | %s |\n\n", ms(d50), ms(d99), ms(lb.Gateway.Max-lb.Direct.Max))
	p("The %d gateway requests cost the simulator %d calls (identical concurrent reads share one).\n\n", lb.GatewayClientReqs, lb.GatewayUCMCalls)
	p("Closed loop (%d requests in flight, as fast as answered, %s each):\n\n| target | requests/s | success |\n|---|---:|---:|\n", lb.ClosedWorkers, lb.ClosedDuration)
	for _, t := range lb.Closed {
		p("| %s | %.0f | %.1f%% |\n", t.Name, t.PerSec, 100*t.Success)
	}
	closedRatio := lb.Closed[2].PerSec / lb.Closed[1].PerSec
	p("\nGateway / ReverseProxy: %.2f×. The gateway can outrun the proxy and even the simulator alone: identical reads in\n", closedRatio)
	p("flight at once share one UCM call (coalescing), which a proxy cannot do.\n\nReproduce: `go run ./cmd/ucm-bench` (bench.Loopback).\n\n")
	target("added latency p50 at 1,000 req/s", "≤ 0.2 ms", ms(d50), d50 <= 200*time.Microsecond)
	target("added latency p99 at 1,000 req/s", "≤ 2 ms", ms(d99), d99 <= 2*time.Millisecond)
	target("closed-loop throughput vs cheapest hop", "≥ 0.7×", fmt.Sprintf("%.2f×", closedRatio), closedRatio >= 0.7)

	// 3. Load on the unit.
	step("mixed run")
	mx, err := bench.Mixed(3000, 16)
	if err != nil {
		return err
	}
	perReq := float64(mx.UCMCalls) / float64(mx.Requests)
	p("## UCM calls per client request\n\n")
	p("%d requests from %d concurrent clients: %d reads (an extension; a page of extensions; the calls list), %d writes\n", mx.Requests, mx.Clients, mx.Reads, mx.Writes)
	p("(PATCH an extension: the update and its read-back), and the unit forgetting every cookie twice mid-run. The\n")
	p("gateway runs with its default 1 s list freshness window.\n\n")
	p("| client requests | failed | UCM calls (not logins) | calls per request | challenges | logins |\n|---:|---:|---:|---:|---:|---:|\n")
	p("| %d | %d | %d | %.3f | %d | %d |\n\n", mx.Requests, mx.Failed, mx.UCMCalls, perReq, mx.Challenges, mx.Logins)
	p("Logins: one at the start and one after each of the %d cookie expiries, for the one unit.\n\n", mx.CookieExpiries)
	target("UCM calls per client request (mixed)", "≤ 1.0", fmt.Sprintf("%.3f", perReq), perReq <= 1)
	target("logins per unit (2 cookie expiries)", "1 + 1 per expiry", fmt.Sprint(mx.Logins), mx.Logins == 1+mx.CookieExpiries)

	step("cold start and coalescing")
	cs, err := bench.ColdStart(1000)
	if err != nil {
		return err
	}
	co, err := bench.Coalescing(1000)
	if err != nil {
		return err
	}
	p("## Cold start and coalescing\n\n| case | requests | failed | challenges | logins | getSIPAccount calls |\n|---|---:|---:|---:|---:|---:|\n")
	p("| 1,000 concurrent reads of a cold unit | %d | %d | %d | %d | %d |\n", cs.Requests, cs.Failed, cs.Challenges, cs.Logins, cs.Calls)
	p("| 1,000 identical concurrent reads (unit answers in 20 ms) | %d | %d | %d | %d | %d |\n\n", co.Requests, co.Failed, co.Challenges, co.Logins, co.Calls)
	p("Ordinary tests hold these: `go test -run 'Coalesc|Concurrent|Cold' ./internal/sessionpool/`.\n\n")
	target("cold start: challenges / logins", "exactly 1 / 1", fmt.Sprintf("%d / %d", cs.Challenges, cs.Logins), cs.Challenges == 1 && cs.Logins == 1)
	target("coalescing: UCM calls for 1,000 identical reads", "≤ 2", fmt.Sprint(co.Calls), co.Calls <= 2)

	// 4. Many units.
	step("many units (the real binary)")
	few, err := bench.ManyUnits(bin, 10, 10, 1, false, false, false)
	if err != nil {
		return err
	}
	sum, err := bench.ManyUnits(bin, 10000, 1000, 3, false, false, true)
	if err != nil {
		return err
	}
	per, err := bench.ManyUnits(bin, 10000, 1000, 1, true, false, false)
	if err != nil {
		return err
	}
	activePer := sum.RSSPerActive()
	activeLive := float64(sum.LiveLast-sum.LiveIdle) / float64(sum.Active*sum.Batches)
	settledLive := float64(sum.LiveSettled-sum.LiveIdle) / float64(sum.Active*sum.Batches)
	p("## Many units\n\n")
	p("The real binary (`go build ./cmd/ucm-gateway`) with 10,000 units configured, every one an in-process simulated upstream\n")
	p("on loopback, contacted lazily (`session.contact_at_start: false`: a unit is contacted at its first request). Start is\n")
	p("exec to /readyz answering. Memory: VmRSS from /proc; heap and stacks in use (go_memstats), which count garbage not\n")
	p("yet collected; and what the gateway retains: the heap its collector found live (go_gc_heap_live_bytes, the least of\n")
	p("eight collections, which the bench drives with reads of /v1/units) and its stacks. Idle is after start settled, before\n")
	p("any request. Then %d batches of %d units not used before each serve a read (a login and a read each). Warm and\n", sum.Batches, sum.Active)
	p("last are RSS before and after the batches, each just after the same 2,000 reads of 10 other units. Per idle unit is\n")
	p("against the same binary with 10 units.\n\n")
	p("| units | metrics.per_unit | start | RSS idle | RSS warm | RSS after 1 batch | RSS last | in use idle / after 1 batch | retained idle / after all batches | per idle unit (RSS) | GET /v1/units (a page; %d pages of 50) | /metrics |\n", sum.UnitsPages)
	p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range []bench.ProcessResult{few, sum, per} {
		pi := ""
		if r.Units > few.Units {
			pi = kb(float64(r.RSSIdle-few.RSSIdle) / float64(r.Units-few.Units))
		}
		p("| %d | %t | %s | %s | %s | %s | %s (%d × %d active) | %s / %s | %s / %s | %s | %s | %s |\n", r.Units, r.PerUnitMetrics, ms(r.StartTime), mb(r.RSSIdle), mb(r.RSSWarm), mb(r.RSSActive),
			mb(r.RSSLast), r.Batches, r.Active, mb(r.HeapIdle), mb(r.HeapActive), mb(r.LiveIdle), mb(r.LiveLast), pi, kb(float64(r.UnitsPageBytes)), kb(float64(r.MetricsBytes)))
	}
	p("\nPer active unit (10,000 units, metrics.per_unit false), over the %d units the batches made active: **%s of RSS**\n", sum.Active*sum.Batches, kb(activePer))
	p("(last less warm) and **%s retained** (after the batches, less idle). In use after the first batch, against idle: %s a\n", kb(activeLive), kb(float64(sum.HeapActive-sum.HeapIdle)/float64(sum.Active)))
	p("unit, which counts garbage. Allocated while the first batch was used: %s a unit (the TLS handshake, challenge, login\n", kb(float64(sum.AllocActivated)/float64(sum.Active)))
	p("and read, and the client's request), which the collector takes back within its headroom.\n\n")
	p("Logins at start: %d; logins while the first %d units were used: %d (one each); failed reads: %d.\n\n", sum.LoginsAtStart, sum.Active, sum.LoginsActivated, sum.FailedActivations)
	p("RSS is compared at like moments, warm and last, not from idle. The first requests a process serves grow its heap once\n")
	p("to the collector's goal, about twice what the 10,000 configured units hold (RSS idle to warm), whatever number of\n")
	p("units is in use; counted per active unit, that made the first 1,000 units look twice as dear as they are. Between like\n")
	p("moments RSS still moves by several MB with the collector's cycle and what the runtime has returned to the OS, hence\n")
	p("three batches. In the long run a Go heap sits between what is live and twice that (GOGC=100), so an active unit's RSS\n")
	p("is bounded by about twice what it retains: %s here. For the same reason a gateway with 10,000 units that has served\n", kb(2*activeLive))
	p("requests sits near RSS warm (%s here), not RSS idle, even with no unit in use: the collector's room to grow over what\n", mb(sum.RSSWarm))
	p("the configured units hold. GOMEMLIMIT (Go's soft memory limit) has the collector work harder to stay under a bound\n")
	p("an operator sets, down to what is live.\n\n")
	p("Just after its read an active unit holds its session and its pooled HTTPS connection to the unit: crypto/tls's state,\n")
	p("whose record buffer grows to the largest record the unit has sent (about 5 KB for this reply; TLS records go up to\n")
	p("16 KB), and a timer. No goroutine and no buffer waits on an idle connection (the client reads and writes in the\n")
	p("caller's goroutine, `internal/ucm/conns.go`). The connection is pooled for %s after its last use\n", ucm.IdleConnTimeout)
	p("(`ucm.IdleConnTimeout`); measured again %s after the last batch, with all %d sessions still held: %s retained per\n", sum.SettleAfter, sum.Active*sum.Batches, kb(settledLive))
	p("active unit (RSS %s in all: the runtime returns freed heap to the OS only slowly). A held session is a cookie and a\n", mb(sum.RSSSettled))
	p("few fields, so this is within the noise of two live-heap readings a megabyte or so apart (it can come out below zero).\n\n")
	target("10,000 units: start", "< 1 s", ms(sum.StartTime), sum.StartTime < time.Second)
	target("10,000 units: RSS idle", "< 100 MB", mb(sum.RSSIdle), sum.RSSIdle < 100<<20)
	target("memory per active unit, connection pooled (retained)", "< 30 KB", kb(activeLive), activeLive < 30<<10)
	target("memory per active unit, connection pooled (RSS, warm to last)", "< 30 KB", kb(activePer), activePer < 30<<10)
	target("memory per active unit, connection pooled (RSS bound: 2 × retained)", "< 30 KB", kb(2*activeLive), 2*activeLive < 30<<10)
	target("memory per active unit, connection idled out (retained)", "< 30 KB", kb(settledLive), settledLive < 30<<10)
	target("GET /v1/units paged", "paged", fmt.Sprintf("%s per page of 50", kb(float64(sum.UnitsPageBytes))), true)
	target("/metrics bounded (per_unit: false)", "bounded", kb(float64(sum.MetricsBytes)), sum.MetricsBytes < 1<<20)

	step("keep-alive budget (testing/synctest)")
	ka, err := keepAliveFigure()
	if err != nil {
		return err
	}
	p("Keep-alive over the UCM's 10-minute cookie lifetime, 30 minutes under testing/synctest (fake clock): %s.\n", ka.line)
	p("Reproduce: `go test -run TestKeepAliveBudget -v ./internal/sessionpool/`.\n\n")
	target("keep-alive calls per active unit per 10 min", "≤ 2", fmt.Sprintf("%.2f", ka.light), ka.light <= 2)
	target("keep-alive calls per idle unit", "0", fmt.Sprintf("%.2f", ka.idle), ka.idle == 0)

	// 5. Polling fan-out.
	step("polling fan-out")
	fo, err := bench.FanOut(200, 200, 5*time.Second)
	if err != nil {
		return err
	}
	perList := fo.PollUCMCallsPerSec / 2
	p("## Polling fan-out\n\n")
	p("%d clients each polling GET …/calls once a second for %s (a read of two channel lists), with the 1 s list\n", fo.Pollers, fo.PollFor)
	p("freshness window; then %d SSE subscribers of GET /v1/units/{unit}/events for %s (the poll source, every %s).\n\n", fo.Subscribers, fo.SubscribedFor, fo.PollInterval)
	p("| case | client activity | channel-list calls to the unit per second | per list | upstream sources |\n|---|---:|---:|---:|---:|\n")
	p("| %d pollers | %d polls, %d failed | %.2f | %.2f | |\n", fo.Pollers, fo.Polls, fo.PollFailures, fo.PollUCMCallsPerSec, perList)
	p("| %d SSE subscribers | %d connected | %.2f | %.2f | %.0f |\n\n", fo.Subscribers, fo.Connected, fo.SSEUCMCallsPerSec, fo.SSEUCMCallsPerSec/2, fo.SourcesRunning)
	p("Ordinary tests hold the window: `go test -run Fresh ./internal/sessionpool/`.\n\n")
	target("200 pollers: calls per list per second", "≤ 1", fmt.Sprintf("%.2f", perList), perList <= 1.05)
	target("200 SSE subscribers: upstream sources", "1", fmt.Sprintf("%.0f", fo.SourcesRunning), fo.SourcesRunning == 1)

	p("## Targets\n\n| target | want | measured | |\n|---|---|---|---|\n%s\n\n", strings.Join(targets, "\n"))
	p("Whole run: %s.\n", time.Since(began).Round(time.Second))
	return nil
}

type keepAlive struct {
	line              string
	light, busy, idle float64
}

var keepAliveRE = regexp.MustCompile(`keep-alive calls per 10 minutes: light-use unit ([0-9.]+), busy unit ([0-9.]+), idle unit ([0-9.]+)`)

// keepAliveFigure runs the sessionpool's keep-alive budget test, which needs testing/synctest,
// and reads the figure it logs.
func keepAliveFigure() (keepAlive, error) {
	out, err := exec.Command("go", "test", "-count=1", "-run", "^TestKeepAliveBudget$", "-v", "./internal/sessionpool/").CombinedOutput()
	m := keepAliveRE.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		return keepAlive{}, fmt.Errorf("keep-alive budget test: %v\n%s", err, out)
	}
	var k keepAlive
	fmt.Sscan(m[1], &k.light)
	fmt.Sscan(m[2], &k.busy)
	fmt.Sscan(m[3], &k.idle)
	k.line = fmt.Sprintf("a unit used once every 7 minutes %s, a unit used every 30 s %s, a unit nobody uses %s calls per 10 minutes", m[1], m[2], m[3])
	return k, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }
func mb(b int64) string         { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
func kb(b float64) string       { return fmt.Sprintf("%.1f KB", b/(1<<10)) }

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// commit is the commit measured, "-dirty" if the tree differs from it in anything but the
// report this run rewrites.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--", ".", ":(exclude)docs/benchmarks.md").Output(); err != nil || len(bytes.TrimSpace(st)) > 0 {
		c += "-dirty"
	}
	return c
}
