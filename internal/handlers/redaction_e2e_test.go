package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
)

// panicky makes the session pool panic, with the action's parameters (secrets included) in the
// panic value, whenever a handler asks it to update extension 1003. Only a test can install it.
type panicky struct{ Upstream }

func (p panicky) Do(ctx context.Context, unit, action string, params map[string]any) (json.RawMessage, error) {
	if action == "updateSIPAccount" && params["extension"] == "1003" {
		panic(fmt.Sprintf("test panic with the parameters %v", params))
	}
	return p.Upstream.Do(ctx, unit, action, params)
}

// TestNothingSecretLeaks runs a scenario with logins, writes, a failed login, a panic, rejected
// keys and validation errors that echo input, then looks for every secret involved in every log
// line, response (headers and body) and metric.
func TestNothingSecretLeaks(t *testing.T) {
	readerKey, reader := testKey(t, "reader", []auth.Scope{auth.ScopeRead})
	wrongKey, _, err := auth.Generate()
	require.NoError(t, err)
	e := newAccessEnv(t, access{keys: []auth.Key{reader}, wrap: func(u Upstream) Upstream { return panicky{u} }})

	secrets := map[string]string{
		"unit password": simPassword, "admin key": adminKey, "reader key": readerKey, "rejected key": wrongKey,
		"reader key hash": reader.Hashes[0][len(auth.HashPrefix):],
	}
	for _, ext := range []string{"1000", "1001", "1002", "1003", "1004", "1005"} {
		stored, ok := e.sim.Extension(ext)
		require.True(t, ok)
		for _, k := range []string{"secret", "vmsecret", "user_outrt_passwd"} {
			if s, ok := stored[k].(string); ok && s != "" {
				secrets[ext+" "+k] = s
			}
		}
	}
	for i, s := range []string{"Cr3ate-S3cret-A", "Patch-S3cret-B", "Panic-S3cret-C", "Echo-S3cret-D" + strings.Repeat("x", 60), "Echo-S3cret-E", "Echo-S3cret-F", "Echo-S3cret-G"} {
		secrets[fmt.Sprintf("written secret %d", i)] = s
	}

	var seen strings.Builder
	record := func(code int, h http.Header, body []byte) int {
		for k, v := range h {
			fmt.Fprintf(&seen, "%s: %s\n", k, strings.Join(v, ", "))
		}
		seen.Write(body)
		seen.WriteString("\n")
		return code
	}
	steps := []struct {
		name       string
		key        string
		method     string
		path       string
		ctype      string
		body       string
		headers    []string
		wantStatus int
	}{
		{"login and read", adminKey, "GET", "/v1/units/demo/extensions/1000", "", "", nil, 200},
		{"read a list", readerKey, "GET", "/v1/units/demo/extensions?page_size=100", "", "", nil, 200},
		{"create with a secret", adminKey, "POST", "/v1/units/demo/extensions", "application/json", `{"extension":"2001","secret":"Cr3ate-S3cret-A","first_name":"Grace"}`, nil, 201},
		{"patch a secret", adminKey, "PATCH", "/v1/units/demo/extensions/2001", mergePatch, `{"secret":"Patch-S3cret-B"}`, nil, 200},
		{"apply", adminKey, "POST", "/v1/units/demo/config/apply", "", "", nil, 200},
		{"a handler panics holding a secret", adminKey, "PATCH", "/v1/units/demo/extensions/1003", mergePatch, `{"secret":"Panic-S3cret-C"}`, nil, 500},
		{"secret too long is echoed by nobody", adminKey, "PATCH", "/v1/units/demo/extensions/1001", mergePatch, `{"secret":"Echo-S3cret-D` + strings.Repeat("x", 60) + `"}`, nil, 400},
		{"bad extension beside a secret", adminKey, "POST", "/v1/units/demo/extensions", "application/json", `{"extension":"20a1","secret":"Echo-S3cret-E"}`, nil, 400},
		{"secret where a number is due", adminKey, "PATCH", "/v1/units/demo/extensions/1001", mergePatch, `{"user_outrt_passwd":"Echo-S3cret-F"}`, nil, 400},
		{"broken JSON holding a secret", adminKey, "POST", "/v1/units/demo/extensions", "application/json", `{"secret":"Echo-S3cret-G",`, nil, 400},
		{"a key that does not exist", wrongKey, "GET", "/v1/units", "", "", nil, 401},
		{"a key sent as Basic", "", "GET", "/v1/units", "", "", []string{"Authorization", "Basic " + readerKey}, 401},
		{"a key without a scheme", "", "GET", "/v1/units", "", "", []string{"Authorization", adminKey}, 401},
		{"a reader writes", readerKey, "PATCH", "/v1/units/demo/extensions/1001", mergePatch, `{"secret":"Patch-S3cret-B"}`, nil, 403},
	}
	for _, s := range steps {
		code := record(e.doAs(t, s.key, s.method, s.path, s.ctype, s.body, s.headers...))
		assert.Equal(t, s.wantStatus, code, s.name)
	}

	// A failed login: the unit's password changes under the gateway, which stops logging in.
	e.sim.SetPassword("Changed-Unit-Pa55word")
	secrets["changed unit password"] = "Changed-Unit-Pa55word"
	e.sim.ForgetCookies()
	assert.Equal(t, http.StatusBadGateway, record(e.doAs(t, adminKey, "GET", "/v1/units/demo/extensions/1001", "", "")))
	e.sim.SetPassword(simPassword)
	assert.Equal(t, 200, record(e.doAs(t, adminKey, "POST", "/v1/units/demo/reset", "", "")))
	assert.Equal(t, 200, record(e.doAs(t, adminKey, "GET", "/v1/units/demo/extensions/1001", "", "")))
	assert.Equal(t, 200, record(e.doAs(t, readerKey, "GET", "/v1/units/demo", "", "")))
	record(e.doAs(t, "", "GET", "/metrics", "", ""))

	out, logs := seen.String(), e.logs.String()
	require.Contains(t, logs, `"msg":"handler panicked"`, "the panic happened and was logged")
	require.Contains(t, logs, `"msg":"audit"`)
	require.Contains(t, out, "ucm_gateway_http_requests_total", "the metrics were read")
	for what, s := range secrets {
		assert.NotContains(t, out, s, "a response or metric holds the %s", what)
		assert.NotContains(t, logs, s, "the log holds the %s", what)
	}
	assert.False(t, cookieRE.MatchString(out), "a response holds a UCM cookie")
	assert.False(t, cookieRE.MatchString(logs), "the log holds a UCM cookie")
	assert.Greater(t, e.sim.Counters().Logins, 1, "the scenario logged in more than once")
}
