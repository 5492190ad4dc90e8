package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
)

// keyEntry is an api_keys entry for a generated key.
func keyEntry(t *testing.T, name, scopes string) (key, entry string) {
	t.Helper()
	key, hash, err := auth.Generate()
	require.NoError(t, err)
	return key, "  - name: " + name + "\n    hashes: [" + hash + "]\n    scopes: [" + scopes + "]\n    units: ['*']\n"
}

func postKey(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestReloadAddsAUnitAndRotatesAKeyWithoutDroppingARequest(t *testing.T) {
	admin, adminEntry := keyEntry(t, "ops", "admin, read, write")
	oldKey, oldEntry := keyEntry(t, "app", "read, write")
	newKey, newEntry := keyEntry(t, "app", "read, write")
	path := filepath.Join(t.TempDir(), "gw.yaml")
	write := func(doc string) { require.NoError(t, os.WriteFile(path, []byte(doc), 0o600)) }
	write("listen: 127.0.0.1:0\napi_keys:\n" + adminEntry + oldEntry)
	addr, logsSoFar, stop := startRunLogs(t, []string{"--demo", "--listen", "127.0.0.1:0", "--config", path}, nil)
	defer stop()
	base := "http://" + addr
	code, body := getWith(t, base+"/v1/units/demo/extensions/1000", oldKey)
	require.Equal(t, http.StatusOK, code, body)

	// A request in flight (an apply takes the demo 500ms) with the key about to be removed.
	done := make(chan int, 1)
	go func() {
		code, _ := postKey(t, base+"/v1/units/demo/config/apply", oldKey)
		done <- code
	}()
	require.Eventually(t, func() bool {
		_, body := get(t, base+"/metrics")
		return strings.Contains(body, `ucm_gateway_ucm_in_flight{unit="demo"} 1`)
	}, 5*time.Second, 10*time.Millisecond)

	// A stream of the demo unit, open across the reload: its unit is unchanged, so is its hub.
	demoEvents := openStream(t, base+"/v1/units/demo/events")
	waitEvent(t, demoEvents, "unit.state", nil)

	write("listen: 127.0.0.1:0\napi_keys:\n" + adminEntry + strings.Replace(newEntry, "app", "app", 1) +
		"units:\n  - id: branch\n    url: https://192.0.2.20:8089\n    username: api\n    password: pw\n" +
		"webhooks:\n  - name: crm\n    url: http://127.0.0.1:9/hook\n    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n    units: [demo]\n")
	code, body = postKey(t, base+"/v1/admin/reload", admin)
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"units_added":["branch"]`)
	assert.Contains(t, body, `"units_unchanged":["demo"]`)
	assert.Equal(t, http.StatusOK, <-done, "the request in flight finished")

	code, _ = getWith(t, base+"/v1/units/demo/extensions/1000", oldKey)
	assert.Equal(t, http.StatusUnauthorized, code, "the rotated-out key is refused")
	code, body = getWith(t, base+"/v1/units/demo/extensions/1000", newKey)
	assert.Equal(t, http.StatusOK, code, body)
	code, body = getWith(t, base+"/v1/units/branch", newKey)
	assert.Equal(t, http.StatusOK, code, "the added unit is served: %s", body)
	code, _ = headWith(t, base+"/v1/units/branch/events", newKey)
	assert.Equal(t, http.StatusOK, code, "the added unit has live events at once")
	code, body = getWith(t, base+"/v1/webhooks", admin)
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"name":"crm"`, "the webhook the file added runs")
	assert.NotContains(t, body, "whsec_", "and its secret is not shown")
	select {
	case _, open := <-demoEvents:
		assert.True(t, open, "the unchanged unit's stream goes on")
	case <-time.After(300 * time.Millisecond):
	}
	_, metrics := get(t, base+"/metrics")
	assert.Contains(t, metrics, "ucm_gateway_config_reload_success 1")
	assert.Contains(t, metrics, `ucm_gateway_logins_total{result="success",unit="demo"} 1`, "the demo unit kept its session")

	// A key without admin may not reload.
	code, _ = postKey(t, base+"/v1/admin/reload", newKey)
	assert.Equal(t, http.StatusForbidden, code)

	// A bad file changes nothing and says why.
	write("listen: 127.0.0.1:0\napi_keys:\n" + adminEntry + "units:\n  - id: branch\n    url: http://192.0.2.20\n    username: api\n")
	code, body = postKey(t, base+"/v1/admin/reload", admin)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	assert.Contains(t, body, "urn:ucm-gateway:problem:config-invalid")
	assert.Contains(t, body, "config.units[0].url")
	assert.Contains(t, body, "https")
	code, _ = getWith(t, base+"/v1/units/demo/extensions/1000", newKey)
	assert.Equal(t, http.StatusOK, code, "the key the bad file dropped still works: nothing changed")
	code, _ = getWith(t, base+"/v1/units/branch", newKey)
	assert.Equal(t, http.StatusOK, code)
	_, metrics = get(t, base+"/metrics")
	assert.Contains(t, metrics, "ucm_gateway_config_reload_success 0")
	assert.Contains(t, logsSoFar(), "configuration reload failed: nothing changed")

	// SIGHUP reloads as well.
	write("listen: 127.0.0.1:0\napi_keys:\n" + adminEntry + newEntry)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool {
		code, _ := getWith(t, base+"/v1/units/branch", newKey)
		return code == http.StatusNotFound
	}, 5*time.Second, 20*time.Millisecond, "SIGHUP removed the unit")
	_, metrics = get(t, base+"/metrics")
	assert.Contains(t, metrics, "ucm_gateway_config_reload_success 1")
}

// headWith sends a HEAD with the given key.
func headWith(t *testing.T, url, key string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}
