package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// auditRecord is filled in by later middleware (authenticate knows the key) and written by audit.
type auditRecord struct {
	key, keyID string
}

// auditFrom returns the request's audit record, or nil when audit does not write one.
func auditFrom(ctx context.Context) *auditRecord {
	if st := requestStateFrom(ctx); st != nil && st.audited {
		return &st.audit
	}
	return nil
}

// audit writes one line for every request that may change something on a unit (anything but
// GET and HEAD), refused or not: who (key name, never the key), which unit, what (operationId),
// on what (the path below the unit), the outcome, and the request id to find the request's own
// log line. It goes to its own logger so that a quieter log level never silences it.
func (s *Server) audit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		st, r := stateOf(r)
		st.audited = true
		rec := &st.audit
		ww := statusRecorder(w, r)
		next.ServeHTTP(ww, r)
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		pattern := ""
		if rc := chi.RouteContext(r.Context()); rc != nil {
			pattern = rc.RoutePattern()
		}
		action := s.ops[routeKey{r.Method, pattern}].id
		if action == "" {
			action = r.Method + " " + pattern
		}
		unit := chi.URLParam(r, "unit")
		target := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/v1/units/"+unit), "/")
		s.auditLog.LogAttrs(r.Context(), slog.LevelInfo, "audit",
			slog.String("key", rec.key),
			slog.String("key_id", rec.keyID),
			slog.String("unit", unit),
			slog.String("action", action),
			slog.String("target", target),
			slog.Int("status", status),
			slog.String("result", auditResult(status)),
			slog.String("request_id", RequestIDFrom(r.Context())),
		)
	})
}

func auditResult(status int) string {
	switch {
	case status < 400:
		return "ok"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "denied"
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status < 500:
		return "refused"
	}
	return "failed"
}
