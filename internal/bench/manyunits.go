package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// ProcessResult is one run of the real gateway binary with many units configured.
type ProcessResult struct {
	Units, Active     int
	Batches           int // Active units were used this many times over, each batch new units
	PerUnitMetrics    bool
	StartTime         time.Duration // exec to /readyz answering 200
	RSSIdle           int64         // bytes, after start has settled, before any request
	RSSWarm           int64         // after the idle measurement's requests and 2,000 reads of 10 units
	RSSActive         int64         // after the first batch of Active units was used
	RSSLast           int64         // after the last batch and the same requests as for warm
	LiveLast          int64         // retained after the last batch
	HeapIdle          int64         // Go heap and stacks in use (go_memstats), idle
	HeapActive        int64         // and after the first batch
	LiveIdle          int64         // live heap (go_gc_heap_live_bytes) and stacks after a collection, idle
	Settled           bool          // measured again once the active units' connections idled out
	SettleAfter       time.Duration // how long after the reads
	RSSSettled        int64
	LiveSettled       int64
	UnitsPageBytes    int // GET /v1/units (first page, default size)
	UnitsPages        int // pages to read them all
	MetricsBytes      int // GET /metrics after the batches
	FailedActivations int
	ContactAtStart    bool
	LoginsAtStart     int   // logins the upstream saw between start and the idle measurement
	LoginsActivated   int   // and while the first batch was used
	AllocActivated    int64 // bytes the gateway allocated while the first batch was used (go_memstats_alloc_bytes_total)
}

// RSSPerActive is what an active unit adds to RSS in a process that is serving: RSS after the
// batches less RSS before them, each taken just after the same load (2,000 reads of 10 other
// units), over the units the batches made active.
func (r ProcessResult) RSSPerActive() float64 {
	return float64(r.RSSLast-r.RSSWarm) / float64(r.Active*r.Batches)
}

// BuildGateway compiles cmd/ucm-gateway into dir and returns its path.
func BuildGateway(dir string) (string, error) { return build(dir, "ucm-gateway", "./cmd/ucm-gateway") }

// build compiles the module's package pkg into dir/name and returns its path.
func build(dir, name, pkg string) (string, error) {
	bin := filepath.Join(dir, name)
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return bin, cmd.Run()
}

// ManyUnits starts the real binary with units units configured (every one the same simulator,
// which counts what reaches it), measures its start and memory, then uses active of them and
// measures again; then batches-1 more batches of active other units, for what an active unit
// adds to RSS.
//
// RSS is compared between like moments, each just after the same load (steady): before the
// batches (warm) and after them (last). RSS just after start (idle) is before the process has
// served anything: the first requests grow the heap to the collector's goal, about twice what
// the configured units hold, once, whatever the number of units in use. Counted per active
// unit, that growth said the first 1,000 units cost what the collector's headroom for all
// 10,000 idle ones costs. Between like moments RSS still moves by several MB with where the
// collector is in its cycle and what the runtime has returned to the OS, hence several batches.
//
// With settle, it measures once more after ucm.IdleConnTimeout: the active units still hold
// their sessions (kept alive), their pooled connections have been closed.
func ManyUnits(bin string, units, active, batches int, perUnit, contact, settle bool) (ProcessResult, error) {
	if active*batches > units {
		return ProcessResult{}, fmt.Errorf("%d batches of %d active units need that many units, not %d", batches, active, units)
	}
	res := ProcessResult{Units: units, Active: active, Batches: batches, PerUnitMetrics: perUnit, ContactAtStart: contact}
	// The canned upstream, not the simulator: a UCM remembers one challenge per user, so
	// thousands of units logging in to one simulator at once would refuse each other.
	up := NewUpstream()
	defer up.Close()
	key, hash, err := auth.Generate()
	if err != nil {
		return res, err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "log_level: error\nmetrics: {per_unit: %t}\nsession: {contact_at_start: %t}\nrate_limit: {requests: 1000000}\n", perUnit, contact)
	fmt.Fprintf(&cfg, "api_keys:\n  - name: bench\n    hashes: [%s]\n    scopes: [read, write, calls, admin]\n    units: [\"*\"]\nunits:\n", hash)
	for i := range units {
		fmt.Fprintf(&cfg, "  - {id: u%05d, url: %q, username: api, password: \"${PW}\", tls: {pin_sha256: %s}}\n", i, up.URL(), CertPin(up.Server))
	}
	g, startTime, err := startGateway(bin, cfg.String(), key, "PW="+simPassword)
	if err != nil {
		return res, fmt.Errorf("%d units: %w", units, err)
	}
	defer g.stop()
	c, base := g.client, g.base
	res.StartTime = startTime
	time.Sleep(3 * time.Second) // first contacts, if any, settle
	res.LoginsAtStart = int(up.Logins.Load())
	if res.RSSIdle, err = rss(g.pid()); err != nil {
		return res, err
	}
	if res.HeapIdle, err = inUse(c, base); err != nil {
		return res, err
	}
	if res.LiveIdle, err = retained(c, base); err != nil {
		return res, err
	}
	body, err := fetch(c, base+"/v1/units")
	if err != nil {
		return res, err
	}
	res.UnitsPageBytes = len(body)
	res.UnitsPages = (units + 49) / 50

	// Each batch uses active units not used before, from 16 clients.
	batch := func(first int) int {
		var next, bad atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= active {
						return
					}
					code, err := get(c, http.MethodGet, fmt.Sprintf("%s/v1/units/u%05d/extensions/1000", base, first+i), "", "")
					if err != nil || code != http.StatusOK {
						bad.Add(1)
					}
				}
			})
		}
		wg.Wait()
		time.Sleep(time.Second)
		return int(bad.Load())
	}

	// steady is the same load before and after the batches, so that RSS is compared at like
	// moments: 2,000 reads of an extension on the last 10 units (which the batches leave alone
	// when there are units enough).
	steady := func() (int64, error) {
		var wg sync.WaitGroup
		for w := range 10 {
			wg.Go(func() {
				for range 200 {
					_, _ = get(c, http.MethodGet, fmt.Sprintf("%s/v1/units/u%05d/extensions/1000", base, units-1-w), "", "")
				}
			})
		}
		wg.Wait()
		return rss(g.pid())
	}
	if res.RSSWarm, err = steady(); err != nil {
		return res, err
	}
	loginsBefore := int(up.Logins.Load())
	allocBefore, err := allocated(c, base)
	if err != nil {
		return res, err
	}
	res.FailedActivations = batch(0)
	res.LoginsActivated = int(up.Logins.Load()) - loginsBefore
	allocAfter, err := allocated(c, base)
	if err != nil {
		return res, err
	}
	res.AllocActivated = allocAfter - allocBefore
	if res.RSSActive, err = rss(g.pid()); err != nil {
		return res, err
	}
	if res.HeapActive, err = inUse(c, base); err != nil {
		return res, err
	}
	for b := 1; b < batches; b++ {
		res.FailedActivations += batch(b * active)
	}
	if res.RSSLast, err = steady(); err != nil {
		return res, err
	}
	if res.LiveLast, err = retained(c, base); err != nil {
		return res, err
	}
	m, err := fetch(c, base+"/metrics")
	if err != nil {
		return res, err
	}
	res.MetricsBytes = len(m)
	if settle {
		res.SettleAfter = ucm.IdleConnTimeout + 2*time.Second
		time.Sleep(res.SettleAfter)
		if res.LiveSettled, err = retained(c, base); err != nil {
			return res, err
		}
		if res.RSSSettled, err = rss(g.pid()); err != nil {
			return res, err
		}
		res.Settled = true
	}
	return res, nil
}

