package sessionpool

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// logLines decodes the JSON log lines with the given msg.
func logLines(t *testing.T, out, msg string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewBufferString(out))
	for sc.Scan() {
		var l map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		if l["msg"] == msg {
			lines = append(lines, l)
		}
	}
	return lines
}

// At start each unit's first contact is logged once, with what went wrong in the operator's
// terms: a TLS failure is not "login failed", and its line names the certificate to pin.
func TestFirstContactIsLoggedOncePerUnit(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, nil))

	goodSim, tlsSim := simOn(ucmsim.Config{}), simOn(ucmsim.Config{})
	good := httpsClient(t, goodSim)
	tlsSrv, err := ucmsim.Listen(tlsSim, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = tlsSrv.Close() })
	untrusting, err := ucm.TLSOptions{}.Config() // the system roots do not know a unit's own certificate
	require.NoError(t, err)
	tlsBad, err := ucm.NewClient(tlsSrv.URL(), untrusting)
	require.NoError(t, err)
	t.Cleanup(tlsBad.CloseIdle)

	p, err := New(Options{Logger: logger}, []UnitConfig{
		{ID: "good", URL: "https://good.invalid", Username: apiUser, Password: simPassword, Client: good},
		{ID: "pinme", URL: tlsSrv.URL(), Username: apiUser, Password: simPassword, Client: tlsBad},
	})
	require.NoError(t, err)
	p.Contact()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(logLines(t, buf.String(), "first contact with unit"))+len(logLines(t, buf.String(), "first contact with unit failed")) == 2
	}, 10*time.Second, 10*time.Millisecond)

	// Later failures do not repeat the first-contact line.
	_, err = p.Do(context.Background(), "pinme", "getSystemStatus", nil)
	require.ErrorIs(t, err, ucm.ErrTLS, "a request during the back-off carries the TLS failure")
	p.Close(context.Background())

	mu.Lock()
	out := buf.String()
	mu.Unlock()
	ok := logLines(t, out, "first contact with unit")
	require.Len(t, ok, 1)
	assert.Equal(t, "good", ok[0]["unit"])
	assert.Equal(t, "ok", ok[0]["outcome"])
	failed := logLines(t, out, "first contact with unit failed")
	require.Len(t, failed, 1, "logged once")
	assert.Equal(t, "pinme", failed[0]["unit"])
	assert.Equal(t, "tls_error", failed[0]["outcome"])
	assert.Equal(t, tlsSrv.CertSHA256(), failed[0]["cert_sha256"], "the line names the certificate to pin")
	assert.Contains(t, failed[0]["tls_problem"], "pin_sha256")
	assert.Equal(t, 1, goodSim.Counters().Logins)
	assert.Zero(t, tlsSim.Counters().Challenges, "nothing reached a unit whose TLS was refused")
}
