package handlers

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// logLine finds the request's log line by its request id.
func logLine(t *testing.T, logs, requestID string) map[string]any {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["request_id"] == requestID && line["route"] != nil {
			return line
		}
	}
	t.Fatalf("no request log line with request_id %q in:\n%s", requestID, logs)
	return nil
}

func (e *env) send(t *testing.T, method, path string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	readAll(t, resp)
	return resp
}

func TestRequestLogLine(t *testing.T) {
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	tests := []struct {
		name   string
		path   string
		header map[string]string
		want   map[string]any
		absent []string
	}{
		{
			name:   "a UCM read",
			path:   "/v1/units/demo/extensions/1000",
			header: map[string]string{"X-Request-Id": "req-read-1", "traceparent": "00-" + trace + "-00f067aa0ba902b7-01"},
			want: map[string]any{"route": "/v1/units/{unit}/extensions/{ext}", "unit": "demo", "status": float64(200),
				"ucm_calls": "getSIPAccount:ok", "trace_id": trace},
		},
		{
			name:   "a UCM error status",
			path:   "/v1/units/demo/extensions/9999",
			header: map[string]string{"X-Request-Id": "req-missing-1"},
			want: map[string]any{"route": "/v1/units/{unit}/extensions/{ext}", "unit": "demo", "status": float64(404),
				"ucm_calls": "getSIPAccount:status_-16", "ucm_status": float64(-16)},
			absent: []string{"trace_id"},
		},
		{
			name:   "a malformed traceparent is not logged",
			path:   "/v1/units",
			header: map[string]string{"X-Request-Id": "req-units-1", "traceparent": "00-nothex-00f067aa0ba902b7-01"},
			want:   map[string]any{"route": "/v1/units", "status": float64(200)},
			absent: []string{"trace_id", "ucm_calls", "unit"},
		},
		{
			name:   "an unknown path is logged under no route of its own",
			path:   "/v1/nothing/here",
			header: map[string]string{"X-Request-Id": "req-404-1"},
			want:   map[string]any{"route": "unmatched", "status": float64(404)},
		},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.send(t, http.MethodGet, tt.path, tt.header)
			line := logLine(t, e.logs.String(), tt.header["X-Request-Id"])
			for k, v := range tt.want {
				assert.Equalf(t, v, line[k], "log field %q in %v", k, line)
			}
			for _, k := range tt.absent {
				assert.NotContainsf(t, line, k, "log field %q should be absent", k)
			}
			assert.Contains(t, line, "duration_ms")
			if _, calledUnit := tt.want["ucm_calls"]; calledUnit {
				assert.Contains(t, line, "ucm_ms", "time spent on the unit")
			} else {
				assert.NotContains(t, line, "ucm_ms")
			}
		})
	}
}

func TestLogsNeverCarrySecrets(t *testing.T) {
	e := newEnv(t)
	code, _, body := e.do(t, http.MethodPost, "/v1/units/demo/extensions", "application/json",
		`{"extension":"2001","secret":"Very-Secret-2001","vmsecret":"97531","first_name":"Grace"}`)
	require.Equal(t, http.StatusCreated, code, "%s", body)
	e.do(t, http.MethodGet, "/v1/units/demo/extensions/2001", "", "")
	code, _, body = e.do(t, http.MethodPatch, "/v1/units/demo/extensions/2001", "application/merge-patch+json", `{"secret":"Another-Secret-2001"}`)
	require.Equal(t, http.StatusOK, code, "%s", body)
	logs := e.logs.String()
	for _, secret := range []string{simPassword, "Very-Secret-2001", "97531", "Another-Secret-2001"} {
		assert.NotContainsf(t, logs, secret, "a secret reached the logs")
	}
	code, _, body = e.do(t, http.MethodGet, "/metrics", "", "")
	require.Equal(t, http.StatusOK, code)
	for _, secret := range []string{simPassword, "Very-Secret-2001"} {
		assert.NotContainsf(t, string(body), secret, "a secret reached the metrics")
	}
}

func TestRequestIDIsAcceptedOrGenerated(t *testing.T) {
	tests := []struct {
		name     string
		sent     string
		wantSame bool
	}{
		{name: "a sane client id is kept", sent: "frontend-42.a:b_c", wantSame: true},
		{name: "none is generated", sent: ""},
		{name: "one with spaces is replaced", sent: "has space"},
		{name: "a log-injection attempt is replaced", sent: `x","level":"ERROR`},
		{name: "an overlong one is replaced", sent: strings.Repeat("a", 129)},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.send(t, http.MethodGet, "/v1/units", map[string]string{"X-Request-Id": tt.sent})
			got := resp.Header.Get("X-Request-Id")
			if tt.wantSame {
				assert.Equal(t, tt.sent, got)
				return
			}
			assert.NotEqual(t, tt.sent, got)
			assert.Regexp(t, `^[0-9a-f]{24}$`, got, "a generated id")
		})
	}
}

// The exact series a short scenario produces, through the real router: route patterns (never
// raw paths), UCM calls by unit/action/outcome, logins, session state.
func TestMetricsScenario(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/v1/units/demo/extensions/1000", "/v1/units/demo/extensions/1001", "/v1/units/demo/extensions/9999", "/v1/units/nope", "/no/such/path"} {
		e.do(t, http.MethodGet, p, "", "")
	}
	reg := e.metrics.Registry

	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP ucm_gateway_http_requests_total REST requests served, by chi route pattern, method and status code.
