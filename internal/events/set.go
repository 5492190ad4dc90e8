package events

import (
	"context"
	"errors"
	"sync"
)

// Set holds the hub of every configured unit, in configuration order.
type Set struct {
	hubs  map[string]*Hub
	order []string
}

// NewSet gathers hubs; units are unique because the configuration says so.
func NewSet(hubs ...*Hub) *Set {
	s := &Set{hubs: make(map[string]*Hub, len(hubs))}
	for _, h := range hubs {
		s.hubs[h.unit] = h
		s.order = append(s.order, h.unit)
	}
	return s
}

// Hub is the unit's hub, or nil for a unit the set does not have.
func (s *Set) Hub(unit string) *Hub { return s.hubs[unit] }

// Units lists the units in configuration order.
func (s *Set) Units() []string { return append([]string(nil), s.order...) }

// Close ends every subscription and stops every source, waiting for them until ctx ends. The
// hubs close side by side: with a Fleet each waits out a stream read and hands its lease back,
// which must not add up over many units within the shutdown deadline.
func (s *Set) Close(ctx context.Context) error {
	errs := make([]error, len(s.order))
	var wg sync.WaitGroup
	for i, u := range s.order {
		wg.Go(func() { errs[i] = s.hubs[u].Close(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
