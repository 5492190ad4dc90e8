package handlers

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
)

// testKey makes a key for a client with the given scopes and units.
func testKey(t *testing.T, name string, scopes []auth.Scope, units ...string) (string, auth.Key) {
	t.Helper()
	key, hash, err := auth.Generate()
	require.NoError(t, err)
	if len(units) == 0 {
		units = []string{auth.AllUnits}
	}
	return key, auth.Key{Name: name, Hashes: []string{hash}, Scopes: scopes, Units: units}
}

func TestRequestsWithoutAValidKeyAre401(t *testing.T) {
	key, k := testKey(t, "reader", []auth.Scope{auth.ScopeRead})
	e := newAccessEnv(t, access{keys: []auth.Key{k}})
	tests := []struct {
		name       string
		header     string // Authorization; "" sends none
		method     string
		path       string
		wantStatus int
		wantError  string // in WWW-Authenticate
	}{
		{"no header", "", "GET", "/v1/units/demo/extensions/1000", 401, ""},
		{"no header on a write", "", "POST", "/v1/units/demo/config/apply", 401, ""},
		{"no header, invalid input", "", "GET", "/v1/units/demo/extensions/1", 401, ""},
		{"no header, unknown unit", "", "GET", "/v1/units/nope", 401, ""},
		{"no header, unit list", "", "GET", "/v1/units", 401, ""},
		{"basic auth", "Basic " + key, "GET", "/v1/units", 401, "invalid_request"},
		{"bare key", key, "GET", "/v1/units", 401, "invalid_request"},
		{"bearer without token", "Bearer ", "GET", "/v1/units", 401, "invalid_request"},
		{"unknown key", "Bearer ucmgw_" + strings.Repeat("A", 43), "GET", "/v1/units", 401, "invalid_token"},
		{"key with a character more", "Bearer " + key + "x", "GET", "/v1/units", 401, "invalid_token"},
		{"the hash instead of the key", "Bearer " + k.Hashes[0], "GET", "/v1/units", 401, "invalid_token"},
		{"valid key", "Bearer " + key, "GET", "/v1/units/demo/extensions/1000", 200, ""},
		{"scheme in lower case", "bearer " + key, "GET", "/v1/units", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.header != "" {
				hdr = []string{"Authorization", tc.header}
			}
			before := e.sim.TotalCalls()
			code, h, body := e.doAs(t, "", tc.method, tc.path, "", "", hdr...)
			require.Equal(t, tc.wantStatus, code, "%s %s with %q = %d; want %d; body %s", tc.method, tc.path, tc.header, code, tc.wantStatus, body)
			if tc.wantStatus != 401 {
				return
			}
			p := problem(t, h, body)
			assert.Equal(t, "urn:ucm-gateway:problem:unauthenticated", p.Type)
			assert.NotEmpty(t, p.RequestID)
			assert.True(t, strings.HasPrefix(h.Get("WWW-Authenticate"), `Bearer realm="ucm-gateway"`), "WWW-Authenticate: %q", h.Get("WWW-Authenticate"))
			if tc.wantError != "" {
				assert.Contains(t, h.Get("WWW-Authenticate"), `error="`+tc.wantError+`"`)
			}
			assert.NotContains(t, string(body), key, "the problem echoes the key")
			assert.Empty(t, h.Get("RateLimit"), "no budget is spent or shown before authentication")
			assert.Equal(t, before, e.sim.TotalCalls(), "an unauthenticated request reached the unit")
		})
	}
	assert.NotContains(t, e.logs.String(), key, "the log holds the key")
}

