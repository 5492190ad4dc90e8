package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HEAD is served wherever GET is: the same status and headers, no body. Every GET operation of
// the spec is tried, so a new one cannot be left out.
func TestHeadWhereverGet(t *testing.T) {
	e := newAccessEnv(t, access{events: eventSources[0].make})
	recording := e.sim.Recordings()[0]
	var calls struct {
		Items []callJSON `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls", &calls))
	require.NotEmpty(t, calls.Items)
	paths := map[string]string{ // route pattern -> a path that exists
		"/v1/units":                                 "/v1/units",
		"/v1/units/{unit}":                          "/v1/units/demo",
		"/v1/units/{unit}/system/status":            "/v1/units/demo/system/status",
		"/v1/units/{unit}/system/version":           "/v1/units/demo/system/version",
		"/v1/units/{unit}/extensions":               "/v1/units/demo/extensions?page_size=2",
		"/v1/units/{unit}/extensions/{ext}":         "/v1/units/demo/extensions/1000",
		"/v1/units/{unit}/extensions/{ext}/qr":      "/v1/units/demo/extensions/1000/qr",
		"/v1/units/{unit}/trunks/sip":               "/v1/units/demo/trunks/sip",
		"/v1/units/{unit}/trunks/sip/{trunk}":       "/v1/units/demo/trunks/sip/1",
		"/v1/units/{unit}/trunks/analog":            "/v1/units/demo/trunks/analog",
		"/v1/units/{unit}/trunks/analog/{trunk}":    "/v1/units/demo/trunks/analog/3",
		"/v1/units/{unit}/trunks/digital":           "/v1/units/demo/trunks/digital",
		"/v1/units/{unit}/calls":                    "/v1/units/demo/calls",
		"/v1/units/{unit}/calls/{call}":             "/v1/units/demo/calls/" + calls.Items[0].ID,
		"/v1/units/{unit}/cdrs":                     "/v1/units/demo/cdrs",
		"/v1/units/{unit}/recordings/{file}":        "/v1/units/demo/recordings/" + recording,
		"/v1/units/{unit}/trunks/digital/{trunk}":   "/v1/units/demo/trunks/digital/1",
		"/v1/units/{unit}/queues":                   "/v1/units/demo/queues",
		"/v1/units/{unit}/queues/{queue}":           "/v1/units/demo/queues/6500",
		"/v1/units/{unit}/queues/{queue}/agents":    "/v1/units/demo/queues/6500/agents",
		"/v1/units/{unit}/queues/{queue}/stats":     "/v1/units/demo/queues/6500/stats",
		"/v1/units/{unit}/queues/{queue}/waiting":   "/v1/units/demo/queues/6500/waiting",
		"/v1/units/{unit}/routes/inbound":           "/v1/units/demo/routes/inbound",
		"/v1/units/{unit}/routes/inbound/{route}":   "/v1/units/demo/routes/inbound/1",
		"/v1/units/{unit}/routes/outbound":          "/v1/units/demo/routes/outbound",
		"/v1/units/{unit}/routes/outbound/{route}":  "/v1/units/demo/routes/outbound/1",
		"/v1/units/{unit}/ivrs":                     "/v1/units/demo/ivrs",
		"/v1/units/{unit}/ivrs/{ivr}":               "/v1/units/demo/ivrs/7000",
		"/v1/units/{unit}/paging-groups":            "/v1/units/demo/paging-groups",
		"/v1/units/{unit}/paging-groups/{group}":    "/v1/units/demo/paging-groups/7100",
		"/v1/units/{unit}/extension-groups":         "/v1/units/demo/extension-groups",
		"/v1/units/{unit}/extension-groups/{group}": "/v1/units/demo/extension-groups/extension_group-1",
		"/v1/units/{unit}/users":                    "/v1/units/demo/users",
		"/v1/units/{unit}/users/{user_name}":        "/v1/units/demo/users/1000",
		"/v1/units/{unit}/events":                   "/v1/units/demo/events",
		"/v1/events":                                "/v1/events",
		"/v1/webhooks":                              "/v1/webhooks",
		"/healthz":                                  "/healthz", "/readyz": "/readyz", "/metrics": "/metrics",
		"/openapi.json": "/openapi.json", "/openapi.yaml": "/openapi.yaml", "/docs/": "/docs/",
	}
	for pattern, item := range mustSpec(t).Paths.Map() {
		if item.Get != nil {
			assert.Contains(t, paths, pattern, "GET %s has no HEAD case here", pattern)
		}
	}
	for pattern, path := range paths {
		t.Run(pattern, func(t *testing.T) {
			if strings.HasSuffix(pattern, "/events") {
				// A GET would stream until the client leaves; HEAD answers with the headers.
				code, h, body := e.do(t, "HEAD", path, "", "")
				assert.Equal(t, http.StatusOK, code, "HEAD %s", path)
				assert.Empty(t, body)
				assert.Equal(t, "text/event-stream", h.Get("Content-Type"))
				return
			}
			getCode, getH, getBody := e.do(t, "GET", path, "", "")
			require.Equal(t, http.StatusOK, getCode, "GET %s: %.300s", path, getBody)
			code, h, body := e.do(t, "HEAD", path, "", "")
			assert.Equal(t, http.StatusOK, code, "HEAD %s", path)
			assert.Empty(t, body, "HEAD %s has no body", path)
			assert.Equal(t, getH.Get("Content-Type"), h.Get("Content-Type"), "HEAD %s: the GET's content type", path)
		})
	}
}

func TestMethodNotAllowedSaysWhatIs(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path, allow string
	}{
		{"PUT", "/v1/units/demo/extensions/1000", "GET, HEAD, PATCH, DELETE"},
		{"DELETE", "/v1/units/demo/extensions", "GET, HEAD, POST"},
		{"GET", "/v1/units/demo/config/apply", "POST"},
		{"HEAD", "/v1/units/demo/config/apply", "POST"},
		{"POST", "/healthz", "GET, HEAD"},
	}
	for _, tc := range tests {
		code, h, body := e.do(t, tc.method, tc.path, "", "")
		require.Equal(t, http.StatusMethodNotAllowed, code, "%s %s", tc.method, tc.path)
		assert.Equal(t, tc.allow, h.Get("Allow"), "%s %s: Allow", tc.method, tc.path)
		if tc.method != "HEAD" {
			p := problem(t, h, body)
			assert.Equal(t, "urn:ucm-gateway:problem:method-not-allowed", p.Type)
			assert.Contains(t, p.Detail, tc.allow)
		}
	}
}

// Refusals name what would have been accepted, and nothing of them reaches the unit.
func TestRefusalsSayWhatIsAccepted(t *testing.T) {
	tests := []struct {
		name, method, path, ctype, body string
		wantStatus                      int
		wantLocation, wantMessage       string
		wantDetail                      string
		notInDetail                     string
	}{
		{"merge patch as plain JSON", "PATCH", "/v1/units/demo/extensions/1000", "application/json", `{"dnd":true}`,
			415, "header.Content-Type", "must be application/merge-patch+json", "this operation takes application/merge-patch+json", ""},
		{"merge patch without a content type", "PATCH", "/v1/units/demo/extensions/1000", "", `{"dnd":true}`,
			415, "header.Content-Type", "must be application/merge-patch+json", "application/merge-patch+json", ""},
		{"create as text", "POST", "/v1/units/demo/extensions", "text/plain", `{"extension":"2001"}`,
			415, "header.Content-Type", "must be application/json", "this operation takes application/json", ""},
		{"empty create", "POST", "/v1/units/demo/extensions", "application/json", ``,
			400, "body", "is empty", "the request body is empty", ""},
		{"empty dial without a content type", "POST", "/v1/units/demo/calls", "", ``,
			400, "body", "is empty", "the request body is empty", ""},
		{"a query value that is not a number", "GET", "/v1/units/demo/extensions?page_size=ten", "", "",
			400, "query.page_size", "malformed value: expected a whole number", "query.page_size", "body"},
		{"an unknown query parameter", "GET", "/v1/units/demo/extensions?page_sise=10", "", "",
			400, "query.page_sise", "unknown parameter", "this operation takes page_size, page_token, sort", ""},
		{"a query parameter where none is taken", "GET", "/v1/units/demo/extensions/1000?apply=true", "", "",
			400, "query.apply", "unknown parameter", "takes none", ""},
		{"a misspelt apply on a write", "PATCH", "/v1/units/demo/extensions/1000?aply=true", mergePatch, `{"dnd":true}`,
			400, "query.aply", "unknown parameter", "apply", ""},
		{"unknown parameters on HEAD too", "HEAD", "/v1/units/demo/calls?state=ringing", "", "",
			400, "", "", "", ""},
	}
	e := newEnv(t)
	unitCalls := func() int { return e.sim.Counters().Challenges + e.sim.TotalCalls() }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := unitCalls()
			code, h, body := e.do(t, tc.method, tc.path, tc.ctype, tc.body)
			require.Equal(t, tc.wantStatus, code, "body: %s", body)
			assert.Equal(t, before, unitCalls(), "the unit was called")
			if tc.method == "HEAD" {
				return
			}
			p := problem(t, h, body)
			require.NotEmpty(t, p.Errors, "body: %s", body)
			assert.Equal(t, tc.wantLocation, p.Errors[0].Location)
			assert.Equal(t, tc.wantMessage, p.Errors[0].Message)
			assert.Contains(t, p.Detail, tc.wantDetail)
			if tc.notInDetail != "" {
				assert.NotContains(t, p.Detail+p.Errors[0].Message, tc.notInDetail)
			}
			if code == http.StatusUnsupportedMediaType && tc.method == "PATCH" {
				assert.Equal(t, mergePatch, h.Get("Accept-Patch"))
			}
		})
	}
}

func TestFrontPageAndTrailingSlash(t *testing.T) {
	e := newEnv(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, method := range []string{"GET", "HEAD"} {
		req, err := http.NewRequest(method, e.srv.URL+"/", nil)
		require.NoError(t, err)
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusFound, resp.StatusCode, "%s /", method)
		loc, err := resp.Location()
		require.NoError(t, err)
		assert.Equal(t, "/docs/", loc.Path, "%s / leads to the API reference", method)
	}

	tests := []struct {
		path, hint string
	}{
		{"/v1/units/", "/v1/units is one"},
		{"/v1/units/demo/extensions/1000/", "/v1/units/demo/extensions/1000 is one"},
		{"/healthz/", "/healthz is one"},
		{"/v1/units/demo/nothing/", ""},
	}
	for _, tc := range tests {
		code, h, body := e.do(t, "GET", tc.path, "", "")
		require.Equal(t, http.StatusNotFound, code, tc.path)
		p := problem(t, h, body)
		if tc.hint == "" {
			assert.NotContains(t, p.Detail, "trailing slash", tc.path)
		} else {
			assert.True(t, strings.Contains(p.Detail, "without the trailing slash") && strings.Contains(p.Detail, tc.hint), "%s: %s", tc.path, p.Detail)
		}
	}
}
