package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// At start the gateway contacts every unit once and logs how it went, so an operator sees a
// wrong address or certificate before the first client does.
func TestFirstContactOfEachUnitIsLoggedAtStart(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "ucm-gateway.yaml")
	// Port 1 on loopback: nothing listens there, so the connection is refused.
	require.NoError(t, os.WriteFile(cfg, []byte(`units:
  - id: gone
    url: https://127.0.0.1:1
    username: api
    password: pw
    tls: {insecure_skip_verify: true}
`), 0o600))
	_, logsSoFar, stop := startRunLogs(t, []string{"--demo", "--config", cfg, "--listen", "127.0.0.1:0"}, nil)
	require.Eventually(t, func() bool { return strings.Count(logsSoFar(), `"msg":"first contact with unit`) == 2 }, 10*time.Second, 10*time.Millisecond)
	err, logs := stop()
	require.NoError(t, err)
	var demo, gone string
	for _, l := range strings.Split(logs, "\n") {
		switch {
		case strings.Contains(l, `"msg":"first contact with unit`) && strings.Contains(l, `"unit":"demo"`):
			demo = l
		case strings.Contains(l, `"msg":"first contact with unit`) && strings.Contains(l, `"unit":"gone"`):
			gone = l
		}
	}
	assert.Contains(t, demo, `"outcome":"ok"`)
	assert.Contains(t, gone, `"outcome":"unreachable"`)
	assert.Contains(t, gone, "connection refused")
	assert.Equal(t, 2, strings.Count(logs, `"msg":"first contact with unit`), "once per unit")
}
