package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
)

func TestPerKeyRateLimit(t *testing.T) {
	key, k := testKey(t, "crm", []auth.Scope{auth.ScopeRead})
	otherKey, other := testKey(t, "monitor", []auth.Scope{auth.ScopeRead})
	e := newAccessEnv(t, access{keys: []auth.Key{k, other}, rateLimit: RateLimit{Requests: 3, Window: time.Minute}})

	for i := range 3 {
		code, h, body := e.doAs(t, key, "GET", "/v1/units", "", "")
		require.Equal(t, 200, code, "request %d: %s", i+1, body)
		assert.Equal(t, `"per-key";q=3;w=60`, h.Get("RateLimit-Policy"))
		assert.Regexp(t, `^"per-key";r=`+strconv.Itoa(2-i)+`;t=\d+$`, h.Get("RateLimit"))
	}
	code, h, body := e.doAs(t, key, "GET", "/v1/units/demo/extensions/1000", "", "")
	require.Equal(t, http.StatusTooManyRequests, code, "body: %s", body)
	p := problem(t, h, body)
	assert.Equal(t, "urn:ucm-gateway:problem:rate-limited", p.Type)
	retry, err := strconv.Atoi(h.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", h.Get("Retry-After"))
	assert.Positive(t, retry)
	assert.LessOrEqual(t, retry, 120)
	assert.Equal(t, `"per-key";r=0;t=`+strconv.Itoa(retry), h.Get("RateLimit"))
	assert.Zero(t, e.sim.TotalCalls(), "a limited request reached the unit")

	code, _, _ = e.doAs(t, otherKey, "GET", "/v1/units", "", "")
	assert.Equal(t, 200, code, "another key has its own budget")
	code, _, _ = e.doAs(t, "", "GET", "/v1/units", "", "")
	assert.Equal(t, 401, code, "no key is refused before any budget")
}

// stubUpstream serves GET /v1/units without a unit, so a handler can run inside a synctest
// bubble (which cannot hold real network connections).
type stubUpstream struct{}

func (stubUpstream) Do(context.Context, string, string, map[string]any) (json.RawMessage, error) {
	return nil, sessionpool.ErrUnknownUnit
}
func (stubUpstream) Units() []sessionpool.UnitStatus { return nil }
func (stubUpstream) Open(context.Context, string, string, map[string]any) (*http.Response, error) {
	return nil, sessionpool.ErrUnknownUnit
}
func (stubUpstream) Unit(string) (sessionpool.UnitStatus, error) {
	return sessionpool.UnitStatus{}, sessionpool.ErrUnknownUnit
}
func (stubUpstream) Reset(string) (sessionpool.UnitStatus, error) {
	return sessionpool.UnitStatus{}, sessionpool.ErrUnknownUnit
}

func TestRetryAfterIsEnoughAndNotMore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration // into the window when the burst starts
	}{
		{"burst at the start of a window", 0},
		{"burst in the middle of a window", 5 * time.Second},
		{"burst at the end of a window", 9500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				key, k := testKey(t, "crm", []auth.Scope{auth.ScopeRead})
				kr, err := auth.NewKeyring([]auth.Key{k})
				require.NoError(t, err)
				h, err := New(Options{Upstream: stubUpstream{}, Logger: slog.New(slog.DiscardHandler), Metrics: metrics.New("test"),
					Keys: kr, RateLimit: RateLimit{Requests: 4, Window: 10 * time.Second}})
				require.NoError(t, err)
				get := func() (int, http.Header) {
					r := httptest.NewRequest("GET", "/v1/units", nil)
					r.Header.Set("Authorization", "Bearer "+key)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					return w.Code, w.Header()
				}
				// Windows are aligned to the clock: move to the wanted place in one.
				now := time.Now()
				time.Sleep(now.Truncate(10 * time.Second).Add(10*time.Second + tc.offset).Sub(now))
				for range 4 {
					code, _ := get()
					require.Equal(t, 200, code)
				}
				code, hdr := get()
				require.Equal(t, 429, code)
				retry, err := strconv.Atoi(hdr.Get("Retry-After"))
				require.NoError(t, err)

				time.Sleep(time.Duration(retry-1) * time.Second)
				code, _ = get()
				assert.Equal(t, 429, code, "a second before Retry-After (%ds) the budget is still spent", retry)
				time.Sleep(time.Second)
				code, _ = get()
				assert.Equal(t, 200, code, "after Retry-After (%ds) the request goes through", retry)
			})
		})
	}
}

func TestBodyCap(t *testing.T) {
	e := newEnv(t) // MaxBodyBytes: 64 KiB
	big := `{"extension":"2001","secret":"` + strings.Repeat("x", 70<<10) + `"}`
	tests := []struct {
		name    string
		chunked bool
	}{
		{"Content-Length over the cap", false},
		{"chunked body over the cap", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(big)
			if tc.chunked {
				body = io.MultiReader(strings.NewReader(big)) // unknown length: sent chunked
			}
			req, err := http.NewRequest("POST", e.srv.URL+"/v1/units/demo/extensions", body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := e.srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "body: %s", b)
			assert.Equal(t, "urn:ucm-gateway:problem:body-too-large", problem(t, resp.Header, b).Type)
			assert.Zero(t, e.sim.TotalCalls())
		})
	}
}