# TYPE ucm_gateway_http_requests_total counter
ucm_gateway_http_requests_total{code="200",method="GET",route="/v1/units/{unit}/extensions/{ext}"} 2
ucm_gateway_http_requests_total{code="404",method="GET",route="/v1/units/{unit}/extensions/{ext}"} 1
ucm_gateway_http_requests_total{code="404",method="GET",route="/v1/units/{unit}"} 1
ucm_gateway_http_requests_total{code="404",method="GET",route="unmatched"} 1
# HELP ucm_gateway_ucm_calls_total Actions sent to UCM units, by outcome: ok, status_<code> for a UCM error status, transport, timeout, not_json, canceled.
# TYPE ucm_gateway_ucm_calls_total counter
ucm_gateway_ucm_calls_total{action="getSIPAccount",outcome="ok",unit="demo"} 2
ucm_gateway_ucm_calls_total{action="getSIPAccount",outcome="status_-16",unit="demo"} 1
ucm_gateway_ucm_calls_total{action="login",outcome="ok",unit="demo"} 1
# HELP ucm_gateway_logins_total Challenge+login handshakes with UCM units, by result (success, failure).
# TYPE ucm_gateway_logins_total counter
ucm_gateway_logins_total{result="failure",unit="demo"} 0
ucm_gateway_logins_total{result="success",unit="demo"} 1
# HELP ucm_gateway_session_state 1 for the current session state of each unit (cold, ready, auth_failed, unreachable, backing_off), 0 for the others.
# TYPE ucm_gateway_session_state gauge
ucm_gateway_session_state{state="auth_failed",unit="demo"} 0
ucm_gateway_session_state{state="backing_off",unit="demo"} 0
ucm_gateway_session_state{state="cold",unit="demo"} 0
ucm_gateway_session_state{state="ready",unit="demo"} 1
ucm_gateway_session_state{state="unreachable",unit="demo"} 0
# HELP ucm_gateway_ucm_in_flight Actions currently being sent to each unit.
# TYPE ucm_gateway_ucm_in_flight gauge
ucm_gateway_ucm_in_flight{unit="demo"} 0
# HELP ucm_gateway_breaker_state Circuit breaker per unit: 0 closed, 1 half-open, 2 open.
# TYPE ucm_gateway_breaker_state gauge
ucm_gateway_breaker_state{unit="demo"} 0
`), "ucm_gateway_http_requests_total", "ucm_gateway_ucm_calls_total", "ucm_gateway_logins_total",
		"ucm_gateway_session_state", "ucm_gateway_ucm_in_flight", "ucm_gateway_breaker_state")
	require.NoError(t, err)

	// Latency histograms: one observation per call, under the same bounded labels.
	fams, err := reg.Gather()
	require.NoError(t, err)
	counts := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "ucm_gateway_ucm_call_duration_seconds" && f.GetName() != "ucm_gateway_http_request_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			counts[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetHistogram().GetSampleCount()
		}
	}
	assert.Equal(t, map[string]uint64{
		"ucm_gateway_ucm_call_duration_seconds{action=getSIPAccount,unit=demo}":                         3,
		"ucm_gateway_ucm_call_duration_seconds{action=login,unit=demo}":                                 1,
		"ucm_gateway_http_request_duration_seconds{method=GET,route=/v1/units/{unit}/extensions/{ext}}": 3,
		"ucm_gateway_http_request_duration_seconds{method=GET,route=/v1/units/{unit}}":                  1,
		"ucm_gateway_http_request_duration_seconds{method=GET,route=unmatched}":                         1,
	}, counts)
}

// Metric names, help, units and types follow Prometheus conventions.
func TestMetricsLint(t *testing.T) {
	e := newEnv(t)
	e.do(t, http.MethodGet, "/v1/units/demo/extensions/1000", "", "")
	problems, err := testutil.GatherAndLint(e.metrics.Registry)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func TestHealthAndReadiness(t *testing.T) {
	// The only unit is unreachable: readiness must not depend on it (one dead PBX never takes
	// the gateway out of the load balancer); its state is in GET /v1/units/{unit}.
	dead := httptest.NewTLSServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	client, err := ucm.NewClient(deadURL, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // nothing listens there
	require.NoError(t, err)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	m := metrics.New("test")
	pool, err := sessionpool.New(sessionpool.Options{Logger: logger, Metrics: m},
		[]sessionpool.UnitConfig{{ID: "dead", URL: deadURL, Username: "api", Password: "x", Client: client}})
	require.NoError(t, err)
	t.Cleanup(func() { pool.Close(context.Background()) })
	var ready bool
	// Open (no keys): this test is about health, not access.
	h, err := New(Options{Upstream: pool, Logger: logger, Metrics: m, Ready: func() bool { return ready }, InsecureNoAuth: true})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/units/dead/system/status", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "the unit is unreachable: %s", rec.Body)
	tests := []struct {
		name     string
		ready    bool
		path     string
		wantCode int
		wantBody string
	}{
		{name: "alive while starting", ready: false, path: "/healthz", wantCode: 200, wantBody: "ok\n"},
		{name: "not ready while starting or stopping", ready: false, path: "/readyz", wantCode: 503, wantBody: "not ready\n"},
		{name: "alive", ready: true, path: "/healthz", wantCode: 200, wantBody: "ok\n"},
		{name: "ready although the only unit is down", ready: true, path: "/readyz", wantCode: 200, wantBody: "ready\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready = tt.ready
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			assert.Equalf(t, tt.wantCode, rec.Code, "GET %s = %d; want %d", tt.path, rec.Code, tt.wantCode)
			assert.Equal(t, tt.wantBody, rec.Body.String())
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		})
	}
}
