package events

import (
	"context"
	"errors"
	"sync"
)

// Set holds the hub of every configured unit, in configuration order. A configuration reload
// swaps hubs in and out (Swap) while streams and webhooks read it.
type Set struct {
	mu    sync.RWMutex
	hubs  map[string]*Hub
	order []string
}

// NewSet gathers hubs; units are unique because the configuration says so.
func NewSet(hubs ...*Hub) *Set {
	s := &Set{}
	s.Swap(hubs)
	return s
}

// Hub is the unit's hub, or nil for a unit the set does not have.
func (s *Set) Hub(unit string) *Hub {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.hubs[unit]
}

// Units lists the units in configuration order.
func (s *Set) Units() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]string(nil), s.order...)
}

// Swap makes hubs the set's hubs, in that order, and returns the hubs it held that are no
// longer among them (units removed, or given a new hub), for the caller to close once nothing
// subscribes to them any more.
func (s *Set) Swap(hubs []*Hub) (gone []*Hub) {
	next := make(map[string]*Hub, len(hubs))
	order := make([]string, 0, len(hubs))
	for _, h := range hubs {
		next[h.unit] = h
		order = append(order, h.unit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.order {
		if old := s.hubs[u]; next[u] != old {
			gone = append(gone, old)
		}
	}
	s.hubs, s.order = next, order
	return gone
}

// Close ends every subscription and stops every source, waiting for them until ctx ends. The
// hubs close side by side: with a Fleet each waits out a stream read and hands its lease back,
// which must not add up over many units within the shutdown deadline.
func (s *Set) Close(ctx context.Context) error {
	s.mu.RLock()
	hubs := make([]*Hub, 0, len(s.order))
	for _, u := range s.order {
		hubs = append(hubs, s.hubs[u])
	}
	s.mu.RUnlock()
	return CloseHubs(ctx, hubs)
}

// CloseHubs closes hubs side by side (see Close).
func CloseHubs(ctx context.Context, hubs []*Hub) error {
	errs := make([]error, len(hubs))
	var wg sync.WaitGroup
	for i, h := range hubs {
		wg.Go(func() { errs[i] = h.Close(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
