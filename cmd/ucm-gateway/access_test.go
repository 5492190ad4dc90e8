package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/config"
)

var exportLine = regexp.MustCompile(`export UCM_GATEWAY_KEY=(ucmgw_[A-Za-z0-9_-]{43})\n`)

// waitFor polls what a run logged until re matches it.
func waitFor(t *testing.T, logs func() string, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(logs()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s in the output:\n%s", re, logs())
	return nil
}

func TestDemoPrintsItsKeyOnceAndRequiresIt(t *testing.T) {
	addr, logs, stop := startRunLogs(t, []string{"--demo", "--listen", "127.0.0.1:0"}, map[string]string{"UCM_GATEWAY_DEMO_KEY": ""})
	key := waitFor(t, logs, exportLine)[1]
	url := "http://" + addr + "/v1/units/demo/extensions/1000"

	code, body := getWith(t, url, "")
	assert.Equal(t, http.StatusUnauthorized, code, body)
	code, body = getWith(t, url, testDemoKey)
	assert.Equal(t, http.StatusUnauthorized, code, "only this run's key works: %s", body)
	code, body = getWith(t, url, key)
	assert.Equal(t, http.StatusOK, code, body)

	err, out := stop()
	require.NoError(t, err)
	assert.Contains(t, out, `curl -H "Authorization: Bearer $UCM_GATEWAY_KEY" http://`+addr+`/v1/units/demo/extensions/1000`)
	var withKey []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, key) {
			withKey = append(withKey, line)
		}
	}
	assert.Equal(t, []string{"    export UCM_GATEWAY_KEY=" + key}, withKey, "the key is printed once, in the banner, and in no log line")
}

// A key the operator chose in UCM_GATEWAY_DEMO_KEY works, and where stdout is not a terminal (a
// container's log, CI) it is not copied there: the banner names the variable.
func TestDemoKeyFromTheEnvironment(t *testing.T) {
	const fixed = "script-demo-key-for-ci-0001"
	addr, logs, stop := startRunLogs(t, []string{"--demo", "--listen", "127.0.0.1:0"}, map[string]string{"UCM_GATEWAY_DEMO_KEY": fixed})
	waitFor(t, logs, regexp.MustCompile(`export UCM_GATEWAY_KEY="\$UCM_GATEWAY_DEMO_KEY"`))
	code, body := getWith(t, "http://"+addr+"/v1/units", fixed)
	assert.Equal(t, http.StatusOK, code, body)
	_, out := stop()
	assert.NotContains(t, out, fixed, "a key the operator chose is not copied into a log stream")

	err := run(context.Background(), []string{"ucm-gateway", "--demo", "--listen", "127.0.0.1:0"}, func(k string) string {
		if k == "UCM_GATEWAY_DEMO_KEY" {
			return "short"
		}
		return ""
	}, io.Discard)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "short")
}

// At a terminal, the banner's export line for a fixed key works pasted into a new shell, where
// UCM_GATEWAY_DEMO_KEY (set for the demo's own command only) is not set: it carries the key,
// quoted for the shell whatever it holds.
func TestFixedDemoKeyBannerWorksInANewShell(t *testing.T) {
	const fixed = `script-demo-key-$HOME-it's-"ci"!\0001`
	var out strings.Builder
	printDemoBanner(&out, access{demo: fixed, fixed: true}, "curl …", true)
	line := regexp.MustCompile(`(?m)^    (export UCM_GATEWAY_KEY=.*)$`).FindStringSubmatch(out.String())
	require.NotNil(t, line, out.String())
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run the export line in")
	}
	cmd := exec.Command(sh, "-c", line[1]+`; printf %s "$UCM_GATEWAY_KEY"`)
	cmd.Env = []string{"PATH=/usr/bin:/bin"} // a new shell: no UCM_GATEWAY_DEMO_KEY
	got, err := cmd.Output()
	require.NoError(t, err, "sh -c %q", line[1])
	assert.Equal(t, fixed, string(got), "the export line, run in a new shell, sets the key")

	out.Reset()
	printDemoBanner(&out, access{demo: fixed, fixed: true}, "curl …", false)
	assert.NotContains(t, out.String(), fixed, "not at a terminal: the variable is named, not the key")
}

