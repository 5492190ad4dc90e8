package handlers

import (
	"context"
	"net/http"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
)

// requestState is what the middleware learns about a request as it passes: put into the
// context once, by requestID, and filled in by the middleware after it. One context value and
// one copy of the request in all, where each middleware adding a value of its own cost both.
// Each field keeps the meaning its accessor gives it: RequestIDFrom, principalFrom (nil until
// authenticate accepts a key), auditFrom (nil unless audit runs) and RecordUCMCall (nothing
// unless logUCMCalls runs).
type requestState struct {
	id        string
	principal *auth.Principal
	audit     auditRecord
	audited   bool // audit ran: audit is the request's record
	calls     callLog
}

type requestStateKey struct{}

// withRequestState returns ctx carrying st.
func withRequestState(ctx context.Context, st *requestState) context.Context {
	return context.WithValue(ctx, requestStateKey{}, st)
}

// requestStateFrom returns the request's state, or nil outside a request that passed requestID.
func requestStateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(requestStateKey{}).(*requestState)
	return st
}

// stateOf returns the request's state and the request carrying it: the one requestID put in,
// or, for a handler chain without requestID, a new one.
func stateOf(r *http.Request) (*requestState, *http.Request) {
	if st := requestStateFrom(r.Context()); st != nil {
		return st, r
	}
	st := &requestState{}
	return st, r.WithContext(withRequestState(r.Context(), st))
}
