package handlers

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// RunAction sends one allow-listed UCM action with the client's parameters and returns the
// UCM's response object. The allow-list is the spec's ActionName enum, which the validator
// enforces before this runs; it is checked again here so that no route change can turn this into
// an open relay (challenge, login and logout would hand a client the unit's session).
func (s *Server) RunAction(ctx context.Context, req api.RunActionRequestObject) (api.RunActionResponseObject, error) {
	if !req.Action.Valid() {
		return nil, withUnit(req.Unit, &InputError{Detail: "this action is not allowed through the gateway",
			Errors: []FieldError{{Location: "path.action", Message: "not an allowed action"}}})
	}
	params := map[string]any{}
	if req.Body != nil {
		var errs []FieldError
		for k, v := range *req.Body {
			switch {
			case !actionParamName.MatchString(k):
				// No control characters, spaces or odd bytes: a UCM parser that cuts at NUL or
				// ignores case must never see a second "action" or "cookie".
				errs = append(errs, FieldError{Location: "body", Message: "a parameter name must be letters, digits, '_' or '-' (at most 64)"})
				continue
			case strings.EqualFold(k, "action"), strings.EqualFold(k, "cookie"):
				errs = append(errs, FieldError{Location: "body." + k, Message: "set by the gateway; not a parameter"})
				continue
			}
			params[k] = v
		}
		if len(errs) > 0 {
			return nil, withUnit(req.Unit, &InputError{Detail: "invalid " + errs[0].Location + ": " + errs[0].Message, Errors: errs})
		}
	}
	raw, err := s.up.Do(ctx, req.Unit, string(req.Action), params)
	if err != nil {
		return nil, withUnit(req.Unit, err)
	}
	out := api.RunAction200JSONResponse{Body: api.ActionResult{}}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			return nil, withUnit(req.Unit, badReply(string(req.Action), err))
		}
	}
	dropSecrets(out.Body)
	if pending, _ := ucm.ParseBool(out.Body["need_apply"]); pending {
		s.setPending(req.Unit, true)
		out.Headers.XPendingApply = true
	}
	return out, nil
}

// secretKeys are the UCM fields known to carry passwords in clear text. A pass-through reply is
// not typed by the spec, so its write-only fields cannot be dropped by the codec: these are
// removed wherever they appear, so /actions/ never returns a secret a resource would hide.
var secretKeys = map[string]bool{
	"secret": true, "vmsecret": true, "user_password": true, "user_outrt_passwd": true,
	"ldap_sync_passwd": true, "password": true, "passwd": true, "pin": true,
}

// isSecretKey also catches the names the guide does not list: anything that says pass, secret or
// pin (a PIN set's pins, a *_password of newer firmware). Dropping a harmless field is the cheaper
// mistake.
func isSecretKey(k string) bool {
	l := strings.ToLower(k)
	return secretKeys[l] || strings.Contains(l, "pass") || strings.Contains(l, "secret") ||
		l == "pins" || strings.HasSuffix(l, "_pin") || strings.HasPrefix(l, "pin_")
}

var actionParamName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

func dropSecrets(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if isSecretKey(k) {
				delete(x, k)
				continue
			}
			dropSecrets(e)
		}
	case api.ActionResult:
		dropSecrets(map[string]any(x))
	case []any:
		for _, e := range x {
			dropSecrets(e)
		}
	}
}
