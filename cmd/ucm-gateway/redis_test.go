package main

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/shared/sharedtest"
)

func TestRedisDownIsLoggedAndNotReadyUntilItReturns(t *testing.T) {
	srv := sharedtest.Start(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "cookie-key")
	require.NoError(t, os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n"), 0o600))
	path := filepath.Join(dir, "gw.yaml")
	require.NoError(t, os.WriteFile(path, []byte("listen: 127.0.0.1:0\nredis:\n  addr: "+srv.Addr()+"\n  cookie_key_file: cookie-key\n"), 0o600))
	addr, logsSoFar, stop := startRunLogs(t, []string{"--demo", "--listen", "127.0.0.1:0", "--config", path}, map[string]string{})
	base := "http://" + addr
	code, body := get(t, base+"/v1/units/demo/extensions/1000")
	require.Equal(t, http.StatusOK, code, body)
	code, _ = get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, logsSoFar(), "connected to Redis")

	srv.Stop()
	require.Eventually(t, func() bool { c, _ := get(t, base+"/readyz"); return c == http.StatusServiceUnavailable }, 10*time.Second, 50*time.Millisecond)
	_, body = get(t, base+"/readyz")
	assert.Contains(t, body, "Redis")
	code, body = get(t, base+"/v1/units/demo/extensions/1000")
	assert.Equal(t, http.StatusOK, code, "the session this replica holds still serves: %s", body)
	_, metrics := get(t, base+"/metrics")
	assert.Contains(t, metrics, "ucm_gateway_redis_up 0")

	srv.Restart()
	require.Eventually(t, func() bool { c, _ := get(t, base+"/readyz"); return c == http.StatusOK }, 10*time.Second, 50*time.Millisecond)

	err, logs := stop()
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(logs, "Redis stopped answering"), "logged once, not per failure")
	assert.Contains(t, logs, "Redis answers again")
	// The demo unit is this process's own simulator: its session is never shared, so it is
	// logged out as without Redis (a shared one is left to the other replicas: sessionpool).
	assert.Contains(t, logs, `"msg":"logged out"`)
}

func TestRedisUnreachableAtStartIsOneClearLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gw.yaml")
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	require.NoError(t, os.WriteFile(path, []byte("listen: 127.0.0.1:0\nredis:\n  url: redis://gw:${REDIS_PASSWORD}@127.0.0.1:1/0\n  cookie_key: "+key+"\n"), 0o600))
	addr, stop := startRun(t, []string{"--demo", "--listen", "127.0.0.1:0", "--config", path}, map[string]string{"REDIS_PASSWORD": "Redis-Secret-42"})
	code, body := get(t, "http://"+addr+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "Redis")
	err, logs := stop()
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(logs, "Redis is unreachable"))
	assert.Contains(t, logs, "127.0.0.1:1")
	assert.NotContains(t, logs, "Redis-Secret-42")
	assert.NotContains(t, logs, key)
}
