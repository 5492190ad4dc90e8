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

type callLogKey struct{}

type callLog struct {
	mu    sync.Mutex
	calls []UCMCall
}

// RecordUCMCall notes a UCM call on the request's log line (unit, actions, outcomes, latency).
// The session pool calls it through its OnCall hook; outside a request it does nothing.
func RecordUCMCall(ctx context.Context, c UCMCall) {
	if l, ok := ctx.Value(callLogKey{}).(*callLog); ok {
		l.mu.Lock()
		l.calls = append(l.calls, c)
		l.mu.Unlock()
	}
}

// logUCMCalls collects the UCM calls a request made and adds them to its single log line.
func logUCMCalls(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := &callLog{}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callLogKey{}, l)))
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
