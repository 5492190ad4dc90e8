package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// ReloadResult is what a configuration reload changed (the caller's Reload reports it).
type ReloadResult struct {
	At                                 time.Time
	Added, Removed, Changed, Unchanged []string
	APIKeys                            int
	RestartRequired                    []string
}

// ConfigError is a reload refused because the file does not load: each problem names its place
// in the file, as at start. Nothing changed.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string { return strings.Join(e.Problems, "; ") }

// ReloadConfig re-reads the configuration through Options.Reload (the same as SIGHUP).
func (s *Server) ReloadConfig(ctx context.Context, _ api.ReloadConfigRequestObject) (api.ReloadConfigResponseObject, error) {
	if s.reload == nil {
		return nil, &InputError{Status: http.StatusNotImplemented, Slug: "reload-unavailable",
			Detail: "this gateway has no configuration file to reload (--demo without --config)"}
	}
	res, err := s.reload(ctx)
	var ce *ConfigError
	if errors.As(err, &ce) {
		fe := make([]FieldError, 0, len(ce.Problems))
		for _, p := range ce.Problems {
			loc, msg, ok := strings.Cut(p, ": ")
			if !ok || strings.HasPrefix(loc, "line ") {
				loc, msg = "config", p
			}
			fe = append(fe, FieldError{Location: "config." + strings.TrimPrefix(loc, "config."), Message: msg})
		}
		return nil, &InputError{Status: http.StatusUnprocessableEntity, Slug: "config-invalid", Errors: fe,
			Detail: "the configuration file does not load, so nothing was changed; the gateway goes on with the configuration it had"}
	}
	if err != nil {
		return nil, err
	}
	nonNil := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return api.ReloadConfig200JSONResponse{ReloadedAt: res.At.UTC(), UnitsAdded: nonNil(res.Added), UnitsRemoved: nonNil(res.Removed),
		UnitsChanged: nonNil(res.Changed), UnitsUnchanged: nonNil(res.Unchanged), APIKeys: res.APIKeys, RestartRequired: nonNil(res.RestartRequired)}, nil
}
