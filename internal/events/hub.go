package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
)

// Source produces a unit's events while ctx lives. It runs only while the unit's hub has
// subscribers, one at a time per unit (with a Fleet: on one replica of the fleet at a time, the
// one holding the unit's lease).
type Source interface {
	Run(ctx context.Context, emit Emit)
	// Kind names the source in logs, metrics and unit state ("websocket" or "poll").
	Kind() string
}

// Emit publishes one event of the given type; data is encoded as the event's data.
type Emit func(typ string, data any)

// HubOptions bound a hub; zero values take the documented defaults.
type HubOptions struct {
	BufferSize int           // events kept for Last-Event-ID resumes (1000)
	MaxAge     time.Duration // and for at most this long (1h)
	Linger     time.Duration // the source keeps running this long after the last subscriber leaves (0: stop at once)
	Logger     *slog.Logger
	Metrics    *metrics.Metrics
	Now        func() time.Time
	// Fleet, when set, shares the unit's events with other replicas through Redis (see Fleet);
	// nil keeps them in this process.
	Fleet *Fleet
}

func (o *HubOptions) setDefaults() {
	if o.BufferSize <= 0 {
		o.BufferSize = 1000
	}
	if o.MaxAge <= 0 {
		o.MaxAge = time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New("test")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Hub is one unit's event stream: it numbers events, keeps the last ones for clients that resume,
// and fans them out without ever waiting for a subscriber. A subscriber reads at its own cursor
// in the buffer; one that falls so far behind that the buffer no longer holds its next event is
// told so with a sync event, never waited for. The hub runs the unit's source while anyone is
// subscribed. With a Fleet the buffer is this replica's window on the unit's Redis Stream, which
// the source of whichever replica holds the lease writes (see shared.go); subscriptions read it
// the same way.
type Hub struct {
	unit   string
	source Source
	opts   HubOptions

	mu     sync.Mutex
	ring   []Event // circular; holds the contiguous ids [next-count, next-1]
	start  int     // index of the oldest event
	count  int
	next   int64 // id of the next event
	floor  int64 // the lowest cursor from which nothing is missing
	subs   map[*Subscription]struct{}
	closed bool
	done   chan struct{} // closed by Close: ends every subscription

	cancel    context.CancelFunc // stops the running source; nil when none runs
	running   chan struct{}      // closed when the running (or last) source has returned
	linger    *time.Timer
	generated bool // a source has run before: a restart leaves a gap

	state *Event // the last unit.state: a new subscriber learns from it how the unit is watched

	shared // with a Fleet: the follower, the lease, the pause notice
}

// NewHub makes the hub of one unit; its source starts with the first subscriber.
func NewHub(unit string, source Source, opts HubOptions) *Hub {
	opts.setDefaults()
	base := opts.Now().UnixMicro()
	h := &Hub{
		unit: unit, source: source, opts: opts,
		next: base, floor: base - 1,
		subs: make(map[*Subscription]struct{}), done: make(chan struct{}),
	}
	if opts.Fleet != nil {
		h.keys = opts.Fleet.keys(unit)
	}
	if opts.Metrics.PerUnit() { // a summary shows a unit's event series once it has subscribers
		opts.Metrics.EventSubscribers.WithLabelValues(unit).Set(0)
		opts.Metrics.EventSourceUp.WithLabelValues(unit).Set(0)
	}
	return h
}

// Unit is the unit whose events the hub carries.
func (h *Hub) Unit() string { return h.unit }

// Publish numbers and stores one event and wakes every subscriber. It never blocks on them.
func (h *Hub) Publish(typ string, data any) {
	raw, err := json.Marshal(data)
	if err != nil { // our own types always encode; a failure is a bug worth seeing in the log
		h.opts.Logger.Error("event not encoded", "unit", h.unit, "type", typ, "error", err)
		return
	}
	if h.opts.Fleet != nil {
		h.publishShared(typ, raw)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	ev := Event{ID: h.next, Type: typ, Unit: h.unit, Time: h.opts.Now().UTC().Truncate(time.Millisecond), Data: raw}
	ev.JSON, _ = json.Marshal(ev)
	h.store(ev)
}

// store appends an event numbered h.next to the ring and wakes every subscriber. Called with mu
// held.
func (h *Hub) store(ev Event) {
	typ := ev.Type
	h.next++
	if h.ring == nil { // allocated at the first event: an idle unit of thousands holds no buffer
		h.ring = make([]Event, h.opts.BufferSize)
	}
	if h.count == len(h.ring) {
		h.dropOldest()
	}
	h.ring[(h.start+h.count)%len(h.ring)] = ev
	h.count++
	if typ == TypeUnitState {
		h.state = &ev
	}
	h.trimAge()
	for s := range h.subs {
		s.ring()
	}
	h.opts.Metrics.EventsEmitted.WithLabelValues(h.unit, typ).Inc()
}

// dropOldest forgets the oldest event: a cursor before it can no longer resume fully.
func (h *Hub) dropOldest() {
	old := h.ring[h.start]
	h.ring[h.start] = Event{}
	h.start = (h.start + 1) % len(h.ring)
	h.count--
	h.floor = max(h.floor, old.ID)
}

func (h *Hub) trimAge() {
	limit := h.opts.Now().Add(-h.opts.MaxAge)
	for h.count > 0 && h.ring[h.start].Time.Before(limit) {
		h.dropOldest()
	}
}

// SubscribeOptions say where a subscription starts and what it wants.
type SubscribeOptions struct {
	// After resumes after this event id (SSE's Last-Event-ID); nil starts with the next event.
	After  *int64
	Filter Filter
	// Bell is signalled (without blocking) whenever the hub has a new event; several
	// subscriptions may share one, so that one loop can wait on many units.
	Bell chan struct{}
}

// Subscribe starts a subscription and, with the first one, the unit's source.
func (h *Hub) Subscribe(o SubscribeOptions) *Subscription {
	if o.Bell == nil {
		o.Bell = make(chan struct{}, 1)
	}
	if h.opts.Fleet != nil {
		return h.subscribeShared(o)
	}
	s := &Subscription{hub: h, filter: o.Filter, bell: o.Bell}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed && h.cancel == nil {
		h.startSource() // first, so the cursor below sees the floor a restart sets
	}
	s.cursor = h.next - 1
	h.tellStateLocked(s, o)
	if o.After != nil {
		// A cursor from before the buffer (or from another run of the gateway, or unknown)
		// cannot be served without a hole: say so first.
		if *o.After < h.floor || *o.After >= h.next {
			s.needSync = true
		} else {
			s.cursor = *o.After
		}
	}
	if !h.joinLocked(s) {
		return s
	}
	if s.needSync || s.initial != nil || s.cursor < h.next-1 {
		s.ring()
	}
	return s
}

// tellStateLocked has a subscriber that starts now (not resuming) told first how the unit is
// watched (ready, unreachable, login stopped…), which it would otherwise learn only at the next
// change. Called with mu held.
func (h *Hub) tellStateLocked(s *Subscription, o SubscribeOptions) {
	if o.After == nil && h.state != nil && o.Filter.Match(TypeUnitState) {
		st := *h.state
		st.Replay = true
		s.initial = &st
	}
}

// joinLocked counts s among the subscribers and stops the linger that would end a source no one
// watches; false when the hub is closed (s then stays out). Called with mu held.
func (h *Hub) joinLocked(s *Subscription) bool {
	if h.closed {
		return false
	}
	h.subs[s] = struct{}{}
	h.opts.Metrics.EventSubscribers.WithLabelValues(h.unit).Set(float64(len(h.subs)))
	if h.linger != nil {
		h.linger.Stop()
		h.linger = nil
	}
	return true
}

// startSource runs the source in its own goroutine, after the previous run (if still stopping)
// has returned, so there is never more than one per unit. Called with mu held.
func (h *Hub) startSource() {
	ctx, cancel := context.WithCancel(context.Background())
	prev := h.running
	done := make(chan struct{})
	h.cancel, h.running = cancel, done
	if h.generated {
		// Nothing was watched between the last run and this one: no cursor from before can
		// resume without a hole.
		h.floor = h.next
	}
	h.generated = true
	go func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		if ctx.Err() != nil {
			return
		}
		h.opts.Metrics.EventSourceUp.WithLabelValues(h.unit).Set(1)
		h.opts.Logger.Info("event source started", "unit", h.unit, "source", h.source.Kind())
		if h.opts.Fleet != nil {
			h.publishStart()
		}
		h.source.Run(ctx, h.Publish)
		h.opts.Metrics.EventSourceUp.WithLabelValues(h.unit).Set(0)
		h.opts.Logger.Info("event source stopped", "unit", h.unit, "source", h.source.Kind())
	}()
}

// stopSource cancels the running source; it returns at once. Called with mu held.
func (h *Hub) stopSource() {
	if h.cancel != nil {
		h.cancel()
		h.cancel = nil
	}
}

func (h *Hub) unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	h.opts.Metrics.EventSubscribers.WithLabelValues(h.unit).Set(float64(len(h.subs)))
	if len(h.subs) > 0 || h.closed {
		return
	}
	if h.opts.Linger <= 0 {
		h.stopInterest()
		return
	}
	h.linger = time.AfterFunc(h.opts.Linger, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.subs) == 0 && h.linger != nil {
			h.linger = nil
			h.stopInterest()
		}
	})
}

