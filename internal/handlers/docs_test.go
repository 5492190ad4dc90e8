package handlers

import (
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDocsServesSwaggerUIFromEmbeddedAssets(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		path      string
		wantCode  int
		wantType  string
		wantBody  []string
		wantNoCSP bool
	}{
		{name: "page", path: "/docs/", wantCode: 200, wantType: "text/html; charset=utf-8", wantBody: []string{`id="swagger-ui"`, `src="./swagger-ui-bundle.js"`, `src="./initializer.js"`}},
		{name: "initializer points at the embedded spec and no online validator", path: "/docs/initializer.js", wantCode: 200, wantType: "text/javascript; charset=utf-8", wantBody: []string{`url: "../openapi.yaml"`, `validatorUrl: null`}},
		{name: "bundle", path: "/docs/swagger-ui-bundle.js", wantCode: 200, wantType: "text/javascript; charset=utf-8", wantBody: []string{"SwaggerUIBundle"}},
		{name: "css", path: "/docs/swagger-ui.css", wantCode: 200, wantType: "text/css; charset=utf-8", wantBody: []string{".swagger-ui"}},
		{name: "source maps are not served", path: "/docs/swagger-ui-bundle.js.map", wantCode: 404, wantType: "application/problem+json", wantNoCSP: true},
		{name: "the petstore initializer is not served", path: "/docs/swagger-initializer.js", wantCode: 404, wantType: "application/problem+json", wantNoCSP: true},
		{name: "no directory tricks", path: "/docs/x/../swagger-ui.css", wantCode: 404, wantType: "application/problem+json", wantNoCSP: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+tt.path, nil)
			require.NoError(t, err)
			req.URL.Opaque = tt.path // keep "..": the client must not clean it for us
			resp, err := e.srv.Client().Do(req)
			require.NoError(t, err)
			body := readAll(t, resp)
			require.Equalf(t, tt.wantCode, resp.StatusCode, "GET %q = %d; want %d", tt.path, resp.StatusCode, tt.wantCode)
			assert.Equal(t, tt.wantType, resp.Header.Get("Content-Type"))
			for _, want := range tt.wantBody {
				assert.Contains(t, body, want)
			}
			if !tt.wantNoCSP {
				assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
			}
		})
	}
}

func TestDocsRedirectIsRelative(t *testing.T) {
	e := newEnv(t)
	client := *e.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(e.srv.URL + "/docs")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, "docs/", resp.Header.Get("Location"))
}

// Every asset the page references must be served: a missing one would make the browser fall back
// to nothing (the CSP forbids other origins), so the page would be blank on an isolated LAN.
func TestDocsPageReferencesOnlyServedAssets(t *testing.T) {
	e := newEnv(t)
	code, _, page := e.do(t, http.MethodGet, "/docs/", "", "")
	require.Equal(t, http.StatusOK, code)
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
	require.NotEmpty(t, refs)
	for _, m := range refs {
		ref := m[1]
		assert.Regexp(t, `^\./[a-z0-9.-]+$`, ref, "the page loads only local assets")
		code, _, _ := e.do(t, http.MethodGet, "/docs/"+ref[2:], "", "")
		assert.Equalf(t, http.StatusOK, code, "GET /docs/%s = %d; want 200", ref[2:], code)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
