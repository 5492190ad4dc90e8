package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httplog/v3"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
)

// The /v1 group runs, in order: audit → authenticate (401) → rateLimit (429) → authorize (403)
// → limitBody (413) → refuseUnknownQuery and validator (400, 415) → refuseControlChars (400) →
// unitGuard (404) → the handler. Who the caller is and
// what it may do is settled before its input is even looked at; whether a unit exists for it is
// settled after validation, at the same point an unknown unit is found, so a unit the key may
// not use answers exactly like a unit that does not exist.

// principalFrom returns the authenticated caller, or nil (which may do nothing) before
// authenticate accepted a key.
func principalFrom(ctx context.Context) *auth.Principal {
	if st := requestStateFrom(ctx); st != nil {
		return st.principal
	}
	return nil
}

// AccessError is a request refused because of who sent it: no valid key (401), a scope the key
// lacks (403), a spent request budget (429).
type AccessError struct {
	Status     int
	Detail     string
	RetryAfter time.Duration
}

func (e *AccessError) Error() string { return e.Detail }

// authenticate finds the caller's key. The key itself never goes further than this function:
// logs, audit lines and problems name the key's configured name only.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p *auth.Principal
		if s.open {
			p = auth.Open()
		} else {
			header := r.Header.Get("Authorization")
			token, wellFormed := auth.BearerToken(header)
			var ok bool
			p, ok = s.live.load().Keys.Authenticate(token)
			if !ok {
				challenge, detail := `Bearer realm="ucm-gateway"`, "an API key is required: send Authorization: Bearer <key>"
				switch {
				case header != "" && !wellFormed:
					challenge += `, error="invalid_request"`
					detail = "the Authorization header must be: Bearer <key>"
				case header != "":
					challenge += `, error="invalid_token"`
					detail = "the API key is not valid"
				}
				w.Header().Set("WWW-Authenticate", challenge)
				writeProblem(w, r, s.logger, &AccessError{Status: http.StatusUnauthorized, Detail: detail})
				return
			}
		}
		httplog.SetAttrs(r.Context(), slog.String("key", p.Name))
		if rec := auditFrom(r.Context()); rec != nil {
			rec.key, rec.keyID = p.Name, p.KeyID
		}
		st, r := stateOf(r)
		st.principal = p
		next.ServeHTTP(w, r)
	})
}

// authorize applies the policy table (auth.RequiredScope) to the matched route.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		if p == nil { // authenticate did not run: fail closed
			writeProblem(w, r, s.logger, &AccessError{Status: http.StatusUnauthorized, Detail: "an API key is required: send Authorization: Bearer <key>"})
			return
		}
		pattern := ""
		if rc := chi.RouteContext(r.Context()); rc != nil {
			pattern = rc.RoutePattern()
		}
		need := auth.RequiredScope(r.Method, pattern, chi.URLParam(r, "action"))
		if !p.Can(need) {
			writeProblem(w, r, s.logger, &AccessError{Status: http.StatusForbidden,
				Detail: fmt.Sprintf("the API key %q lacks the scope %q that this request needs", p.Name, need)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// unitGuard makes a unit the key may not use indistinguishable from an unknown one.
func (s *Server) unitGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unit := chi.URLParam(r, "unit"); unit != "" && !principalFrom(r.Context()).Sees(unit) {
			writeProblem(w, r, s.logger, withUnit(unit, sessionpool.ErrUnknownUnit))
			return
		}
		next.ServeHTTP(w, r)
	})
}
