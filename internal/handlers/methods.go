package handlers

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// HTTP semantics the router does not give by itself: HEAD wherever GET is served (RFC 9110
// requires it; chi's GetHead middleware routes it), Allow on every 405, and a hint when a path
// exists without the trailing slash the client added.

// probedMethods are the methods Allow may list, in the order it lists them.
var probedMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowedMethods lists the methods routes serves at path; HEAD goes wherever GET does.
func allowedMethods(routes chi.Routes, path string) []string {
	var out []string
	get := false
	for _, m := range probedMethods {
		switch {
		case m == http.MethodHead && get:
			out = append(out, m)
		case routes.Match(chi.NewRouteContext(), m, path):
			get = get || m == http.MethodGet
			out = append(out, m)
		}
	}
	return out
}

// routePath is the path chi routes on.
func routePath(r *http.Request) string {
	if r.URL.RawPath != "" {
		return r.URL.RawPath
	}
	return r.URL.Path
}

// methodNotAllowed answers 405 with the Allow header RFC 9110 requires on it.
func (s *Server) methodNotAllowed(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allowed := allowedMethods(routes, routePath(r))
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeProblem(w, r, s.logger, &InputError{Status: http.StatusMethodNotAllowed,
			Detail: "this resource does not serve " + r.Method + "; it serves " + strings.Join(allowed, ", ")})
	}
}

// notFound answers 404. A path that exists without the trailing slash the client added (chi
// routes "/v1/units" and "/v1/units/" apart) is named, rather than left to be guessed.
func (s *Server) notFound(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		detail := "no such resource in this API"
		if p := routePath(r); len(p) > 1 && strings.HasSuffix(p, "/") {
			if trimmed := strings.TrimRight(p, "/"); trimmed != "" && len(allowedMethods(routes, trimmed)) > 0 {
				detail = "no such resource in this API; without the trailing slash, " + trimmed + " is one"
			}
		}
		writeProblem(w, r, s.logger, &InputError{Status: http.StatusNotFound, Detail: detail})
	}
}

type headKey struct{}

// isHead reports whether the GET being served is really a HEAD: a handler that streams (SSE)
// answers it with the headers alone instead of a stream that never ends.
func isHead(ctx context.Context) bool { v, _ := ctx.Value(headKey{}).(bool); return v }

// headAsGet lets the validator check a HEAD request as the GET it is routed to: the spec
// describes the GETs only, and a HEAD is a GET without the body.
func headAsGet(validate func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		v := validate(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				g := r.Clone(context.WithValue(r.Context(), headKey{}, true))
				g.Method = http.MethodGet
				v.ServeHTTP(w, g) // net/http still writes no body: it knows the request was HEAD
				return
			}
			v.ServeHTTP(w, r)
		})
	}
}