func TestScopes(t *testing.T) {
	var keys []auth.Key
	key := map[string]string{}
	for name, scopes := range map[string][]auth.Scope{
		"reader": {auth.ScopeRead},
		"writer": {auth.ScopeWrite},
		"caller": {auth.ScopeCalls, auth.ScopeRead},
		"admin":  {auth.ScopeAdmin},
		"ops":    {auth.ScopeRead, auth.ScopeWrite},
	} {
		k, entry := testKey(t, name, scopes)
		key[name] = k
		keys = append(keys, entry)
	}
	tests := []struct {
		key, method, path, ctype, body string
		wantStatus                     int
	}{
		{"reader", "GET", "/v1/units", "", "", 200},
		{"reader", "GET", "/v1/units/demo/extensions/1000", "", "", 200},
		{"reader", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"dnd": true}`, 403},
		{"reader", "POST", "/v1/units/demo/config/apply", "", "", 403},
		{"reader", "POST", "/v1/units/demo/reset", "", "", 403},
		// The Wave QR code carries the SIP credentials: reading it needs write.
		{"reader", "GET", "/v1/units/demo/extensions/1000/qr", "", "", 403},
		{"writer", "GET", "/v1/units/demo/extensions/1000/qr", "", "", 200},
		{"writer", "GET", "/v1/units/demo/extensions/1000", "", "", 403},
		{"writer", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"dnd": true}`, 200},
		{"writer", "DELETE", "/v1/units/demo/extensions/1005", "", "", 204},
		{"writer", "POST", "/v1/units/demo/reset", "", "", 403},
		{"caller", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"dnd": true}`, 403},
		{"caller", "POST", "/v1/units/demo/config/apply", "", "", 403},
		{"admin", "POST", "/v1/units/demo/reset", "", "", 200},
		{"admin", "GET", "/v1/units/demo", "", "", 403},
		{"admin", "POST", "/v1/units/demo/config/apply", "", "", 403},
		{"ops", "POST", "/v1/units/demo/config/apply", "", "", 200},
		{"ops", "POST", "/v1/units/demo/reset", "", "", 403},
		// The scope is checked before the input: a key that may not write learns nothing from
		// the validator.
		{"reader", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"max_contacts": 99}`, 403},
	}
	e := newAccessEnv(t, access{keys: keys})
	for _, tc := range tests {
		t.Run(tc.key+" "+tc.method+" "+tc.path, func(t *testing.T) {
			before := e.sim.TotalCalls()
			code, h, body := e.doAs(t, key[tc.key], tc.method, tc.path, tc.ctype, tc.body)
			require.Equal(t, tc.wantStatus, code, "%s: %s %s = %d; want %d; body %s", tc.key, tc.method, tc.path, code, tc.wantStatus, body)
			if code == 403 {
				p := problem(t, h, body)
				assert.Equal(t, "urn:ucm-gateway:problem:forbidden", p.Type)
				assert.Contains(t, p.Detail, `"`+tc.key+`"`)
				assert.Equal(t, before, e.sim.TotalCalls(), "a refused request reached the unit")
			}
		})
	}
}

func TestAUnitTheKeyMayNotUseDoesNotExistForIt(t *testing.T) {
	key, k := testKey(t, "hq-only", []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, "demo")
	e := newAccessEnv(t, access{keys: []auth.Key{k}, extraUnits: []string{"branch"}})

	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	code, _, body := e.doAs(t, key, "GET", "/v1/units", "", "")
	require.Equal(t, 200, code)
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Items, 1, "body: %s", body)
	assert.Equal(t, "demo", list.Items[0].ID)
	require.Equal(t, 200, e.getJSON(t, "/v1/units", &list))
	assert.Len(t, list.Items, 2, "the admin key sees both units")

	// Every answer about "branch" (hidden) must read like the answer about "ghost" (absent).
	normalise := func(unit string, h http.Header, body []byte) string {
		s := regexp.MustCompile(`"request_id":"[^"]*"`).ReplaceAllString(string(body), "")
		return h.Get("Content-Type") + " " + strings.ReplaceAll(s, unit, "UNIT")
	}
	for _, tc := range []struct{ method, path, ctype, body string }{
		{"GET", "/v1/units/UNIT", "", ""},
		{"GET", "/v1/units/UNIT/extensions/1000", "", ""},
		{"GET", "/v1/units/UNIT/extensions/1", "", ""}, // invalid input: 400 for both
		{"GET", "/v1/units/UNIT/extensions?page_size=2", "", ""},
		{"PATCH", "/v1/units/UNIT/extensions/1000", mergePatch, `{"dnd": true}`},
		{"PATCH", "/v1/units/UNIT/extensions/1000", mergePatch, `{"dnd": "yes"}`},
		{"POST", "/v1/units/UNIT/config/apply", "", ""},
		{"POST", "/v1/units/UNIT/reset", "", ""}, // 403 for both: the key lacks admin
	} {
		hc, hh, hb := e.doAs(t, key, tc.method, strings.ReplaceAll(tc.path, "UNIT", "branch"), tc.ctype, tc.body)
		gc, gh, gb := e.doAs(t, key, tc.method, strings.ReplaceAll(tc.path, "UNIT", "ghost"), tc.ctype, tc.body)
		assert.Equal(t, gc, hc, "%s %s: hidden unit %d, absent unit %d", tc.method, tc.path, hc, gc)
		assert.Equal(t, normalise("ghost", gh, gb), normalise("branch", hh, hb), "%s %s", tc.method, tc.path)
		assert.NotEqual(t, 200, hc)
	}
	assert.Equal(t, 0, e.sim.Counters().Challenges, "the hidden unit was contacted")
	code, _, _ = e.doAs(t, key, "GET", "/v1/units/demo/extensions/1000", "", "")
	assert.Equal(t, 200, code, "the key's own unit works")
}

