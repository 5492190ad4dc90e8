package events

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Group is a Redis consumer group on a unit's stream: each event goes to one replica of the
// fleet, which acknowledges it when it is done with it; what a replica took and then left idle
// (it died) is claimed by another. Webhooks use one per endpoint and unit, so that each event
// reaches each receiver from one replica, retries included.
type Group struct {
	f      *Fleet
	keys   unitKeys
	unit   string
	name   string
	exists bool
}

// Group is the consumer group name on the unit's stream, or nil without a Fleet (one replica:
// the hub's subscriptions are the whole story).
func (h *Hub) Group(name string) *Group {
	if h.opts.Fleet == nil {
		return nil
	}
	return &Group{f: h.opts.Fleet, keys: h.keys, unit: h.unit, name: name}
}

// Unit is the unit whose stream the group reads.
func (g *Group) Unit() string { return g.unit }

// create makes the group if it is missing: from start, "$" (what comes next) the first time,
// "0" when Redis lost it with its data (the stream is then new: all of it is news).
func (g *Group) create(ctx context.Context, start string) error {
	ctx, cancel := context.WithTimeout(ctx, g.f.o.Timeout)
	defer cancel()
	err := g.f.o.Client.XGroupCreateMkStream(ctx, g.keys.stream, g.name, start).Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	g.exists = true
	return nil
}

// Ensure makes the group if it is missing, starting at the stream's next event. A webhook calls
// it before it subscribes, so the events its own subscription causes (the source starting) are
// already the group's; when Redis is down, Read makes the group later.
func (g *Group) Ensure(ctx context.Context) error { return g.create(ctx, "$") }

func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }

// Read returns events for this replica: first any another member took and left idle for longer
// than idle, then new ones, waiting up to the fleet's Block. Each must be acknowledged.
func (g *Group) Read(ctx context.Context, idle time.Duration, n int) ([]Event, error) {
	if !g.exists {
		if err := g.create(ctx, "$"); err != nil {
			return nil, err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, g.f.o.Timeout)
	msgs, _, err := g.f.o.Client.XAutoClaim(cctx, &redis.XAutoClaimArgs{Stream: g.keys.stream, Group: g.name,
		MinIdle: idle, Start: "0-0", Count: int64(n), Consumer: g.f.o.Replica}).Result()
	cancel()
	if isNoGroup(err) {
		g.exists = false
		return nil, g.create(ctx, "0")
	}
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		res, err := g.f.o.Client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: g.name, Consumer: g.f.o.Replica,
			Streams: []string{g.keys.stream, ">"}, Count: int64(n), Block: g.f.o.Block}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			return nil, nil
		case isNoGroup(err):
			g.exists = false
			return nil, g.create(ctx, "0")
		case err != nil:
			return nil, err
		}
		for _, s := range res {
			msgs = append(msgs, s.Messages...)
		}
	}
	evs := decodeMessages(msgs)
	if len(evs) < len(msgs) {
		// An entry that is not an event (never written by a gateway) is acknowledged, not retried.
		good := make(map[int64]bool, len(evs))
		for _, ev := range evs {
			good[ev.ID] = true
		}
		for _, m := range msgs {
			if id := entryID(m.ID); !good[id] {
				_ = g.Ack(ctx, id)
			}
		}
	}
	return evs, nil
}

// Ack tells the group these events are done with (delivered, given up, or dropped).
func (g *Group) Ack(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, g.f.o.Timeout)
	defer cancel()
	return g.f.o.Client.XAck(ctx, g.keys.stream, g.name, streamIDs(ids)...).Err()
}

// Keep resets the idle time of events this replica still works on (retrying, or queued), so no
// other replica claims them while it lives.
func (g *Group) Keep(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, g.f.o.Timeout)
	defer cancel()
	return g.f.o.Client.XClaimJustID(ctx, &redis.XClaimArgs{Stream: g.keys.stream, Group: g.name, Consumer: g.f.o.Replica, Messages: streamIDs(ids)}).Err()
}

// Leave removes this replica from the group if it holds no event there, so the consumers of
// replicas long gone do not pile up; one that still holds events stays, for another replica to
// claim them.
func (g *Group) Leave(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, g.f.o.Timeout)
	defer cancel()
	held, err := g.f.o.Client.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: g.keys.stream, Group: g.name,
		Start: "-", End: "+", Count: 1, Consumer: g.f.o.Replica}).Result()
	if err != nil || len(held) > 0 {
		return err
	}
	return g.f.o.Client.XGroupDelConsumer(ctx, g.keys.stream, g.name, g.f.o.Replica).Err()
}

// streamIDs are the stream entry ids of events (an event's id is its entry's, see streamID).
func streamIDs(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = streamID(id)
	}
	return out
}
