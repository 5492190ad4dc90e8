package webhooks

import (
	"slices"
	"time"
)

// Status is what an operator sees of an endpoint: never its secret, nor its URL's user info or
// query. Zero times mean "never".
type Status struct {
	Name  string
	URL   string // without user info, query or fragment
	Units []string
	Types []string

	Suspended           bool
	SuspendedAt         time.Time // zero unless suspended now
	LastError           string
	LastFailureAt       time.Time
	LastSuccessAt       time.Time
	ConsecutiveFailures int
	QueueDepth          int
	Delivered           uint64 // events delivered since start
	GaveUp              uint64 // events abandoned after retry_for
	Dropped             uint64 // events dropped from a full queue
	Suspensions         uint64 // times the endpoint was suspended
}

func (e *endpoint) status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Status{
		Name: e.cfg.Name, URL: e.shownURL, Units: slices.Clone(e.cfg.Units), Types: slices.Clone([]string(e.cfg.Types)),
		Suspended: e.suspended, SuspendedAt: e.suspendedAt, LastError: e.lastError,
		LastFailureAt: e.lastFailureAt, LastSuccessAt: e.lastSuccessAt,
		ConsecutiveFailures: e.consecutiveFailures, QueueDepth: e.depthLocked(),
		Delivered: e.delivered, GaveUp: e.gaveUp, Dropped: e.dropped, Suspensions: e.suspends,
	}
	if !e.suspended {
		st.SuspendedAt = time.Time{}
	}
	return st
}