func TestKeyRotationTwoKeysOneClient(t *testing.T) {
	oldKey, oldHash, err := auth.Generate()
	require.NoError(t, err)
	newKey, newHash, err := auth.Generate()
	require.NoError(t, err)
	client := auth.Key{Name: "crm", Hashes: []string{oldHash, newHash}, Scopes: []auth.Scope{auth.ScopeRead}, Units: []string{"*"}, RateLimit: 4}
	e := newAccessEnv(t, access{keys: []auth.Key{client}})

	for _, k := range []string{oldKey, newKey, oldKey, newKey} {
		code, _, body := e.doAs(t, k, "GET", "/v1/units", "", "")
		require.Equal(t, 200, code, "body: %s", body)
	}
	code, _, _ := e.doAs(t, newKey, "GET", "/v1/units", "", "")
	assert.Equal(t, http.StatusTooManyRequests, code, "both keys of one client share its budget")
	logs := e.logs.String()
	assert.Contains(t, logs, `"key":"crm"`)
	assert.NotContains(t, logs, oldKey)
	assert.NotContains(t, logs, newKey)

	// The old key is removed from the configuration: only the new one works.
	e2 := newAccessEnv(t, access{keys: []auth.Key{{Name: "crm", Hashes: []string{newHash}, Scopes: client.Scopes, Units: client.Units}}})
	code, _, _ = e2.doAs(t, oldKey, "GET", "/v1/units", "", "")
	assert.Equal(t, 401, code)
	code, _, _ = e2.doAs(t, newKey, "GET", "/v1/units", "", "")
	assert.Equal(t, 200, code)
}

func TestInsecureNoAuthLetsEveryoneIn(t *testing.T) {
	e := newAccessEnv(t, access{open: true})
	code, _, body := e.doAs(t, "", "GET", "/v1/units/demo/extensions/1000", "", "")
	assert.Equal(t, 200, code, "body: %s", body)
	code, _, _ = e.doAs(t, "", "POST", "/v1/units/demo/reset", "", "")
	assert.Equal(t, 200, code)
}

func TestNoKeysIsRefused(t *testing.T) {
	_, err := New(Options{})
	require.Error(t, err)
	kr, err := auth.NewKeyring(nil)
	require.NoError(t, err)
	_, err = New(Options{Keys: kr})
	require.Error(t, err, "an empty key ring is an open gateway")
}

// Idempotency keys belong to the client and the unit: another client reusing the same header
// value dials its own call, and learns nothing about the first.
func TestIdempotencyKeysArePerClient(t *testing.T) {
	keyA, a := testKey(t, "crm-a", []auth.Scope{auth.ScopeCalls, auth.ScopeRead})
	keyB, b := testKey(t, "crm-b", []auth.Scope{auth.ScopeCalls, auth.ScopeRead})
	e := newAccessEnv(t, access{keys: []auth.Key{a, b}})
	for _, tc := range []struct{ key, body string }{
		{keyA, `{"from":"1000","to":{"type":"extension","number":"1001"}}`},
		{keyB, `{"from":"1005","to":{"type":"extension","number":"1003"}}`},
	} {
		code, _, body := e.doAs(t, tc.key, "POST", "/v1/units/demo/calls", "application/json", tc.body, "Idempotency-Key", "order-4711")
		require.Equal(t, http.StatusCreated, code, "body: %s", body)
	}
	assert.Equal(t, 2, e.sim.Calls("dialExtension"), "each client's key is its own")
}

func TestUnknownMethodsShareOneMetricLabel(t *testing.T) {
	e := newEnv(t)
	for _, m := range []string{"FOO", "BAR", "BAZ"} {
		e.do(t, m, "/healthz", "", "")
	}
	body := ""
	_, _, b := e.do(t, "GET", "/metrics", "", "")
	body = string(b)
	assert.NotContains(t, body, `method="FOO"`)
	assert.Contains(t, body, `method="OTHER"`)
}
