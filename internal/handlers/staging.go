package handlers

import (
	"context"
	"log/slog"

	"github.com/go-chi/httplog/v3"
)

// stagedWrite sends a configuration write and reports it staged whatever the reply says:
// FACTS.md has a write whose reply carries no need_apply, and a client that applies only on
// need_apply:"yes" never applies it. With apply it also applies; if only the apply fails, the
// write stands and is reported as pending, so the client does not retry a write that happened.
//
// The queue and user resources use it. write (apply.go) still trusts need_apply; the two differ
// only there, and fold into one once write follows FACTS.md too.
func (s *Server) stagedWrite(ctx context.Context, unit, action string, params map[string]any, apply *bool) (pending bool, err error) {
	if _, err := s.up.Do(ctx, unit, action, params); err != nil {
		return false, withUnit(unit, err)
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
