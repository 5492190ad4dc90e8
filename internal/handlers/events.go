package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
)

// sseHeartbeat keeps proxies from closing a quiet stream; sseRetry is the reconnect delay told to
// clients.
const (
	sseHeartbeat = 15 * time.Second
	sseRetry     = 2 * time.Second
)

// StreamUnitEvents follows one unit's events.
func (s *Server) StreamUnitEvents(ctx context.Context, req api.StreamUnitEventsRequestObject) (api.StreamUnitEventsResponseObject, error) {
	st, err := s.openStream(ctx, []string{req.Unit}, req.Params.Types, req.Params.LastEventID, false)
	if err != nil {
		return nil, withUnit(req.Unit, err)
	}
	return st, nil
}

// StreamEvents follows several units' events on one stream.
func (s *Server) StreamEvents(ctx context.Context, req api.StreamEventsRequestObject) (api.StreamEventsResponseObject, error) {
	p := principalFrom(ctx)
	var units []string
	if req.Params.Unit != nil && len(*req.Params.Unit) > 0 {
		for _, u := range *req.Params.Unit {
			// A unit the key may not use is answered exactly like one that does not exist.
			if s.events == nil || s.events.Hub(u) == nil || !p.Sees(u) {
				return nil, withUnit(u, sessionpool.ErrUnknownUnit)
			}
			if !slices.Contains(units, u) {
				units = append(units, u)
			}
		}
	} else if s.events != nil {
		for _, u := range s.events.Units() {
			if p.Sees(u) {
				units = append(units, u)
			}
		}
	}
	if len(units) == 0 {
		return nil, &InputError{Status: http.StatusNotFound, Slug: "no-units", Detail: "this key may use no unit, so there are no events to follow"}
	}
	return s.openStream(ctx, units, req.Params.Types, req.Params.LastEventID, true)
}

// openStream checks the filters and the resume point; the subscriptions start when the stream is
// written.
func (s *Server) openStream(ctx context.Context, units []string, types *api.EventTypes, lastID *string, multi bool) (*eventStream, error) {
	if s.events == nil {
		return nil, &InputError{Status: http.StatusNotImplemented, Slug: "events-unavailable", Detail: "live events are not enabled in this gateway"}
	}
	var filter events.Filter
	if types != nil {
		f, bad := events.ParseFilter(*types)
		if bad != "" {
			return nil, &InputError{Detail: "invalid query.types", Errors: []FieldError{{Location: "query.types",
				Message: "unknown event type " + strconv.Quote(bad) + "; known: " + strings.Join(events.Types, ", ") + " (or a prefix such as call.*)"}}}
		}
		filter = f
	}
	after, err := parseCursor(units, lastID, multi)
	if err != nil {
		return nil, err
	}
	hubs := make([]*events.Hub, 0, len(units))
	for _, u := range units {
		h := s.events.Hub(u)
		if h == nil {
			return nil, withUnit(u, sessionpool.ErrUnknownUnit)
		}
		hubs = append(hubs, h)
	}
	return &eventStream{ctx: ctx, hubs: hubs, after: after, filter: filter, multi: multi, heartbeat: s.sseHeartbeat, head: isHead(ctx)}, nil
}

// parseCursor reads Last-Event-ID: a single unit's stream sends plain event ids, a multi-unit
// stream a cursor "unit:id,unit:id". A header that cannot be read is refused, not ignored: the
// client believes it is resuming.
func parseCursor(units []string, lastID *string, multi bool) (map[string]int64, error) {
	out := map[string]int64{}
	if lastID == nil || strings.TrimSpace(*lastID) == "" {
		return out, nil
	}
	bad := &InputError{Detail: "invalid header.Last-Event-ID", Errors: []FieldError{{Location: "header.Last-Event-ID",
		Message: "not an id this stream sent"}}}
	v := strings.TrimSpace(*lastID)
	if !multi {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, bad
		}
		out[units[0]] = n
		return out, nil
	}
	for _, part := range strings.Split(v, ",") {
		u, id, ok := strings.Cut(part, ":")
		n, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil || n < 0 {
			return nil, bad
		}
		if slices.Contains(units, u) {
			out[u] = n
		}
	}
	return out, nil
}

// eventStream writes Server-Sent Events until the client leaves or the gateway shuts down.
type eventStream struct {
	ctx       context.Context
	hubs      []*events.Hub
	after     map[string]int64
	filter    events.Filter
	multi     bool
	heartbeat time.Duration
	head      bool // HEAD: the headers, no stream
}

func (e *eventStream) VisitStreamUnitEventsResponse(w http.ResponseWriter) error { return e.serve(w) }
func (e *eventStream) VisitStreamEventsResponse(w http.ResponseWriter) error     { return e.serve(w) }

func (e *eventStream) serve(w http.ResponseWriter) error {
	rc := http.NewResponseController(w)
	// The server's write timeout bounds ordinary answers; a stream lives as long as its client.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if e.head {
		return nil
	}

	bell := make(chan struct{}, 1)
	subs := make([]*events.Subscription, len(e.hubs))
	cursor := make(map[string]int64, len(e.hubs))
	for i, h := range e.hubs {
		o := events.SubscribeOptions{Filter: e.filter, Bell: bell}
		if id, ok := e.after[h.Unit()]; ok {
			o.After = &id
			cursor[h.Unit()] = id
		}
		subs[i] = h.Subscribe(o)
		defer subs[i].Close()
	}
	buf := make([]byte, 0, 4096)
	buf = append(buf, "retry: "...)
	buf = strconv.AppendInt(buf, sseRetry.Milliseconds(), 10)
	buf = append(buf, "\n\n"...)
	if _, err := w.Write(buf); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	beat := time.NewTicker(e.heartbeat)
	defer beat.Stop()
	for {
		wrote := false
		for _, sub := range subs {
			for {
				ev, ok := sub.Next()
				if !ok {
					break
				}
				if !ev.Replay {
					cursor[ev.Unit] = ev.ID
				}
				buf = e.appendEvent(buf[:0], ev, cursor)
				if _, err := w.Write(buf); err != nil {
					return nil // the client left
				}
				wrote = true
			}
		}
		if wrote {
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
		select {
		case <-e.ctx.Done():
			return nil
		case <-subs[0].Done():
			return nil // the gateway is shutting down: the client reconnects elsewhere or later
		case <-bell:
		case <-beat.C:
			if _, err := w.Write([]byte(": heartbeat\n\n")); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
	}
}

// appendEvent writes one SSE message. The id is the event's own on a single-unit stream, and a
// cursor over every unit of the stream on a multi-unit one, so Last-Event-ID resumes them all.
func (e *eventStream) appendEvent(buf []byte, ev events.Event, cursor map[string]int64) []byte {
	if ev.Replay {
		// The unit's current state, replayed to a new stream: no id, so a client's resume point
		// stays what it was.
		return appendData(buf, ev)
	}
	buf = append(buf, "id: "...)
	if e.multi {
		first := true
		for _, h := range e.hubs {
			id, ok := cursor[h.Unit()]
			if !ok {
				continue
			}
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = append(buf, h.Unit()...)
			buf = append(buf, ':')
			buf = strconv.AppendInt(buf, id, 10)
		}
	} else {
		buf = strconv.AppendInt(buf, ev.ID, 10)
	}
	buf = append(buf, '\n')
	return appendData(buf, ev)
}

func appendData(buf []byte, ev events.Event) []byte {
	buf = append(buf, "event: "...)
	buf = append(buf, ev.Type...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, ev.JSON...) // JSON has no raw newlines: one data line
	return append(buf, "\n\n"...)
}
