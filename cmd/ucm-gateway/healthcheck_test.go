package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthURL(t *testing.T) {
	tests := []struct {
		listen, want string
		wantErr      bool
	}{
		{listen: ":8080", want: "http://127.0.0.1:8080/healthz"},
		{listen: "0.0.0.0:9000", want: "http://127.0.0.1:9000/healthz"},
		{listen: "[::]:9000", want: "http://127.0.0.1:9000/healthz"},
		{listen: "10.0.0.5:8080", want: "http://10.0.0.5:8080/healthz"},
		{listen: "[::1]:8080", want: "http://[::1]:8080/healthz"},
		{listen: "8080", wantErr: true},
	}
	for _, tt := range tests {
		got, err := healthURL(tt.listen)
		if tt.wantErr {
			assert.Errorf(t, err, "healthURL(%q) = %q; want an error", tt.listen, got)
			continue
		}
		require.NoError(t, err)
		assert.Equalf(t, tt.want, got, "healthURL(%q) = %q; want %q", tt.listen, got, tt.want)
	}
}

func TestHealthcheckSubcommand(t *testing.T) {
	addr, stop := startRun(t, []string{"--demo", "--listen", "127.0.0.1:0"}, nil)
	defer stop()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer sick.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "healthy gateway by --listen", args: []string{"--listen", addr}},
		{name: "healthy gateway by env", env: map[string]string{"UCM_GATEWAY_LISTEN": addr}},
		{name: "not 200", args: []string{"--url", sick.URL + "/healthz"}, wantErr: "answered 503"},
		{name: "nothing listening", args: []string{"--url", dead.URL + "/healthz"}, wantErr: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), append([]string{"ucm-gateway", "healthcheck"}, tt.args...), func(k string) string { return tt.env[k] }, &out)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "ok\n", out.String())
		})
	}
}
