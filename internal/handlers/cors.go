package handlers

import (
	"net/http"
	"time"

	"github.com/go-chi/cors"
)

// CORS is the browser allow-list; with no origins no CORS header is ever sent.
type CORS struct {
	AllowedOrigins []string
	MaxAge         time.Duration
}

// corsHandler lets the listed origins call the API from a browser. Preflights are answered
// before authentication (browsers send them without credentials); the requests that follow
// still need a key. Credentials mode stays off: keys travel in a header the page sets itself,
// never in cookies a browser would attach on its own.
func corsHandler(c CORS) func(http.Handler) http.Handler {
	if len(c.AllowedOrigins) == 0 {
		// go-chi/cors treats an empty list as "every origin": never hand it one.
		return func(next http.Handler) http.Handler { return next }
	}
	return cors.Handler(cors.Options{
		AllowedOrigins: c.AllowedOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Request-Id", "Traceparent"},
		ExposedHeaders: []string{"Location", "Retry-After", "Link", "X-Request-Id", "X-Pending-Apply", "WWW-Authenticate",
			"RateLimit", "RateLimit-Policy", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"},
		MaxAge: int(c.MaxAge.Seconds()),
	})
}
