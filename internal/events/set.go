package events

import (
	"context"
	"errors"
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

// Close ends every subscription and stops every source, waiting for them until ctx ends.
func (s *Set) Close(ctx context.Context) error {
	var errs []error
	for _, u := range s.order {
		errs = append(errs, s.hubs[u].Close(ctx))
	}
	return errors.Join(errs...)
}
