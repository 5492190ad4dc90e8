package handlers

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/go-chi/httplog/v3"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// ApplyConfig runs applyChanges, which takes seconds on real units (the pool gives it a longer
// deadline). -69/-98 (conference or digital calls active) become 409 with Retry-After.
func (s *Server) ApplyConfig(ctx context.Context, req api.ApplyConfigRequestObject) (api.ApplyConfigResponseObject, error) {
	if _, err := s.up.Do(ctx, req.Unit, "applyChanges", nil); err != nil {
		return nil, withUnit(req.Unit, err)
	}
	s.setPending(req.Unit, false)
	return api.ApplyConfig200JSONResponse{Applied: true, PendingApply: false}, nil
}

// write sends a configuration write and reports whether the change is staged. Every successful
// write is staged, whatever its reply says: not every reply carries need_apply (the guide's own
// updateSIPAccount sample does not, FACTS.md), and a write taken as live would never be applied.
// Only an explicit need_apply "no" is believed. With apply, it also applies; if only the apply
// fails, the write still stands and is reported as pending rather than as an error, so the client
// does not retry a write that happened.
func (s *Server) write(ctx context.Context, unit, action string, params map[string]any, apply *bool) (pending bool, err error) {
	raw, err := s.up.Do(ctx, unit, action, params)
	if err != nil {
		return false, withUnit(unit, err)
	}
	var reply struct {
		NeedApply any `json:"need_apply"`
	}
	_ = json.Unmarshal(raw, &reply)
	if staged, said := ucm.ParseBool(reply.NeedApply); said && !staged {
		return false, nil
	}
	s.setPending(unit, true)
	if apply == nil || !*apply {
		return true, nil
	}
	if _, err := s.up.Do(ctx, unit, "applyChanges", nil); err != nil {
		s.logger.WarnContext(ctx, "write staged but apply failed", "unit", unit, "action", action, "err", err)
		httplog.SetAttrs(ctx, slog.String("apply_error", err.Error()))
		return true, nil
	}
	s.setPending(unit, false)
	return false, nil
}
