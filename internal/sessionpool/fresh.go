package sessionpool

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// The freshness window: a list read (list*) answered by the unit is served again, without a
// call, to identical list reads that start within Options.ListFreshness of it. Two hundred
// clients polling GET …/calls once a second then cost the unit one pair of channel-list calls a
// second, not two hundred. The entry is keyed like a coalesced read, write generation included,
// so a read that starts after a write (a dial, a hangup, an update) never sees a reply read
// before it: what follows an action sees the action. A caller that needs the unit's state now
// (the call correlation polling for the call a dial started) asks for it with FreshRead.

// maxFreshEntries bounds one unit's window: past it, expired entries are dropped, and if the
// window is still full the new reply is not kept. Distinct list reads of one unit within a
// second are few (pages, sorts, filters); the bound only matters against a client cycling
// through parameters.
const maxFreshEntries = 256

type freshEntry struct {
	raw     json.RawMessage
	expires time.Time
}

// freshness is one unit's window.
type freshness struct {
	mu      sync.Mutex
	entries map[string]freshEntry
}

type freshReadKey struct{}

// FreshRead marks ctx so that the reads made with it skip the freshness window (they still
// share a call with identical concurrent reads, and their reply refreshes the window).
func FreshRead(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshReadKey{}, true)
}

func wantsFresh(ctx context.Context) bool {
	v, _ := ctx.Value(freshReadKey{}).(bool)
	return v
}

func isList(action string) bool { return len(action) > 4 && action[:4] == "list" }

// windowed reports whether the unit's reply to action may be served from the window.
func (u *unit) windowed(action string) bool { return u.opts.ListFreshness > 0 && isList(action) }

// fromWindow returns a reply read within the window under key k.
func (u *unit) fromWindow(ctx context.Context, action, k string) (json.RawMessage, bool) {
	if !u.windowed(action) || wantsFresh(ctx) {
		return nil, false
	}
	u.fresh.mu.Lock()
	e, ok := u.fresh.entries[k]
	u.fresh.mu.Unlock()
	if !ok || !time.Now().Before(e.expires) {
		return nil, false
	}
	return e.raw, true
}

// remember keeps a reply for the window, timed from when its call started: the unit's state
// is at least that old.
func (u *unit) remember(action, k string, started time.Time, raw json.RawMessage) {
	if !u.windowed(action) {
		return
	}
	expires := started.Add(u.opts.ListFreshness)
	now := time.Now()
	if !now.Before(expires) {
		return
	}
	u.fresh.mu.Lock()
	defer u.fresh.mu.Unlock()
	if u.fresh.entries == nil {
		u.fresh.entries = map[string]freshEntry{}
	}
	if _, present := u.fresh.entries[k]; !present && len(u.fresh.entries) >= maxFreshEntries {
		for key, e := range u.fresh.entries {
			if !now.Before(e.expires) {
				delete(u.fresh.entries, key)
			}
		}
		if len(u.fresh.entries) >= maxFreshEntries {
			return
		}
	}
	u.fresh.entries[k] = freshEntry{raw: raw, expires: expires}
}

// forgetWindow drops the unit's window, for an idle unit whose entries have all expired: a
// unit nobody reads holds no replies.
func (u *unit) forgetWindow(now time.Time) {
	u.fresh.mu.Lock()
	defer u.fresh.mu.Unlock()
	for key, e := range u.fresh.entries {
		if !now.Before(e.expires) {
			delete(u.fresh.entries, key)
		}
	}
	if len(u.fresh.entries) == 0 {
		u.fresh.entries = nil
	}
}
