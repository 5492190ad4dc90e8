package sessionpool

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	fastjson "github.com/segmentio/encoding/json"
)

// flight is one shared read: every caller with the same unit, action and parameters waits on
// it. It runs detached from any one caller, so the first caller giving up does not fail the
// others, and it is cancelled when the last caller has given up, so a read nobody waits for any
// more stops loading the unit.
type flight struct {
	done    chan struct{} // closed when raw and err are set
	raw     json.RawMessage
	err     error
	waiters int // guarded by unit.flightMu
	cancel  context.CancelFunc
}

// coalesced lets identical concurrent reads share one call.
//
// A caller waits at most until the flight ends, which its own deadline (the request timeout
// from the flight's start) bounds; a caller with an earlier deadline of its own leaves sooner.
func (u *unit) coalesced(ctx context.Context, action string, params map[string]any) (json.RawMessage, error) {
	// A read that starts after a write must not join a flight that started before it.
	var buf [128]byte
	b := strconv.AppendUint(buf[:0], u.writes.Load(), 10)
	b = append(append(append(b, 0), action...), 0)
	b, err := fastjson.Append(b, params, fastjson.SortMapKeys) // equal params, equal key
	if err != nil {
		return u.detached(ctx, action, params)
	}
	k := string(b)
	if raw, ok := u.fromWindow(ctx, action, k); ok {
		u.opts.Metrics.Coalesced.WithLabelValues(u.label).Inc()
		return raw, nil
	}

	u.flightMu.Lock()
	f, joined := u.flights[k]
	if !joined {
		// The first caller's values (its request's log line records the call) without its
		// cancellation; ended by the pool's Close, the deadline, or the last caller leaving.
		// It flies in a goroutine of its own rather than in the first caller's: that caller
		// may give up (or run out of its own, shorter deadline) while others wait on it, and
		// must get its answer then.
		tctx, cancel := context.WithTimeout(u.run, u.requestTimeout(action))
		fctx := valuesOf{Context: tctx, values: ctx}
		f = &flight{done: make(chan struct{}), cancel: cancel}
		if !u.work.Go(func() { u.fly(fctx, k, f, action, params) }) {
			u.flightMu.Unlock()
			cancel()
			return u.detached(ctx, action, params) // the pool is closing: no shared work any more
		}
		u.flights[k] = f
	}
	f.waiters++
	u.flightMu.Unlock()

	select {
	case <-f.done:
		if joined {
			u.opts.Metrics.Coalesced.WithLabelValues(u.label).Inc()
		}
		return f.raw, f.err
	case <-ctx.Done():
		u.leave(k, f)
		return nil, ctx.Err()
	}
}

// detached is a read outside any flight, within the request deadline.
func (u *unit) detached(ctx context.Context, action string, params map[string]any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, u.requestTimeout(action))
	defer cancel()
	return u.exchange(ctx, action, params)
}

// valuesOf is a context that ends as Context does and carries values's values: a flight's
// context, ended by the pool's Close, its deadline or its last caller leaving, with its first
// caller's values. (context.WithoutCancel and an AfterFunc on the pool's context did the same
// in three more allocations a read.)
type valuesOf struct {
	context.Context
	values context.Context
}

func (c valuesOf) Value(key any) any { return c.values.Value(key) }

// AfterFunc registers f on Context itself. Without it, context could see through Value only to
// the first caller's context, not to the one that ends this one, and every context derived
// from a flight's (the call's own timeout, the client's stop-on-cancel) started a goroutine to
// watch it: one or two a read.
func (c valuesOf) AfterFunc(f func()) func() bool { return context.AfterFunc(c.Context, f) }

func (u *unit) fly(ctx context.Context, k string, f *flight, action string, params map[string]any) {
	defer f.cancel()
	started := time.Now()
	f.raw, f.err = u.exchange(ctx, action, params)
	if f.err == nil {
		u.remember(action, k, started, f.raw)
	}
	u.flightMu.Lock()
	if u.flights[k] == f {
		delete(u.flights, k)
	}
	u.flightMu.Unlock()
	close(f.done)
}

// leave is a caller giving up on a flight; the last one to leave cancels it.
func (u *unit) leave(k string, f *flight) {
	u.flightMu.Lock()
	f.waiters--
	last := f.waiters == 0
	if last && u.flights[k] == f {
		delete(u.flights, k)
	}
	u.flightMu.Unlock()
	if last {
		f.cancel()
	}
}