func TestCORS(t *testing.T) {
	e := newAccessEnv(t, access{cors: CORS{AllowedOrigins: []string{"https://admin.example.com"}, MaxAge: 10 * time.Minute}})
	preflight := func(origin, method, headers string) (int, http.Header) {
		code, h, _ := e.doAs(t, "", "OPTIONS", "/v1/units/demo/extensions/1000", "", "",
			"Origin", origin, "Access-Control-Request-Method", method, "Access-Control-Request-Headers", headers)
		return code, h
	}
	code, h := preflight("https://admin.example.com", "PATCH", "authorization, content-type")
	assert.Less(t, code, 300, "a preflight needs no key")
	assert.Equal(t, "https://admin.example.com", h.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "PATCH", h.Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "authorization, content-type", strings.ToLower(h.Get("Access-Control-Allow-Headers")))
	assert.Equal(t, "600", h.Get("Access-Control-Max-Age"))
	assert.Empty(t, h.Get("Access-Control-Allow-Credentials"), "keys are sent by the page, never as cookies")

	_, h = preflight("https://evil.example", "PATCH", "authorization")
	assert.Empty(t, h.Get("Access-Control-Allow-Origin"), "an origin not on the list is not allowed")
	_, h = preflight("https://admin.example.com", "PATCH", "x-secret-header")
	assert.Empty(t, h.Get("Access-Control-Allow-Origin"), "a header not on the list is not allowed")

	// The real request still needs a key, and exposes what clients read.
	code, h, _ = e.doAs(t, "", "GET", "/v1/units", "", "", "Origin", "https://admin.example.com")
	assert.Equal(t, 401, code)
	assert.Equal(t, "https://admin.example.com", h.Get("Access-Control-Allow-Origin"), "a browser must be able to read the 401")
	code, h, _ = e.doAs(t, adminKey, "GET", "/v1/units", "", "", "Origin", "https://admin.example.com")
	assert.Equal(t, 200, code)
	exposed := strings.Split(strings.ReplaceAll(h.Get("Access-Control-Expose-Headers"), " ", ""), ",")
	for _, want := range []string{"Location", "Retry-After", "Link", "Ratelimit", "Ratelimit-Policy", "X-Request-Id", "X-Pending-Apply", "Www-Authenticate"} {
		assert.Contains(t, exposed, want)
	}
	_, h, _ = e.doAs(t, adminKey, "GET", "/v1/units", "", "", "Origin", "https://evil.example")
	assert.Empty(t, h.Get("Access-Control-Allow-Origin"))

	// Without a configured list no CORS header is ever sent (go-chi/cors would allow all).
	plain := newEnv(t)
	_, h, _ = plain.doAs(t, adminKey, "GET", "/v1/units", "", "", "Origin", "https://admin.example.com")
	assert.Empty(t, h.Get("Access-Control-Allow-Origin"))
}

var auditLine = regexp.MustCompile(`(?m)^.*"msg":"audit".*$`)

func TestAuditLines(t *testing.T) {
	key, k := testKey(t, "reader", []auth.Scope{auth.ScopeRead})
	e := newAccessEnv(t, access{keys: []auth.Key{k}})
	e.do(t, "GET", "/v1/units/demo/extensions/1000", "", "")
	e.do(t, "PATCH", "/v1/units/demo/extensions/1001", mergePatch, `{"dnd": true}`)
	e.doAs(t, key, "DELETE", "/v1/units/demo/extensions/1002", "", "", "X-Request-Id", "del-1")
	e.doAs(t, "", "POST", "/v1/units/demo/config/apply", "", "")
	e.do(t, "PATCH", "/v1/units/demo/extensions/1001", mergePatch, `{"max_contacts": 99}`)

	var lines []map[string]any
	for _, l := range auditLine.FindAllString(e.logs.String(), -1) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		delete(m, "time")
		delete(m, "level")
		delete(m, "msg")
		lines = append(lines, m)
	}
	require.Len(t, lines, 4, "one line per non-read request, none for the GET")
	rid := func(i int) any { return lines[i]["request_id"] }
	want := []map[string]any{
		{"key": "test-admin", "unit": "demo", "action": "updateExtension", "target": "extensions/1001", "status": 200.0, "result": "ok"},
		{"key": "reader", "unit": "demo", "action": "deleteExtension", "target": "extensions/1002", "status": 403.0, "result": "denied", "request_id": "del-1"},
		{"key": "", "unit": "demo", "action": "applyConfig", "target": "config/apply", "status": 401.0, "result": "denied"},
		{"key": "test-admin", "unit": "demo", "action": "updateExtension", "target": "extensions/1001", "status": 400.0, "result": "refused"},
	}
	for i, w := range want {
		for k, v := range w {
			assert.Equal(t, v, lines[i][k], "audit line %d, %s: %v", i, k, lines[i])
		}
		assert.NotEmpty(t, rid(i))
		assert.NotContains(t, lines[i], "authorization")
	}
	assert.NotContains(t, e.logs.String(), key)
	assert.NotContains(t, e.logs.String(), adminKey)
}
