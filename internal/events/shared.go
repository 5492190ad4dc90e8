package events

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// shared is a hub's state when it has a Fleet. Events then live in the unit's Redis Stream:
// the replica holding the unit's lease runs the source, whose Publish appends to the stream;
// every replica with subscribers follows the stream into its own buffer, so subscriptions read
// exactly as they do in memory. All fields are guarded by the hub's mu.
type shared struct {
	keys       unitKeys
	stopFleet  context.CancelFunc // stops the follower and the lease; nil when none runs
	interest   chan struct{}      // closed when the last follower and lease goroutines returned
	gen        int                // counts follower runs: only the current one writes the buffer
	positioned bool               // the buffer's ids are the stream's (h.next follows it)
	paused     bool               // Redis is unreachable: no event comes until it returns
	noticeSeq  int                // counts pauses; a subscription that saw fewer is told
	noticeEv   *Event             // the unit.state (without id) that tells of the pause
}

// subscribeShared is Subscribe with a Fleet: the first subscriber starts the follower and the
// lease, and a resume point older than the buffer is read back from the stream.
func (h *Hub) subscribeShared(o SubscribeOptions) *Subscription {
	s := &Subscription{hub: h, filter: o.Filter, bell: o.Bell, fresh: o.After == nil}
	f := h.opts.Fleet
	h.mu.Lock()
	start := !h.closed && h.stopFleet == nil
	h.mu.Unlock()
	var (
		tail  int64
		state *Event
		err   error
	)
	if start {
		// Where the stream ends now is where this replica's buffer begins; read before the
		// lock, as every Redis call is.
		tail, state, err = f.tail(context.Background(), h.keys)
	}
	h.mu.Lock()
	if !h.closed && h.stopFleet == nil {
		h.startShared(tail, state, start && err == nil)
	}
	s.cursor, s.joined = h.next-1, h.next-1
	s.notice = h.noticeSeq
	if h.paused {
		s.notice-- // a subscriber arriving during a pause is told at once
		s.fresh = false
	}
	h.tellStateLocked(s, o)
	if !h.joinLocked(s) {
		h.mu.Unlock()
		return s
	}
	h.mu.Unlock()
	if o.After != nil {
		h.resume(s, *o.After)
	}
	s.ring()
	return s
}

// resume places a new subscription after the event id a client last saw, on this replica or
// another: from the buffer when it holds the id, else from the stream (the events the buffer
// no longer or not yet holds become the subscription's backlog). A point the stream cannot serve
// whole gets a sync first, as in memory.
func (h *Hub) resume(s *Subscription, after int64) {
	f := h.opts.Fleet
	h.mu.Lock()
	oldest := h.next - int64(h.count) // the buffer holds [oldest, next-1]
	positioned, next := h.positioned, h.next
	if positioned && after >= oldest-1 && after <= next-1 {
		s.cursor = after
		h.mu.Unlock()
		return
	}
	h.mu.Unlock()
	if !positioned {
		h.mu.Lock()
		s.needSync = true // Redis is unreachable: nothing can be read back
		h.mu.Unlock()
		return
	}
	ctx := context.Background()
	if after > next-1 {
		// Another replica's client may be ahead of this replica's follower: an id the stream
		// has is a good resume point.
		evs, err := f.rangeAfter(ctx, h.keys, after-1, 1)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err == nil && len(evs) == 1 && evs[0].ID == after {
			s.cursor = after
		} else {
			s.needSync = true
		}
		return
	}
	var backlog []Event
	var err error
	for cur := after; cur < oldest-1 && len(backlog) < 2*h.opts.BufferSize; {
		var page []Event
		if page, err = f.rangeAfter(ctx, h.keys, cur, 500); err != nil || len(page) == 0 {
			break
		}
		backlog = append(backlog, page...)
		cur = page[len(page)-1].ID
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	oldest = h.next - int64(h.count)
	for len(backlog) > 0 && backlog[len(backlog)-1].ID >= oldest {
		backlog = backlog[:len(backlog)-1] // the buffer has these
	}
	limit := h.opts.Now().Add(-h.opts.MaxAge)
	n := int64(len(backlog))
	if err != nil || n == 0 || backlog[0].ID != after+1 || backlog[n-1].ID-backlog[0].ID != n-1 ||
		backlog[n-1].ID < oldest-1 || backlog[0].Time.Before(limit) {
		s.needSync = true
		return
	}
	s.backlog, s.cursor = backlog, after
}

// sharedNext gives a subscription the pause notice, then its backlog. Called with mu held.
func (s *Subscription) sharedNext() (Event, bool) {
	h := s.hub
	if h.opts.Fleet == nil {
		return Event{}, false
	}
	if s.notice < h.noticeSeq {
		s.notice = h.noticeSeq
		if h.paused && h.noticeEv != nil && s.filter.Match(TypeUnitState) {
			return *h.noticeEv, true
		}
	}
	for len(s.backlog) > 0 && !s.needSync {
		ev := s.backlog[0]
		s.backlog = s.backlog[1:]
		s.cursor = ev.ID
		if s.filter.Match(ev.Type) {
			return ev, true
		}
	}
	return Event{}, false
}

// startShared starts the follower and the lease, after the previous ones (if still stopping)
// have returned. positioned says tail and state were read: the buffer starts there. Called with
// mu held.
func (h *Hub) startShared(tail int64, state *Event, positioned bool) {
	ctx, cancel := context.WithCancel(context.Background())
	prev := h.interest
	done := make(chan struct{})
	h.stopFleet, h.interest = cancel, done
	h.gen++
	gen := h.gen
	h.positioned = false
	if positioned {
		h.position(tail, state)
	}
	go func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		var wg sync.WaitGroup
		wg.Go(func() { h.follow(ctx, gen) })
		wg.Go(func() { h.lease(ctx) })
		wg.Wait()
	}()
}

