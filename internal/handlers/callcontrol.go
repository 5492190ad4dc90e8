package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// HoldCall puts the other party on hold (UCM action hold on the call's last channel).
func (s *Server) HoldCall(ctx context.Context, req api.HoldCallRequestObject) (api.HoldCallResponseObject, error) {
	if err := s.channelAction(ctx, req.Unit, req.Call, "hold", otherParty); err != nil {
		return nil, err
	}
	return api.HoldCall204Response{}, nil
}

// UnholdCall takes it off hold (unhold).
func (s *Server) UnholdCall(ctx context.Context, req api.UnholdCallRequestObject) (api.UnholdCallResponseObject, error) {
	if err := s.channelAction(ctx, req.Unit, req.Call, "unhold", otherParty); err != nil {
		return nil, err
	}
	return api.UnholdCall204Response{}, nil
}

// MuteCall mutes the party that placed the call (mute on the channel the id names).
func (s *Server) MuteCall(ctx context.Context, req api.MuteCallRequestObject) (api.MuteCallResponseObject, error) {
	if err := s.channelAction(ctx, req.Unit, req.Call, "mute", ownParty); err != nil {
		return nil, err
	}
	return api.MuteCall204Response{}, nil
}

// UnmuteCall unmutes it (Unmute, with the guide's capital U).
func (s *Server) UnmuteCall(ctx context.Context, req api.UnmuteCallRequestObject) (api.UnmuteCallResponseObject, error) {
	if err := s.channelAction(ctx, req.Unit, req.Call, "Unmute", ownParty); err != nil {
		return nil, err
	}
	return api.UnmuteCall204Response{}, nil
}

// party picks the channel a one-channel action applies to.
type party int

const (
	ownParty   party = iota // the channel the call id names: the party that placed the call
	otherParty              // the call's last channel: the party it is talking to
)

// channelAction checks the call is live (404 otherwise, without touching the unit's state) and
// sends a one-channel action to the channel of the given party. The actions mirror a desk phone
// of the party that placed the call: its hold key plays music to the other side, its mute key
// silences itself.
func (s *Server) channelAction(ctx context.Context, unit, id, action string, who party) error {
	call, channel, err := s.liveCall(ctx, unit, id)
	if err != nil {
		return err
	}
	if who == otherParty {
		channel = call.Channels[len(call.Channels)-1].Name
	}
	return s.callAction(ctx, unit, action, map[string]any{"channel": channel})
}

// callAction sends a call-control action; -16 means the call ended meanwhile.
func (s *Server) callAction(ctx context.Context, unit, action string, params map[string]any) error {
	_, err := s.up.Do(ctx, unit, action, params)
	if errors.Is(err, ucm.StatusNoSuchItem) {
		return withUnit(unit, errCallNotFound())
	}
	return withUnit(unit, err)
}

// errNotAnswered refuses, before the unit is asked, an action that needs a bridged call.
func errNotAnswered(status api.CallStatus) error {
	return &InputError{Status: http.StatusConflict, Slug: "call-not-answered", Detail: "the call is " + string(status) + ": only a call in progress can be transferred or barged into"}
}

