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

// testDemoKey is the demo key startRun gives every run that does not set UCM_GATEWAY_DEMO_KEY
// itself (set it to "" to have the demo generate one); get sends it.
const testDemoKey = "test-demo-key-0123456789"

// startRun runs the real program and returns the address it listens on and a stop function that
// sends the "signal" (cancels the context) and returns run's error and everything it logged.
func startRun(t *testing.T, args []string, env map[string]string) (addr string, stop func() (error, string)) {
	t.Helper()
	addr, _, stop = startRunLogs(t, args, env)
	return addr, stop
}

// startRunLogs is startRun that also returns a function to read what was logged so far.
func startRunLogs(t *testing.T, args []string, env map[string]string) (addr string, logsSoFar func() string, stop func() (error, string)) {
	t.Helper()
	if _, set := env["UCM_GATEWAY_DEMO_KEY"]; !set {
		withKey := map[string]string{"UCM_GATEWAY_DEMO_KEY": testDemoKey}
		for k, v := range env {
			withKey[k] = v
		}
		env = withKey
	}
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
	logsSoFar = func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
	return addr, logsSoFar, func() (error, string) {
		cancel()
		err := <-errc
		<-done
		mu.Lock()
		defer mu.Unlock()
		return err, logs.String()
	}
}

// get sends a GET with the test demo key.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return getWith(t, url, testDemoKey)
}

// getWith sends a GET with the given key ("" for none).
func getWith(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
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

func TestSpecIsServedInBothForms(t *testing.T) {
	addr, stop := startRun(t, []string{"--demo", "--listen", "127.0.0.1:0"}, nil)
	defer stop()
	code, body := get(t, "http://"+addr+"/openapi.yaml")
	require.Equal(t, http.StatusOK, code)
	assert.True(t, strings.HasPrefix(body, "openapi: 3.0.3"), "YAML as written, got %.40q", body)
	code, body = get(t, "http://"+addr+"/openapi.json")
	require.Equal(t, http.StatusOK, code)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	assert.Equal(t, "3.0.3", doc["openapi"])
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
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/units/demo/config/apply", nil)
		req.Header.Set("Authorization", "Bearer "+testDemoKey)
		resp, err := http.DefaultClient.Do(req)
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
