package handlers

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"

	swaggerfiles "github.com/swaggo/files/v2"
)

// docsPage is our own page and initializer: they point Swagger UI at the embedded spec and turn
// off everything that would reach the internet (the online validator badge).
//
//go:embed docs/index.html docs/initializer.js
var docsPage embed.FS

// swaggerAssets are the only Swagger UI files /docs serves; the rest of the module (source maps,
// the ES bundles, the petstore initializer) stays unreachable.
var swaggerAssets = map[string]string{
	"swagger-ui.css":                  "text/css; charset=utf-8",
	"swagger-ui-bundle.js":            "text/javascript; charset=utf-8",
	"swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
	"favicon-16x16.png":               "image/png",
	"favicon-32x32.png":               "image/png",
}

// docsCSP lets the page load only from the gateway itself, so a missing embedded asset shows up
// as a broken page in tests rather than as a silent fetch from a CDN. Swagger UI sets inline
// styles and uses data: images, hence those two exceptions.
const docsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// docs serves the interactive API reference (Swagger UI) at /docs/ from embedded assets only.
func (s *Server) docs(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/docs/")
	var (
		body  []byte
		ctype string
		err   error
	)
	switch name {
	case "", "index.html":
		body, err = docsPage.ReadFile("docs/index.html")
		ctype = "text/html; charset=utf-8"
	case "initializer.js":
		body, err = docsPage.ReadFile("docs/initializer.js")
		ctype = "text/javascript; charset=utf-8"
	default:
		var ok bool
		if ctype, ok = swaggerAssets[name]; !ok || path.Clean(name) != name {
			writeProblem(w, r, s.logger, &InputError{Status: http.StatusNotFound, Detail: "no such file in the API reference"})
			return
		}
		body, err = fs.ReadFile(swaggerfiles.FS, name)
	}
	if err != nil {
		writeProblem(w, r, s.logger, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}
