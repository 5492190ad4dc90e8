package handlers

import (
	"context"
	"encoding/json"
	"strconv"

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

// withExtensions fills in the unit's extension numbers when the reading has a ringing call whose
// destination they would type (calls.Channels.NeedsExtensions): one listAccount, projected on
// the number. It only adds a detail, so a failed read is logged and the call left untyped.
func (s *Server) withExtensions(ctx context.Context, unit string, chans *calls.Channels) {
	if !chans.NeedsExtensions() {
		return
	}
	raw, err := s.up.Do(ctx, unit, "listAccount", map[string]any{"options": "extension"})
	var reply struct {
		Account []struct {
			Extension any `json:"extension"`
		} `json:"account"`
	}
	if err == nil {
		err = json.Unmarshal(raw, &reply)
	}
	if err != nil {
		s.logger.WarnContext(ctx, "reading the extensions to type a ringing call failed", "unit", unit, "err", err)
		return
	}
	chans.Extensions = make(map[string]bool, len(reply.Account))
	for _, a := range reply.Account {
		if n, ok := a.Extension.(string); ok {
			chans.Extensions[n] = true
		} else if f, ok := a.Extension.(float64); ok {
			chans.Extensions[strconv.FormatFloat(f, 'f', -1, 64)] = true
		}
	}
}
