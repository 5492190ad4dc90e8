package handlers

import (
	"context"

	"github.com/ucm-gateway/ucm-gateway/internal/calls"
)

// readChannels reads the unit's channel lists, unbridged first (see calls.Lists). Both are
// get/list reads, so the pool coalesces identical concurrent reads; a read that starts after a
// dial or a hangup never joins a flight that started before it (the pool's write generation), so
// what follows an action sees it.
func (s *Server) readChannels(ctx context.Context, unit string) (calls.Channels, error) {
	var out calls.Channels
	for _, list := range calls.Lists {
		raw, err := s.up.Do(ctx, unit, list, nil)
		if err != nil {
			return out, withUnit(unit, err)
		}
		items, err := calls.Parse(raw)
		if err != nil {
			return out, withUnit(unit, badReply(list, err))
		}
		out.Set(list, items)
	}
	return out, nil
}