func TestInsecureNoAuth(t *testing.T) {
	addr, stop := startRun(t, []string{"--demo", "--insecure-no-auth", "--listen", "127.0.0.1:0"}, nil)
	code, body := getWith(t, "http://"+addr+"/v1/units/demo/extensions/1000", "")
	assert.Equal(t, http.StatusOK, code, body)
	_, out := stop()
	assert.Contains(t, out, "AUTHENTICATION IS OFF")

	err := run(context.Background(), []string{"ucm-gateway", "--insecure-no-auth", "--config", writeConfig(t, "")}, func(string) string { return "" }, io.Discard)
	require.Error(t, err, "--insecure-no-auth without --demo")
	assert.Contains(t, err.Error(), "only for --demo")

	err = run(context.Background(), []string{"ucm-gateway", "--demo", "--insecure-no-auth", "--config", writeConfig(t, "")}, func(string) string { return "" }, io.Discard)
	require.Error(t, err, "--insecure-no-auth must never open real units configured beside the demo")
	assert.Contains(t, err.Error(), "without --config")
}

// With --config beside --demo, the demo key reaches the simulator only: real units stay behind
// their configured keys.
func TestDemoKeyReachesOnlyTheDemoUnit(t *testing.T) {
	addr, stop := startRun(t, []string{"--demo", "--listen", "127.0.0.1:0", "--config", writeConfig(t, "")}, nil)
	defer stop()
	code, body := get(t, "http://"+addr+"/v1/units")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"id":"demo"`)
	assert.NotContains(t, body, `"id":"hq"`)
	code, body = get(t, "http://"+addr+"/v1/units/hq")
	assert.Equal(t, http.StatusNotFound, code, body)
}

func TestKeygenRefusesANameThatWouldBreakTheYAML(t *testing.T) {
	for _, name := range []string{"crm\n  scopes: [admin]", "a: b", ""} {
		err := run(context.Background(), []string{"ucm-gateway", "keygen", "--name", name}, func(string) string { return "" }, io.Discard)
		assert.Error(t, err, "keygen --name %q", name)
	}
}

// writeConfig writes a configuration with one unit (never contacted by these tests) plus extra.
func writeConfig(t *testing.T, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gw.yaml")
	doc := "listen: 127.0.0.1:0\nunits:\n  - id: hq\n    url: https://192.0.2.10:8089\n    username: api\n    password: pw\n" + extra
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	return path
}

func TestStartWithoutKeysIsRefused(t *testing.T) {
	err := run(context.Background(), []string{"ucm-gateway", "--config", writeConfig(t, "")}, func(string) string { return "" }, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ucm-gateway keygen")
}

func TestKeygenKeyOpensTheGateway(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"ucm-gateway", "keygen", "--name", "crm", "--scopes", "read,admin", "--units", "hq"}, func(string) string { return "" }, &out))
	key := regexp.MustCompile(`(?m)^    (ucmgw_\S+)$`).FindStringSubmatch(out.String())
	require.NotNil(t, key, out.String())
	entry := out.String()[strings.Index(out.String(), "api_keys:"):]
	assert.Contains(t, entry, "- "+auth.Hash(key[1]))
	assert.Contains(t, entry, "scopes: [read, admin]")

	// The printed entry is a working configuration; the audit trail survives log_level: error
	// (which also silences the "listening" line startRun waits for, hence a port of our own).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var logBuf syncBuilder
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"ucm-gateway", "--listen", addr, "--config", writeConfig(t, "log_level: error\n"+entry)}, func(string) string { return "" }, &logBuf)
	}()
	stop := func() (error, string) { cancel(); return <-errc, logBuf.String() }
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	code, body := getWith(t, base+"/v1/units", "")
	assert.Equal(t, http.StatusUnauthorized, code, body)
	code, body = getWith(t, base+"/v1/units", key[1])
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"id":"hq"`)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/units/hq/reset", nil)
	req.Header.Set("Authorization", "Bearer "+key[1])
	req.Header.Set("X-Request-Id", "reset-42")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	err, logs := stop()
	require.NoError(t, err)
	assert.NotContains(t, logs, key[1])
	var audit map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "audit" {
			audit = line
		}
	}
	require.NotNil(t, audit, "no audit line in:\n%s", logs)
	for k, want := range map[string]any{"key": "crm", "unit": "hq", "action": "resetUnit", "target": "reset", "result": "ok", "request_id": "reset-42"} {
		assert.Equal(t, want, audit[k], "audit %s", k)
	}
	assert.NotContains(t, logs, `"msg":"listening"`, "log_level: error is applied to the rest")
}

