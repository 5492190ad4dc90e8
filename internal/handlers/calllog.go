package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/httplog/v3"
)

// UCMCall is one upstream call as the request log shows it.
type UCMCall struct {
	Unit     string
	Action   string
	Outcome  string
	Duration time.Duration
}

// callLog is a request's UCM calls (part of its requestState).
type callLog struct {
	mu    sync.Mutex
	on    bool // logUCMCalls collects them
	calls []UCMCall
	first [1]UCMCall // calls' array while a request made one call, as most do
}

// RecordUCMCall notes a UCM call on the request's log line (unit, actions, outcomes, latency).
// The session pool calls it through its OnCall hook; outside a request it does nothing.
func RecordUCMCall(ctx context.Context, c UCMCall) {
	st := requestStateFrom(ctx)
	if st == nil {
		return
	}
	l := &st.calls
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.on {
		return
	}
	if l.calls == nil {
		l.calls = l.first[:0]
	}
	l.calls = append(l.calls, c)
}

// logUCMCalls collects the UCM calls a request made and adds them to its single log line.
func logUCMCalls(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, r := stateOf(r)
		l := &st.calls
		l.mu.Lock()
		l.on, l.calls = true, nil
		l.mu.Unlock()
		next.ServeHTTP(w, r)
		l.mu.Lock()
		defer l.mu.Unlock()
		if len(l.calls) == 0 {
			return
		}
		actions := make([]string, len(l.calls))
		var total time.Duration
		for i, c := range l.calls {
			actions[i] = c.Action + ":" + c.Outcome
			total += c.Duration
		}
		httplog.SetAttrs(r.Context(),
			slog.String("unit", l.calls[0].Unit),
			slog.String("ucm_calls", strings.Join(actions, ",")),
			slog.Float64("ucm_ms", float64(total.Microseconds())/1000),
		)
	})
}
