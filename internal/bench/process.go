package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// gateway is the real binary running with a configuration of the bench's making.
type gateway struct {
	cmd    *exec.Cmd
	base   string       // http://addr
	client *http.Client // presents the key
	done   chan struct{}
	dir    string
	cancel context.CancelFunc
}

// startGateway runs bin with cfg (its listen address is filled in: cfg is the rest of the
// file) and waits for /readyz; stop ends it.
func startGateway(bin, cfg, key string, env ...string) (*gateway, time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	dir, err := os.MkdirTemp("", "ucm-bench-")
	if err != nil {
		return nil, 0, err
	}
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte("listen: "+addr+"\n"+cfg), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	g := &gateway{base: "http://" + addr, dir: dir, cancel: cancel, done: make(chan struct{}),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &keyed{key: key, base: &http.Transport{MaxIdleConnsPerHost: 32}}}}
	g.cmd = exec.CommandContext(ctx, bin, "--config", path)
	g.cmd.Env = append(os.Environ(), env...)
	g.cmd.Stdout, g.cmd.Stderr = io.Discard, os.Stderr
	start := time.Now()
	if err := g.cmd.Start(); err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, 0, err
	}
	go func() { _ = g.cmd.Wait(); close(g.done) }()
	for {
		if code, err := get(g.client, http.MethodGet, g.base+"/readyz", "", ""); err == nil && code == http.StatusOK {
			return g, time.Since(start), nil
		}
		select {
		case <-g.done:
			g.stop()
			return nil, 0, fmt.Errorf("the gateway exited at start")
		default:
		}
		if time.Since(start) > time.Minute {
			g.stop()
			return nil, 0, fmt.Errorf("the gateway was not ready within a minute")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (g *gateway) pid() int { return g.cmd.Process.Pid }

// stop interrupts the gateway and waits for it (killing it after 20 s).
func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(os.Interrupt)
	select {
	case <-g.done:
	case <-time.After(20 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.done
	}
	g.cancel()
	os.RemoveAll(g.dir)
}

// cpuTime is the CPU the process has used, user and system, from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after its closing parenthesis
	// start with the state (field 3), so utime and stime (14, 15) are the 12th and 13th.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc.
const clockTicks = 100