// TransferCall sends the other party of the call to a new destination; the party that placed it
// drops out. The transferred party's channel carries on, so the call's id changes to the one
// derived from that channel.
func (s *Server) TransferCall(ctx context.Context, req api.TransferCallRequestObject) (api.TransferCallResponseObject, error) {
	to := req.Body.To
	if to.Type == api.TransferDestinationTypeExtension && !extensionNumber(to.Number) {
		return nil, withUnit(req.Unit, &InputError{Detail: "invalid body.to.number", Errors: []FieldError{{Location: "body.to.number", Message: "an extension has 2 to 18 digits"}}})
	}
	call, _, err := s.liveCall(ctx, req.Unit, req.Call)
	if err != nil {
		return nil, err
	}
	if calls.RingingInbound(call) {
		return s.deflect(ctx, req.Unit, call, to)
	}
	if call.Status != api.CallStatusInProgress {
		return nil, withUnit(req.Unit, errNotAnswered(call.Status))
	}
	moved := call.Channels[len(call.Channels)-1].Name
	action, params := "callTransfer", map[string]any{"channel": moved, "extension": to.Number}
	if to.Type == api.TransferDestinationTypeExternal {
		action, params = "transferNumberOutbound", map[string]any{"channel": moved, "outbound": to.Number}
	}
	if err := s.callAction(ctx, req.Unit, action, params); err != nil {
		return nil, err
	}
	after := api.Call{ID: callID(moved), Unit: req.Unit, Status: api.CallStatusRinging, Channels: []api.CallChannel{{Name: moved}}}
	if chans, err := s.readChannels(ctx, req.Unit); err == nil {
		if c, found := chans.Find(req.Unit, moved, s.zone(req.Unit)); found {
			after = c
		}
	} else {
		s.logger.WarnContext(ctx, "read-back after a transfer failed", "unit", req.Unit, "err", err)
	}
	after.To = &api.CallParty{Number: to.Number, Type: ptr(api.CallPartyType(to.Type))}
	out := api.TransferCall200JSONResponse{Body: after}
	out.Headers.Location = "/v1/units/" + req.Unit + "/calls/" + after.ID
	return out, nil
}

// bargeModes are callbarge's mode values as the UCM's web GUI sends them (FACTS.md): "" listen,
// w whisper, B barge. (W, which one peer sends, is ChanSpy's private whisper: the supervisor
// would not hear the call.)
var bargeModes = map[api.CallBargeMode]string{api.CallBargeModeListen: "", api.CallBargeModeWhisper: "w", api.CallBargeModeBarge: "B"}

// BargeCall rings a supervisor's extension that then listens to, whispers into or joins the call.
func (s *Server) BargeCall(ctx context.Context, req api.BargeCallRequestObject) (api.BargeCallResponseObject, error) {
	call, channel, err := s.liveCall(ctx, req.Unit, req.Call)
	if err != nil {
		return nil, err
	}
	if call.Status != api.CallStatusInProgress {
		return nil, withUnit(req.Unit, errNotAnswered(call.Status))
	}
	supervisor := req.Body.Extension
	for _, ch := range call.Channels {
		if calls.EndpointOf(ch.Name) == supervisor {
			return nil, withUnit(req.Unit, &InputError{Status: http.StatusUnprocessableEntity, Detail: "extension " + supervisor + " is a party of this call: a supervisor barges into a call of others",
				Errors: []FieldError{{Location: "body.extension", Message: "a party of the call"}}})
		}
	}
	if _, err := s.extension(ctx, req.Unit, supervisor); errors.Is(err, ucm.StatusNoSuchItem) {
		return nil, withUnit(req.Unit, &InputError{Status: http.StatusUnprocessableEntity, Detail: "extension " + supervisor + " does not exist on the unit",
			Errors: []FieldError{{Location: "body.extension", Message: "no such extension"}}})
	} else if err != nil {
		return nil, err
	}
	// callbarge spies on an extension's channel: the first of the call's channels that belongs to
	// an extension (an inbound call's first channel is the trunk's). exten names the owner of
	// that channel, barge-exten the supervisor, as the UCM's web GUI sends them.
	monitored := calls.EndpointOf(channel)
	for _, ch := range call.Channels {
		if ep := calls.EndpointOf(ch.Name); extensionNumber(ep) {
			channel, monitored = ch.Name, ep
			break
		}
	}
	ask := "@0"
	if req.Body.AskAgentFirst != nil && *req.Body.AskAgentFirst {
		ask = "@1"
	}
	err = s.callAction(ctx, req.Unit, "callbarge", map[string]any{
		"channel": channel, "exten": monitored, "barge-exten": supervisor + ask, "mode": bargeModes[req.Body.Mode],
	})
	if err != nil {
		return nil, err
	}
	return api.BargeCall204Response{}, nil
}