func fetch(c *http.Client, url string) ([]byte, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// rss is the process's resident set size, from /proc (Linux).
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// retained is what the gateway holds: the heap its collections find live, and its stacks.
// Heap in use (inUse) also counts the garbage of the requests just made, and RSS the heap the
// runtime keeps for growth, so both move with the collector's pacing rather than with what a
// unit costs. Reads of /v1/units allocate until retainedCycles collections have run, and the
// least live heap any of them found is taken: a collection counts what is allocated while it
// marks as live too (these reads), so each finds somewhat more than the gateway holds; and
// each halves the stacks that grew for a request and are now mostly unused.
func retained(c *http.Client, base string) (int64, error) {
	series := func() (map[string]float64, error) {
		body, err := fetch(c, base+"/metrics")
		if err != nil {
			return nil, err
		}
		return metricValues(body, "go_gc_cycles_total_gc_cycles_total", "go_gc_heap_live_bytes", "go_memstats_stack_inuse_bytes"), nil
	}
	first, err := series()
	if err != nil {
		return 0, err
	}
	const cycles = "go_gc_cycles_total_gc_cycles_total"
	last, least := first[cycles], -1.0
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for range 20 {
			if _, err := fetch(c, base+"/v1/units?page_size=200"); err != nil {
				return 0, err
			}
		}
		now, err := series()
		if err != nil {
			return 0, err
		}
		if now[cycles] > last {
			last = now[cycles]
			if live := now["go_gc_heap_live_bytes"]; least < 0 || live < least {
				least = live
			}
		}
		if now[cycles] >= first[cycles]+retainedCycles {
			return int64(least + now["go_memstats_stack_inuse_bytes"]), nil
		}
	}
	return 0, fmt.Errorf("no garbage collection within a minute")
}

const retainedCycles = 8

// metricValues reads the named unlabelled series from a Prometheus text exposition.
func metricValues(body []byte, names ...string) map[string]float64 {
	out := make(map[string]float64, len(names))
	for line := range strings.SplitSeq(string(body), "\n") {
		for _, name := range names {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					out[name] = f
				}
			}
		}
	}
	return out
}

// inUse is the gateway's Go heap and stacks in use, from its own /metrics: what it holds,
// without the heap the runtime keeps for growth or has not yet returned to the OS.
func inUse(c *http.Client, base string) (int64, error) {
	body, err := fetch(c, base+"/metrics")
	if err != nil {
		return 0, err
	}
	v := metricValues(body, "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes")
	if len(v) != 2 {
		return 0, fmt.Errorf("/metrics has no go_memstats heap and stack series")
	}
	return int64(v["go_memstats_heap_inuse_bytes"] + v["go_memstats_stack_inuse_bytes"]), nil
}

// allocated is the bytes the gateway has allocated since it started, from its own /metrics.
func allocated(c *http.Client, base string) (int64, error) {
	body, err := fetch(c, base+"/metrics")
	if err != nil {
		return 0, err
	}
	v, ok := metricValues(body, "go_memstats_alloc_bytes_total")["go_memstats_alloc_bytes_total"]
	if !ok {
		return 0, fmt.Errorf("/metrics has no go_memstats_alloc_bytes_total")
	}
	return int64(v), nil
}
