package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// idempotencyTTL and idempotencyMax bound the Idempotency-Key store: a day, as the IETF draft
// suggests, and a size that a gateway's memory does not notice (an entry is a few hundred bytes).
const (
	idempotencyTTL = 24 * time.Hour
	idempotencyMax = 10000
)

// CreateCall places a call, made safe to retry by Idempotency-Key.
func (s *Server) CreateCall(ctx context.Context, req api.CreateCallRequestObject) (api.CreateCallResponseObject, error) {
	if req.Params.IdempotencyKey == nil {
		resp, _, err := s.createCall(ctx, req)
		return resp, err
	}
	// Keys are scoped to the client and the unit: one client can neither see another's keys
	// (a 422 would reveal them) nor claim them in advance to block its dials.
	owner := ""
	if p := principalFrom(ctx); p != nil {
		owner = p.Name
	}
	key := owner + "\x00" + req.Unit + "\x00" + *req.Params.IdempotencyKey
	body, _ := json.Marshal(req.Body)
	fp := fingerprint([]byte(req.Unit), body)
	state, prev, err := s.idem.begin(ctx, key, fp)
	if err != nil {
		// Fail closed: without the store a retry on another replica could dial twice.
		return nil, &InputError{Status: http.StatusServiceUnavailable, Slug: "idempotency-unavailable", RetryAfter: 5 * time.Second,
			Detail: "the gateway's shared Idempotency-Key store (Redis) is unavailable, so a keyed call cannot be made safe to retry; retry shortly (a call without Idempotency-Key still works)"}
	}
	switch state {
	case idemMismatch:
		return nil, &InputError{Status: http.StatusUnprocessableEntity, Slug: "idempotency-key-reused", Detail: "this Idempotency-Key was already used with another request; use a new key for a new call",
			Errors: []FieldError{{Location: "header.Idempotency-Key", Message: "used with another request"}}}
	case idemRunning:
		return nil, &InputError{Status: http.StatusConflict, Slug: "idempotency-key-in-use", Detail: "a request with this Idempotency-Key is still being processed; retry when it has finished"}
	case idemFull:
		return nil, &InputError{Status: http.StatusServiceUnavailable, Slug: "idempotency-store-full", RetryAfter: 5 * time.Second,
			Detail: "too many keyed calls are being placed at once; retry shortly"}
	case idemReplay:
		if prev.err != nil {
			return nil, prev.err
		}
		out := prev.resp.(api.CreateCall201JSONResponse)
		out.Headers.IdempotentReplayed = ptr(true)
		return out, nil
	}
	// A client that gives up (its own timeout) is expected to retry with the same key, so the
	// first request runs to its end regardless of the client: the retry then finds the real
	// outcome, not a cancellation. Every UCM call in it still has its own deadline.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	resp, dialled, err := s.createCall(dctx, req)
	if !dialled {
		// Nothing reached the unit that a retry could repeat: let the retry run afresh.
		if ferr := s.idem.forget(dctx, key); ferr != nil {
			s.logger.WarnContext(ctx, "could not release an Idempotency-Key; its retry gets 409 until the claim expires", "err", ferr)
		}
		return resp, err
	}
	if ferr := s.idem.finish(dctx, key, fp, resp, err); ferr != nil {
		// The dial went out and its outcome could not be stored: a retry in the next minutes
		// sees the claim as still running (409), never a second dial, until it expires.
		s.logger.ErrorContext(ctx, "could not store the outcome of a keyed dial", "err", ferr)
	}
	return resp, err
}

