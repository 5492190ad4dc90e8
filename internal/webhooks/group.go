package webhooks

import (
	"context"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
)

// readGroup, with a fleet of replicas, moves the events this replica gets from one unit's
// consumer group into the endpoint's queue: new events, and those a dead replica had taken and
// left idle past claimIdle. Each is acknowledged once delivered, given up or dropped, so an event
// is delivered by one replica, and retried by another if that one dies; an event abandoned at
// Close stays pending for another replica. While the endpoint is suspended here it takes nothing
// and touches nothing, so other replicas deliver (what it had queued included, under the same
// webhook-ids). Ordering is per replica: two replicas deliver their events side by side.
func (e *endpoint) readGroup(ctx context.Context, g *events.Group) {
	var lastKeep time.Time
	failing := false
	for ctx.Err() == nil {
		if e.isSuspended() {
			if !sleepCtx(ctx, time.Second) {
				return
			}
			continue
		}
		if time.Since(lastKeep) >= e.claimIdle/3 {
			if err := g.Keep(ctx, e.pendingIDs(g.Unit())...); err == nil {
				lastKeep = time.Now()
			}
		}
		evs, err := g.Read(ctx, e.claimIdle, 100)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failing {
				e.logger.Warn("webhook cannot read its events from the shared event log (Redis): delivery pauses until it answers",
					"webhook", e.cfg.Name, "unit", g.Unit(), "err", err)
				failing = true
			}
			if !sleepCtx(ctx, 500*time.Millisecond) {
				return
			}
			continue
		}
		if failing {
			e.logger.Info("webhook reads its events from the shared event log again", "webhook", e.cfg.Name, "unit", g.Unit())
			failing = false
		}
		for _, ev := range evs {
			id := ev.ID
			ack := func() { e.ack(g, id) }
			if !e.cfg.Types.Match(ev.Type) {
				ack()
				continue
			}
			e.enqueueItem(item{ev: ev, id: MessageID(ev), ack: ack})
		}
	}
}

// ack tells the group an event is done with; a failure only means another replica may deliver
// it again (under the same webhook-id) should this one die.
func (e *endpoint) ack(g *events.Group, id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := g.Ack(ctx, id); err != nil {
		e.logger.Debug("webhook event not acknowledged in the shared event log", "webhook", e.cfg.Name, "unit", g.Unit(), "event", id, "err", err)
	}
}

// pendingIDs are the ids of the unit's events this endpoint holds (queued or being retried).
func (e *endpoint) pendingIDs(unit string) []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []int64
	if e.current != nil && e.current.ack != nil && e.current.ev.Unit == unit {
		ids = append(ids, e.current.ev.ID)
	}
	for i := range e.queue.n {
		it := e.queue.buf[(e.queue.start+i)%len(e.queue.buf)]
		if it.ack != nil && it.ev.Unit == unit {
			ids = append(ids, it.ev.ID)
		}
	}
	return ids
}

func (e *endpoint) isSuspended() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.suspended
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
