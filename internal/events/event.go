// Package events is the gateway's live-event model: what happened on a unit (a call rang, was
// answered, transferred or ended; an extension changed state; callers wait in a queue; a call
// record was written; the gateway's own view of the unit changed), one hub per unit that numbers,
// buffers and fans events out, and the upstream sources that produce them (the UCM WebSocket, or
// polling the channel lists). It knows no REST and no HTTP server: the SSE handler and the webhook
// deliverer are subscribers.
package events

import (
	"encoding/json"
	"path"
	"strings"
	"time"
)

// The event types. Call events carry the call exactly as GET …/calls/{call} shows it.
const (
	TypeCallRinging     = "call.ringing"
	TypeCallAnswered    = "call.answered"
	TypeCallTransferred = "call.transferred"
	TypeCallEnded       = "call.ended"
	TypeExtensionStatus = "extension.status"
	TypeQueueWaiting    = "queue.waiting"
	TypeCdrCreated      = "cdr.created"
	TypeUnitState       = "unit.state"
	// TypeSync is not stored: it tells one subscriber that events it asked for are gone (its
	// resume point is older than the buffer, or it fell behind), so it must re-read state.
	TypeSync = "sync"
)

// Types lists every stored event type, for validating filters.
var Types = []string{TypeCallRinging, TypeCallAnswered, TypeCallTransferred, TypeCallEnded,
	TypeExtensionStatus, TypeQueueWaiting, TypeCdrCreated, TypeUnitState}

// Event is one thing that happened on a unit. IDs are monotonic per unit: they start at the
// hub's creation time in microseconds and grow by one per event, so they also keep growing across
// a restart of the gateway (a receiver de-duplicating by id never sees an old id reused). With a
// Fleet they come from one counter in Redis for the whole fleet, started at Redis's clock.
type Event struct {
	ID   int64           `json:"id"`
	Type string          `json:"type"`
	Unit string          `json:"unit"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data"`

	// JSON is the whole event encoded once at publish: every SSE client and webhook sends these
	// same bytes.
	JSON []byte `json:"-"`
	// Replay marks the copy of an earlier event that a new subscription starts with (the unit's
	// current state); it is not part of the subscription's sequence, so a stream sends it
	// without an SSE id.
	Replay bool `json:"-"`
}

// Filter selects event types by exact name or by a prefix wildcard ("call.*"). The zero Filter
// matches everything.
type Filter []string

// ParseFilter reads a comma-separated type list ("call.*,extension.status") and reports the first
// pattern that names no event type.
func ParseFilter(list []string) (Filter, string) {
	var f Filter
	for _, item := range list {
		for _, p := range strings.Split(item, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if !matchesAny(p) {
				return nil, p
			}
			f = append(f, p)
		}
	}
	return f, ""
}

func matchesAny(pattern string) bool {
	if pattern == "*" {
		return true
	}
	for _, t := range Types {
		if ok, _ := path.Match(pattern, t); ok {
			return true
		}
	}
	return false
}

// Match reports whether an event of type t passes the filter. sync always does: a client must
// learn that it missed events whatever it asked for.
func (f Filter) Match(t string) bool {
	if len(f) == 0 || t == TypeSync {
		return true
	}
	for _, p := range f {
		if ok, _ := path.Match(p, t); ok || p == "*" {
			return true
		}
	}
	return false
}