func TestKeygenRefusesUnknownScopes(t *testing.T) {
	err := run(context.Background(), []string{"ucm-gateway", "keygen", "--scopes", "read,root"}, func(string) string { return "" }, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"root" is not a scope`)
}

func TestInsecureUnitIsWarnedAtEveryStart(t *testing.T) {
	_, hash, err := auth.Generate()
	require.NoError(t, err)
	keys := "api_keys:\n  - {name: a, hashes: [" + hash + "], scopes: [read], units: [\"*\"]}\n"
	path := writeConfig(t, keys)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), "password: pw\n", "password: pw\n    tls: {insecure_skip_verify: true}\n", 1)), 0o600))
	for range 2 {
		_, stop := startRun(t, []string{"--config", path}, nil)
		_, logs := stop()
		assert.Contains(t, logs, `"msg":"TLS verification is OFF for this unit`)
	}
}

func TestSlowClientsAreCutOff(t *testing.T) {
	_, hash, err := auth.Generate()
	require.NoError(t, err)
	path := writeConfig(t, "server: {read_header_timeout: 200ms, idle_timeout: 300ms}\napi_keys:\n  - {name: a, hashes: ["+hash+"], scopes: [read], units: [\"*\"]}\n")
	addr, stop := startRun(t, []string{"--config", path}, nil)
	defer stop()

	// A client that never finishes its headers (slowloris) is dropped after read_header_timeout.
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n"))
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(3*time.Second)))
	_, err = io.ReadAll(conn)
	require.NoError(t, err, "the server closes the connection (EOF), rather than the test's deadline firing")
	assert.Less(t, time.Since(start), 2*time.Second)

	// An idle keep-alive connection is closed after idle_timeout.
	conn2, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn2.Close()
	_, err = conn2.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
	require.NoError(t, err)
	br := bufio.NewReader(conn2)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.NoError(t, conn2.SetReadDeadline(time.Now().Add(3*time.Second)))
	start = time.Now()
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the idle connection is closed by the server")
	assert.Less(t, time.Since(start), 2*time.Second)
}

type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestHTTPServerGetsEveryConfiguredTimeout(t *testing.T) {
	c := config.Server{ReadHeaderTimeout: 1 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second, IdleTimeout: 4 * time.Second}
	srv := newHTTPServer(c, http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	got := [4]time.Duration{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout}
	assert.Equal(t, [4]time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}, got)
	assert.Positive(t, srv.MaxHeaderBytes)
}

func TestNoSecretOnTheCommandLine(t *testing.T) {
	for _, flag := range []string{"--password", "--key", "--api-key", "--token"} {
		var out strings.Builder
		err := run(context.Background(), []string{"ucm-gateway", flag, "Cmdline-S3cret"}, func(string) string { return "" }, &out)
		require.Error(t, err, "%s is accepted: a secret on the command line shows in ps and shell history", flag)
		assert.Contains(t, err.Error(), "flag provided but not defined")
	}
}