// stopShared stops the follower and the lease; the lease goroutine stops the source and gives
// the lease up. Called with mu held.
func (h *Hub) stopShared() {
	if h.stopFleet != nil {
		h.stopFleet()
		h.stopFleet = nil
	}
}

// position empties the buffer and starts it after the stream's newest entry. Called with mu
// held.
func (h *Hub) position(tail int64, state *Event) {
	clear(h.ring)
	h.start, h.count, h.next = 0, 0, tail+1
	if state != nil {
		h.state = state
	}
	h.positioned = true
	for s := range h.subs {
		s.ring()
	}
}

// follow reads the unit's stream into the buffer until ctx ends.
func (h *Hub) follow(ctx context.Context, gen int) {
	f := h.opts.Fleet
	h.mu.Lock()
	last, positioned := h.next-1, h.positioned
	h.mu.Unlock()
	for ctx.Err() == nil {
		if !positioned {
			tail, state, err := f.tail(ctx, h.keys)
			if err != nil {
				h.redisDown(ctx, err)
				sleep(ctx, f.o.Retry)
				continue
			}
			h.mu.Lock()
			if h.gen != gen {
				h.mu.Unlock()
				return
			}
			h.position(tail, state)
			h.mu.Unlock()
			last, positioned = tail, true
		}
		evs, err := f.read(ctx, h.keys, last, h.opts.BufferSize)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			h.redisDown(ctx, err)
			sleep(ctx, f.o.Retry)
			continue
		}
		h.redisUp()
		if len(evs) == 0 {
			continue
		}
		h.mu.Lock()
		if h.gen != gen || h.closed {
			h.mu.Unlock()
			return
		}
		for _, ev := range evs {
			h.appendFollowed(ev)
		}
		h.mu.Unlock()
		last = evs[len(evs)-1].ID
	}
}

// appendFollowed stores one event read from the stream. Ids in the stream are consecutive
// except where Redis lost its data (its sequence restarts at its clock) or this replica's
// buffer started on an empty stream: there the buffer starts over, and a subscription that had
// seen everything stays caught up. Called with mu held.
func (h *Hub) appendFollowed(ev Event) {
	if ev.ID < h.next {
		return
	}
	if ev.ID > h.next {
		for s := range h.subs {
			if s.cursor == h.next-1 {
				if s.joined == s.cursor {
					s.joined = ev.ID - 1
				}
				s.cursor = ev.ID - 1
			}
		}
		clear(h.ring)
		h.start, h.count, h.next = 0, 0, ev.ID
	}
	h.store(ev)
}