// createCall validates, dials and correlates. dialled reports whether the dial was sent, after
// which a retry must not dial again.
func (s *Server) createCall(ctx context.Context, req api.CreateCallRequestObject) (out api.CreateCallResponseObject, dialled bool, err error) {
	b := req.Body
	from, err := originOf(b)
	if err != nil {
		return nil, false, err
	}
	action, params, err := dialAction(from, b)
	if err != nil {
		return nil, false, err
	}
	if err := s.checkCaller(ctx, req.Unit, from, b); err != nil {
		return nil, false, err
	}
	// The channels just before the dial, as they are now: a list from the pool's freshness
	// window could miss a channel that appeared since, and correlate would take it for the new call.
	before, err := s.readChannels(sessionpool.FreshRead(ctx), req.Unit)
	if err != nil {
		return nil, false, err
	}
	created := time.Now().In(s.zone(req.Unit)).Truncate(time.Second)
	if _, err := s.up.Do(ctx, req.Unit, action, params); err != nil {
		return nil, !dialNotSent(err), withUnit(req.Unit, err)
	}
	call, err := s.correlate(ctx, req.Unit, from, b.To.Number, before.Names())
	if err != nil {
		return nil, true, err
	}
	call.From = nullable.NewNullableWithValue(from.number)
	call.To = &api.CallParty{Number: b.To.Number, Type: ptr(api.CallPartyType(b.To.Type))}
	if !call.CreatedAt.IsSpecified() || call.CreatedAt.IsNull() {
		call.CreatedAt = nullable.NewNullableWithValue(created)
	}
	resp := api.CreateCall201JSONResponse{Body: call}
	resp.Headers.Location = "/v1/units/" + req.Unit + "/calls/" + call.ID
	return resp, true, nil
}

// dialNotSent reports whether a failed dial certainly did not reach the unit's dial plan: the unit
// refused it before acting (invalid parameters or value, no such item, unsupported, too frequent,
// no permission, a cookie still refused after the re-login), or the pool refused to call it
// (backing off, breaker open, logins stopped). Anything else leaves it unknown: a transport
// failure, a timeout, and the unit's own failures (-7 connection closed, -8 timeout, -9, -24…-26),
// which may come after the phone already rang. An Idempotency-Key keeps an unknown outcome, so a
// retry does not dial twice.
func dialNotSent(err error) bool {
	var (
		unav *sessionpool.UnavailableError
		stop *sessionpool.LoginStoppedError
	)
	if status, ok := ucm.StatusOf(err); ok {
		switch status {
		case ucm.StatusInvalidParams, ucm.StatusInvalidValue, ucm.StatusNoSuchItem, ucm.StatusUnsupported,
			ucm.StatusTooFrequent, ucm.StatusTooFrequent2, ucm.StatusTooFrequentLong, ucm.StatusNoPermission,
			ucm.StatusSensitiveChars, ucm.StatusNeedAuth, ucm.StatusCookie:
			return true
		}
		return false
	}
	return errors.As(err, &unav) || errors.As(err, &stop) || errors.Is(err, sessionpool.ErrUnknownUnit)
}

// dialAction picks the UCM action for the origin and destination and checks the number fits
// its type.
func dialAction(from origin, b *api.CallCreate) (string, map[string]any, error) {
	if from.external {
		return dialFromOutside(from, b.To)
	}
	n := b.To.Number
	if b.To.Type != api.CallDestinationTypeExternal && !extensionNumber(n) {
		return "", nil, &InputError{Detail: "invalid body.to.number", Errors: []FieldError{{Location: "body.to.number",
			Message: "a number of the unit (" + string(b.To.Type) + ") has 2 to 18 digits"}}}
	}
	switch b.To.Type {
	case api.CallDestinationTypeExtension:
		if n == from.number {
			return "", nil, &InputError{Detail: "invalid body.to.number", Errors: []FieldError{{Location: "body.to.number", Message: "an extension cannot call itself"}}}
		}
		return "dialExtension", map[string]any{"caller": from.number, "callee": n}, nil
	case api.CallDestinationTypeExternal:
		return "dialOutbound", map[string]any{"caller": from.number, "outbound": n}, nil
	case api.CallDestinationTypeIvr:
		return "dialIVR", map[string]any{"caller": from.number, "ivrnumber": n}, nil
	case api.CallDestinationTypeQueue:
		return "dialQueue", map[string]any{"outcaller": from.number, "queue": n}, nil
	case api.CallDestinationTypeRingGroup:
		return "dialRinggroup", map[string]any{"outcaller": from.number, "ringgroup": n}, nil
	}
	return "", nil, &InputError{Detail: "invalid body.to.type", Errors: []FieldError{{Location: "body.to.type", Message: "unknown destination type"}}}
}