// Subscribers is the number of subscriptions open now.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Wait returns once no source runs (after the last subscriber left and the linger passed), or
// when ctx ends; tests and shutdown use it to prove the source's goroutine is gone.
func (h *Hub) Wait(ctx context.Context) error {
	h.mu.Lock()
	waits := []chan struct{}{h.running, h.interest}
	h.mu.Unlock()
	for _, c := range waits {
		if c == nil {
			continue
		}
		select {
		case <-c:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// stopInterest stops what runs for the hub's subscribers: the source in memory; with a Fleet,
// the follower and the lease (which stops the source). Called with mu held.
func (h *Hub) stopInterest() {
	if h.opts.Fleet != nil {
		h.stopShared()
		return
	}
	h.stopSource()
}

// Close ends every subscription and stops the source, waiting for it until ctx ends.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.done)
		if h.linger != nil {
			h.linger.Stop()
			h.linger = nil
		}
		h.stopInterest()
		h.stopSource()
		clear(h.subs)
		h.opts.Metrics.EventSubscribers.WithLabelValues(h.unit).Set(0)
	}
	h.mu.Unlock()
	return h.Wait(ctx)
}

// Subscription is one reader of a hub, at its own cursor.
type Subscription struct {
	hub      *Hub
	filter   Filter
	bell     chan struct{}
	cursor   int64 // the last event id seen (or skipped by the filter)
	needSync bool
	initial  *Event // the unit's current state, sent first
	once     sync.Once

	// With a Fleet: events from the stream that the local buffer no longer (or not yet) held
	// when the subscription resumed, sent before the buffer's; the pause notices seen; and
	// fresh (no resume point, no pause since), which skips the sync a source start stores when
	// it is the very next event after joined, the newest when the subscription began.
	backlog []Event
	notice  int
	fresh   bool
	joined  int64
}

func (s *Subscription) ring() {
	select {
	case s.bell <- struct{}{}:
	default:
	}
}

// Bell is signalled when Next may have something new.
func (s *Subscription) Bell() <-chan struct{} { return s.bell }

// Done is closed when the hub shuts down: the subscription will get nothing more.
func (s *Subscription) Done() <-chan struct{} { return s.hub.done }

// Next returns the subscription's next event without waiting; ok is false when there is none yet
// (wait on Bell). A subscriber whose next event has left the buffer gets a sync event instead,
// whose ID is the newest event's, and continues from there.
func (s *Subscription) Next() (ev Event, ok bool) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.trimAge()
	if s.initial != nil {
		ev := *s.initial
		s.initial = nil
		return ev, true
	}
	if ev, ok := s.sharedNext(); ok {
		return ev, true
	}
	for {
		// The event after the cursor has left the buffer (size or age): the subscriber missed it.
		if s.needSync || s.cursor < h.next-int64(h.count)-1 {
			s.needSync = false
			s.cursor = h.next - 1
			return h.syncEvent(), true
		}
		if s.cursor >= h.next-1 {
			return Event{}, false
		}
		oldest := h.next - int64(h.count)
		s.cursor++
		ev := h.ring[(h.start+int(s.cursor-oldest))%len(h.ring)]
		if ev.Type == TypeSync && s.fresh && ev.ID == s.joined+1 {
			continue // the source started as this subscription began: it missed nothing
		}
		if s.filter.Match(ev.Type) {
			return ev, true
		}
	}
}

// syncEvent tells a subscriber that it missed events and must re-read state; it resumes from
// the newest event. Called with mu held.
func (h *Hub) syncEvent() Event {
	data, _ := json.Marshal(map[string]string{"reason": "events were missed (resume point too old, or the stream fell behind): re-read state, then follow the stream"})
	ev := Event{ID: h.next - 1, Type: TypeSync, Unit: h.unit, Time: h.opts.Now().UTC().Truncate(time.Millisecond), Data: data}
	ev.JSON, _ = json.Marshal(ev)
	return ev
}

// Close ends the subscription; the source stops with the last one (after the linger).
func (s *Subscription) Close() { s.once.Do(func() { s.hub.unsubscribe(s) }) }