// lease competes for the unit's source while the hub has subscribers: the holder renews every
// LeaseTTL/3 and runs the source; the others try every Retry, so a dead holder's source moves
// within LeaseTTL and a released one within Retry. A holder that cannot renew stops its source
// at once: past the TTL another replica may hold it.
func (h *Hub) lease(ctx context.Context) {
	f := h.opts.Fleet
	log := h.opts.Logger.With("unit", h.unit, "replica", f.o.Replica)
	holding := false
	defer func() {
		if !holding {
			return
		}
		h.mu.Lock()
		h.stopSource()
		running := h.running
		h.mu.Unlock()
		if running != nil {
			<-running // the source's last events are written before another replica takes over
		}
		if err := f.release(h.keys); err != nil {
			log.Warn("event source lease not released: another replica takes over when it expires", "err", err)
			return
		}
		log.Info("event source lease released")
	}()
	for {
		ok, fresh, err := f.acquire(ctx, h.keys)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && holding:
			log.Warn("event source lease not renewed: the source stops until Redis answers", "err", err)
			h.mu.Lock()
			h.stopSource()
			h.mu.Unlock()
			holding = false
		case err == nil && !ok && holding:
			log.Warn("event source lease lost to another replica: the source stops")
			h.mu.Lock()
			h.stopSource()
			h.mu.Unlock()
			holding = false
		case err == nil && ok:
			if !holding {
				log.Info("event source lease taken: this replica runs the unit's source")
			}
			h.mu.Lock()
			if holding && fresh {
				// The lease lapsed under this replica (Redis lost it, or a renewal came too
				// late): another may have run a source meanwhile. A new run starts with a sync.
				log.Warn("event source lease had lapsed: the source restarts")
				h.stopSource()
			}
			holding = true
			if !h.closed && h.cancel == nil {
				h.startSource() // also after a publish failed and stopped it
			}
			h.mu.Unlock()
		}
		wait := f.o.Retry
		if holding {
			wait = f.o.LeaseTTL / 3
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// publishShared appends an event to the stream, fenced by the lease. When that fails the source
// stops; the lease goroutine restarts it (with a sync) once the stream takes events again.
func (h *Hub) publishShared(typ string, raw json.RawMessage) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return
	}
	ev := Event{Type: typ, Unit: h.unit, Time: h.opts.Now().UTC().Truncate(time.Millisecond), Data: raw}
	if _, err := h.opts.Fleet.publish(context.Background(), h.keys, ev, h.opts.BufferSize); err != nil {
		h.opts.Logger.Warn("event not stored in the shared event log: the source stops, and restarts with a sync event once the log takes events again",
			"unit", h.unit, "type", typ, "err", err)
		h.mu.Lock()
		h.stopSource()
		h.mu.Unlock()
	}
}

// publishStart stores the sync that begins every run of a source: the new run's first reading
// is a baseline, so whatever happened on the unit while no replica watched it (the previous
// holder died, or no one was subscribed) is not in the stream. A client resuming from before it
// is told to re-read state; one that just subscribed skips it.
func (h *Hub) publishStart() {
	data, _ := json.Marshal(map[string]string{"reason": "the unit's event source (re)started on another run: changes while none ran are not in the stream; re-read state, then follow the stream"})
	h.publishShared(TypeSync, data)
}

// redisDown tells local subscribers (once per outage) that events pause: a unit.state without
// an id, so no client's resume point moves.
func (h *Hub) redisDown(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paused || h.closed {
		return
	}
	h.paused = true
	h.opts.Logger.Warn("shared event log (Redis) unreachable: this unit's events pause until it returns", "unit", h.unit, "err", err)
	detail := "the gateway's shared event log (Redis) is unreachable: events pause on every replica until it returns; then a sync event follows"
	d := api.UnitStateEventData{State: api.UnitStateEventDataStateFailing, Source: api.UnitStateEventDataSource(h.source.Kind()), Detail: &detail}
	raw, _ := json.Marshal(d)
	ev := Event{Type: TypeUnitState, Unit: h.unit, Time: h.opts.Now().UTC().Truncate(time.Millisecond), Data: raw, Replay: true}
	ev.JSON, _ = json.Marshal(ev)
	h.noticeEv = &ev
	h.noticeSeq++
	for s := range h.subs {
		s.fresh = false // events it should have had are lost: the sync that follows is for it
		s.ring()
	}
}

func (h *Hub) redisUp() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paused {
		h.paused = false
		h.opts.Logger.Info("shared event log (Redis) reachable again: events resume", "unit", h.unit)
	}
}

// Holder names the replica running the unit's source, "" when none does (or without a Fleet).
func (h *Hub) Holder(ctx context.Context) (string, error) {
	if h.opts.Fleet == nil {
		return "", nil
	}
	return h.opts.Fleet.holder(ctx, h.unit)
}

// sleep waits d or until ctx ends; false means ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