func extensionNumber(s string) bool { return len(s) >= 2 && len(s) <= 18 && calls.IsDigits(s) }

// checkCaller refuses, before anything is dialled, a caller (or extension callee) the unit does not
// have, and an external call from an extension whose permission is "internal": the UCM would ring
// the phone and then silently drop the call (FACTS.md). An outside caller is the unit's to reach.
func (s *Server) checkCaller(ctx context.Context, unit string, caller origin, b *api.CallCreate) error {
	if caller.external {
		return nil
	}
	from, err := s.extension(ctx, unit, caller.number)
	if errors.Is(err, ucm.StatusNoSuchItem) {
		return &InputError{Status: http.StatusUnprocessableEntity, Detail: "extension " + caller.number + " does not exist on the unit",
			Errors: []FieldError{{Location: "body.from", Message: "no such extension"}}}
	}
	if err != nil {
		return err
	}
	if b.To.Type == api.CallDestinationTypeExternal && from.Permission != nil && *from.Permission == api.OutboundPermissionInternal {
		return &InputError{Status: http.StatusUnprocessableEntity, Slug: "call-not-permitted",
			Detail: "extension " + caller.number + " may only make internal calls (permission \"internal\"); the unit would ring it and then drop the call",
			Errors: []FieldError{{Location: "body.from", Message: "outbound permission is internal"}}}
	}
	if b.To.Type == api.CallDestinationTypeExtension {
		if _, err := s.extension(ctx, unit, b.To.Number); errors.Is(err, ucm.StatusNoSuchItem) {
			return &InputError{Status: http.StatusUnprocessableEntity, Detail: "extension " + b.To.Number + " does not exist on the unit",
				Errors: []FieldError{{Location: "body.to.number", Message: "no such extension"}}}
		} else if err != nil {
			return err
		}
	}
	return nil
}

