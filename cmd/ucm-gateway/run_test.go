package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startRun runs the real program and returns the address it listens on and a stop function that
// sends the "signal" (cancels the context) and returns run's error and everything it logged.
func startRun(t *testing.T, args []string, env map[string]string) (addr string, stop func() (error, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"ucm-gateway"}, args...), func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	var mu sync.Mutex
	var logs strings.Builder
	addrc := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addrc <- line.Addr
			}
		}
	}()
	select {
	case addr = <-addrc:
	case err := <-errc:
		cancel()
		t.Fatalf("run exited before listening: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("run did not start listening")
	}
	return addr, func() (error, string) {
		cancel()
		err := <-errc
		<-done
		mu.Lock()
		defer mu.Unlock()
		return err, logs.String()
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDemoServesTheWholeTour(t *testing.T) {
	addr, stop := startRun(t, []string{"--demo", "--listen", "127.0.0.1:0"}, nil)
	base := "http://" + addr
	code, _ := get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	code, _ = get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code)
	code, body := get(t, base+"/v1/units/demo/extensions/1000")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"extension":"1000"`)
	code, body = get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `ucm_gateway_logins_total{result="success",unit="demo"} 1`)
	code, body = get(t, base+"/openapi.json")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"openapi":"3.0.3"`)

	err, logs := stop()
	require.NoError(t, err, "graceful shutdown exits cleanly")
	assert.Contains(t, logs, `"msg":"logged out"`, "the session is closed on shutdown")
	assert.Contains(t, logs, `"msg":"stopped"`)
}

func TestBadConfigurationStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gw.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
listen: ":0"
units:
  - id: hq
    url: http://192.0.2.10:8089
    username: api
    password: ${UCM_HQ_PASSWORD}
    tls:
      pin: abc
`), 0o600))
	var out strings.Builder
	err := run(context.Background(), []string{"ucm-gateway", "--config", path}, func(string) string { return "" }, &out)
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{"https", "UCM_HQ_PASSWORD", "pin"} {
		assert.Contains(t, msg, want)
	}
	assert.GreaterOrEqual(t, strings.Count(msg, "\n"), 2, "one line per problem: %s", msg)
}

func TestMissingConfigFileIsAClearError(t *testing.T) {
	err := run(context.Background(), []string{"ucm-gateway", "--config", filepath.Join(t.TempDir(), "absent.yaml")}, func(string) string { return "" }, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "absent.yaml")
}

func TestVersionFlag(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"ucm-gateway", "--version"}, func(string) string { return "" }, &out))
	assert.Contains(t, out.String(), "ucm-gateway")
}

// SIGTERM while a slow request is in flight: the request completes, new connections are refused,
// every unit is logged out and run returns nil (exit 0).
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	addr, stop := startRun(t, []string{"--demo", "--listen", "127.0.0.1:0"}, nil)
	base := "http://" + addr
	code, _ := get(t, base+"/v1/units/demo/extensions/1000") // log in first
	require.Equal(t, http.StatusOK, code)

	type result struct {
		code int
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// applyChanges takes the demo simulator 500ms.
		resp, err := http.Post(base+"/v1/units/demo/config/apply", "application/json", nil)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- result{code: resp.StatusCode, body: string(b)}
	}()
	require.Eventually(t, func() bool {
		_, body := get(t, base+"/metrics")
		return strings.Contains(body, `ucm_gateway_ucm_in_flight{unit="demo"} 1`)
	}, 5*time.Second, 10*time.Millisecond, "the apply reaches the unit")

	type stopped struct {
		err  error
		logs string
	}
	stopc := make(chan stopped, 1)
	go func() {
		err, logs := stop()
		stopc <- stopped{err, logs}
	}()
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 2*time.Second, 5*time.Millisecond, "the listener closes at once")

	r := <-done
	require.NoError(t, r.err, "the request in flight was cut off")
	assert.Equal(t, http.StatusOK, r.code, r.body)
	s := <-stopc
	require.NoError(t, s.err)
	assert.Contains(t, s.logs, `"msg":"shutting down: finishing requests in flight"`)
	assert.Contains(t, s.logs, `"msg":"logged out"`)
	assert.Less(t, strings.Index(s.logs, `/config/apply`), strings.Index(s.logs, `"msg":"logged out"`), "the apply finished before the logout")
}
