package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
)

func noEnv(string) string { return "" }

func TestHelpListsTheSubcommands(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		var out strings.Builder
		require.NoError(t, run(context.Background(), append([]string{"ucm-gateway"}, args...), noEnv, &out), "%v", args)
		for _, want := range []string{"ucm-gateway keygen", "ucm-gateway healthcheck", "--demo", "--config"} {
			assert.Contains(t, out.String(), want, "%v", args)
		}
	}
}

func TestStrayArgumentsAreRefused(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, `unknown subcommand "serve"`},
		{[]string{"--demo", "extra"}, `unexpected argument "extra"`},
		{[]string{"--demo", "keygen"}, `"keygen" is a subcommand: it comes first`},
		{[]string{"--listen", "127.0.0.1:0", "--demo", "8080"}, `unexpected argument "8080"`},
		{[]string{"keygen", "crm"}, `unexpected argument "crm"`},
		{[]string{"healthcheck", "--listen", ":8080", "now"}, `unexpected argument "now"`},
		{[]string{"help", "me"}, `unexpected argument "me"`},
	}
	for _, tc := range tests {
		err := run(context.Background(), append([]string{"ucm-gateway"}, tc.args...), noEnv, io.Discard)
		require.Error(t, err, "%v", tc.args)
		assert.Contains(t, err.Error(), tc.want, "%v", tc.args)
	}
}

func TestMissingConfigurationSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"--config", filepath.Join(dir, "absent.yaml")}, {"--demo", "--config", filepath.Join(dir, "absent.yaml")}} {
		err := run(context.Background(), append([]string{"ucm-gateway"}, args...), noEnv, io.Discard)
		require.Error(t, err)
		for _, want := range []string{"absent.yaml", "ucm-gateway --demo", "make run", "ucm-gateway.example.yaml", "ucm-gateway keygen"} {
			assert.Contains(t, err.Error(), want, "%v", args)
		}
	}
}

// The committed example is a configuration the gateway starts with.
func TestExampleConfigurationStarts(t *testing.T) {
	const example = "../../ucm-gateway.example.yaml"
	env := map[string]string{"UCM_HQ_PASSWORD": "example-password"}
	cfg, err := config.LoadFile(example, func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Len(t, cfg.Units, 1)
	assert.Equal(t, "UTC", cfg.Units[0].TimeZone.String())
	addr, stop := startRun(t, []string{"--config", example, "--listen", "127.0.0.1:0"}, env)
	code, _ := get(t, "http://"+addr+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	code, _ = getWith(t, "http://"+addr+"/v1/units", "")
	assert.Equal(t, http.StatusUnauthorized, code, "its placeholder key admits no one")
	err, _ = stop()
	require.NoError(t, err)
}

func TestBusyPortSaysHowToChooseAnother(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = run(context.Background(), []string{"ucm-gateway", "--demo", "--listen", ln.Addr().String()}, func(k string) string {
		if k == "UCM_GATEWAY_DEMO_KEY" {
			return testDemoKey
		}
		return ""
	}, io.Discard)
	require.Error(t, err)
	for _, want := range []string{ln.Addr().String(), "in use", "--listen", "UCM_GATEWAY_LISTEN=", `make run ARGS="--listen`} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestLogFormat(t *testing.T) {
	var text, js bytes.Buffer
	slog.New(newLogHandler(&text, slog.LevelInfo, true)).Info("listening", "addr", "127.0.0.1:8080")
	slog.New(newLogHandler(&js, slog.LevelInfo, false)).Info("listening", "addr", "127.0.0.1:8080")
	assert.Contains(t, text.String(), `level=INFO msg=listening addr=127.0.0.1:8080`)
	assert.Contains(t, js.String(), `"msg":"listening"`)

	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	assert.False(t, humanLogs(true, w), "a pipe gets JSON")
	assert.False(t, humanLogs(true, &text), "so does any other writer")
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to test with: %v", err)
	}
	defer pty.Close()
	assert.True(t, humanLogs(true, pty), "the demo on a terminal writes text")
	assert.False(t, humanLogs(false, pty), "a gateway serving real units writes JSON even on a terminal")
}