// correlate finds the call a dial started. The UCM returns no id, but it rings the caller's
// extension first, so the call is the channel of that extension ("PJSIP/1000-…") that was not in
// the lists read just before the dial (for an outside caller, the new trunk channel ringing its
// number: origin.placed). Should two dials from the same extension race, the channel
// connected to the number dialled is preferred, then the lowest (oldest) name. The lists are
// polled with growing pauses until it appears or callStartWait has passed; reads after the dial
// never join a read that began before it (the pool's write generation), so the first poll
// already sees the unit's state after the dial.
func (s *Server) correlate(ctx context.Context, unit string, from origin, to string, before map[string]bool) (api.Call, error) {
	// Each poll must see the unit as it is now, not a list another client read within the
	// pool's freshness window.
	ctx = sessionpool.FreshRead(ctx)
	deadline := time.Now().Add(s.callStartWait)
	pause := 50 * time.Millisecond
	for {
		now, err := s.readChannels(ctx, unit)
		if err != nil {
			return api.Call{}, err
		}
		var best api.Call
		for name := range now.Names() {
			if before[name] {
				continue
			}
			call, found := now.Find(unit, name, s.zone(unit))
			if !found || !from.placed(name, call) {
				continue
			}
			if best.ID == "" || dialledTo(call, to) && !dialledTo(best, to) ||
				dialledTo(call, to) == dialledTo(best, to) && name < best.Channels[0].Name {
				best = call
			}
		}
		if best.ID != "" {
			return best, nil
		}
		if time.Now().Add(pause).After(deadline) {
			return api.Call{}, &InputError{Status: http.StatusConflict, Slug: "call-not-started",
				Detail: "the unit accepted the dial but no call of " + from.String() + " appeared within " + s.callStartWait.String() + ": " + from.notStartedReason() + "; see GET …/cdrs"}
		}
		select {
		case <-ctx.Done():
			return api.Call{}, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// dialledTo reports whether the call's destination is the number dialled.
func dialledTo(c api.Call, number string) bool { return c.To != nil && c.To.Number == number }

// ListCalls merges the unit's bridged and unbridged channels into calls.
func (s *Server) ListCalls(ctx context.Context, req api.ListCallsRequestObject) (api.ListCallsResponseObject, error) {
	chans, err := s.readChannels(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	s.withExtensions(ctx, req.Unit, &chans)
	out := api.ListCalls200JSONResponse{Items: []api.Call{}}
	for _, c := range chans.Calls(req.Unit, s.zone(req.Unit)) {
		if req.Params.Status != nil && c.Status != *req.Params.Status {
			continue
		}
		if req.Params.Extension != nil && !involves(c, *req.Params.Extension) {
			continue
		}
		out.Items = append(out.Items, c)
	}
	return out, nil
}

// involves reports whether ext takes part in the call: as a channel's endpoint or caller id, or
// as the number a ringing call is trying to reach.
func involves(c api.Call, ext string) bool {
	if c.To != nil && c.To.Number == ext {
		return true
	}
	for _, ch := range c.Channels {
		if calls.EndpointOf(ch.Name) == ext {
			return true
		}
		if v, err := ch.CallerNumber.Get(); err == nil && v == ext {
			return true
		}
	}
	return false
}

// GetCall reads one live call.
func (s *Server) GetCall(ctx context.Context, req api.GetCallRequestObject) (api.GetCallResponseObject, error) {
	call, _, err := s.liveCall(ctx, req.Unit, req.Call)
	if err != nil {
		return nil, err
	}
	return api.GetCall200JSONResponse(call), nil
}

// liveCall resolves a call id to the live call and the channel the id names; 404 once it ended.
func (s *Server) liveCall(ctx context.Context, unit, id string) (api.Call, string, error) {
	channel, err := channelFromID(id)
	if err != nil {
		return api.Call{}, "", withUnit(unit, err)
	}
	// A call moving between the lists while they are read (a transfer takes a channel out of its
	// bridge) can be missed by one reading; a second reading settles it before the answer is 404.
	for attempt := 0; attempt < 2; attempt++ {
		chans, err := s.readChannels(ctx, unit)
		if err != nil {
			return api.Call{}, "", err
		}
		if call, found := chans.Find(unit, channel, s.zone(unit)); found {
			if call.To != nil && call.To.Type == nil && chans.NeedsExtensions() {
				s.withExtensions(ctx, unit, &chans)
				call, _ = chans.Find(unit, channel, s.zone(unit))
			}
			return call, channel, nil
		}
	}
	return api.Call{}, "", withUnit(unit, errCallNotFound())
}

// HangupCall hangs up every channel of the call, first to last as the UCM's web interface does.
// Once the first is gone the unit may already have ended the rest with it, so "no such item" on a
// later channel is success.
func (s *Server) HangupCall(ctx context.Context, req api.HangupCallRequestObject) (api.HangupCallResponseObject, error) {
	call, _, err := s.liveCall(ctx, req.Unit, req.Call)
	if err != nil {
		return nil, err
	}
	for i, ch := range call.Channels {
		_, err := s.up.Do(ctx, req.Unit, "Hangup", map[string]any{"channel": ch.Name})
		if err == nil || (i > 0 && errors.Is(err, ucm.StatusNoSuchItem)) {
			continue
		}
		if i == 0 && errors.Is(err, ucm.StatusNoSuchItem) {
			return nil, withUnit(req.Unit, errCallNotFound())
		}
		return nil, withUnit(req.Unit, err)
	}
	if call.Status == api.CallStatusInProgress {
		call.Status = api.CallStatusCompleted
	} else {
		call.Status = api.CallStatusCanceled
	}
	return api.HangupCall200JSONResponse(call), nil
}
