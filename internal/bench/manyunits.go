package bench

import (
	"bufio"
	"context"
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
)

// ProcessResult is one run of the real gateway binary with many units configured.
type ProcessResult struct {
	Units, Active      int
	PerUnitMetrics     bool
	StartTime          time.Duration // exec to /readyz answering 200
	RSSIdle, RSSActive int64         // bytes, after start has settled / after Active units were used
	HeapIdle           int64         // Go heap and stacks in use (go_memstats), idle
	HeapActive         int64         // and after Active units were used
	UnitsPageBytes     int           // GET /v1/units (first page, default size)
	UnitsPages         int           // pages to read them all
	MetricsBytes       int           // GET /metrics after Active units were used
	FailedActivations  int
	ContactAtStart     bool
	LoginsAtStart      int // logins the upstream saw between start and the idle measurement
	LoginsActivated    int // and while the active units were used
}

// BuildGateway compiles cmd/ucm-gateway into dir and returns its path.
func BuildGateway(dir string) (string, error) {
	bin := filepath.Join(dir, "ucm-gateway")
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ucm-gateway")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return bin, cmd.Run()
}

// ManyUnits starts the real binary with units units configured (every one the same simulator,
// which counts what reaches it), measures its start and memory, then uses active of them and
// measures again.
func ManyUnits(bin string, units, active int, perUnit, contact bool) (ProcessResult, error) {
	res := ProcessResult{Units: units, Active: active, PerUnitMetrics: perUnit, ContactAtStart: contact}
	// The canned upstream, not the simulator: a UCM remembers one challenge per user, so
	// thousands of units logging in to one simulator at once would refuse each other.
	up := NewUpstream()
	defer up.Close()
	key, hash, err := auth.Generate()
	if err != nil {
		return res, err
	}
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "listen: %s\nlog_level: error\nmetrics: {per_unit: %t}\nsession: {contact_at_start: %t}\nrate_limit: {requests: 1000000}\n", addr, perUnit, contact)
	fmt.Fprintf(&cfg, "api_keys:\n  - name: bench\n    hashes: [%s]\n    scopes: [read, write, calls, admin]\n    units: [\"*\"]\nunits:\n", hash)
	for i := range units {
		fmt.Fprintf(&cfg, "  - {id: u%05d, url: %q, username: api, password: \"${PW}\", tls: {pin_sha256: %s}}\n", i, up.URL(), CertPin(up.Server))
	}
	dir, err := os.MkdirTemp("", "ucm-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		return res, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config", path)
	cmd.Env = append(os.Environ(), "PW="+simPassword)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	base := "http://" + addr
	c := &http.Client{Timeout: 30 * time.Second, Transport: &keyed{key: key, base: &http.Transport{MaxIdleConnsPerHost: 32}}}
	for {
		if code, err := get(c, http.MethodGet, base+"/readyz", "", ""); err == nil && code == http.StatusOK {
			break
		}
		select {
		case <-done:
			return res, fmt.Errorf("the gateway with %d units exited at start", units)
		default:
		}
		if time.Since(start) > time.Minute {
			return res, fmt.Errorf("the gateway with %d units was not ready within a minute", units)
		}
		time.Sleep(2 * time.Millisecond)
	}
	res.StartTime = time.Since(start)
	time.Sleep(3 * time.Second) // first contacts, if any, settle
	res.LoginsAtStart = int(up.Logins.Load())
	if res.RSSIdle, err = rss(cmd.Process.Pid); err != nil {
		return res, err
	}
	if res.HeapIdle, err = inUse(c, base); err != nil {
		return res, err
	}
	body, err := fetch(c, base+"/v1/units")
	if err != nil {
		return res, err
	}
	res.UnitsPageBytes = len(body)
	res.UnitsPages = (units + 49) / 50

	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= active {
					return
				}
				code, err := get(c, http.MethodGet, fmt.Sprintf("%s/v1/units/u%05d/extensions/1000", base, i), "", "")
				if err != nil || code != http.StatusOK {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res.FailedActivations = int(failed.Load())
	res.LoginsActivated = int(up.Logins.Load()) - res.LoginsAtStart
	time.Sleep(time.Second)
	if res.RSSActive, err = rss(cmd.Process.Pid); err != nil {
		return res, err
	}
	if res.HeapActive, err = inUse(c, base); err != nil {
		return res, err
	}
	m, err := fetch(c, base+"/metrics")
	if err != nil {
		return res, err
	}
	res.MetricsBytes = len(m)
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

// inUse is the gateway's Go heap and stacks in use, from its own /metrics: what it holds,
// without the heap the runtime keeps for growth or has not yet returned to the OS.
func inUse(c *http.Client, base string) (int64, error) {
	body, err := fetch(c, base+"/metrics")
	if err != nil {
		return 0, err
	}
	var sum int64
	for line := range strings.SplitSeq(string(body), "\n") {
		for _, name := range []string{"go_memstats_heap_inuse_bytes ", "go_memstats_stack_inuse_bytes "} {
			if v, ok := strings.CutPrefix(line, name); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					return 0, err
				}
				sum += int64(f)
			}
		}
	}
	return sum, nil
}
