package handlers

import (
	"context"
	"net/http"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
)

// Inbound call control (FACTS.md): with "Call Control" enabled for the API user, an inbound call
// waits on the unit for acceptCall, refuseCall or transferNumberInbound, and is accepted by
// itself after about 10 s. A client learns of such a call from a call.ringing event with
// direction inbound.

// AcceptCall lets a ringing inbound call through.
func (s *Server) AcceptCall(ctx context.Context, req api.AcceptCallRequestObject) (api.AcceptCallResponseObject, error) {
	call, err := s.ringingInbound(ctx, req.Unit, req.Call)
	if err != nil {
		return nil, err
	}
	if err := s.callAction(ctx, req.Unit, "acceptCall", map[string]any{"channel": call.Channels[0].Name}); err != nil {
		return nil, err
	}
	return api.AcceptCall200JSONResponse(call), nil
}

// RefuseCall turns a ringing inbound call away.
func (s *Server) RefuseCall(ctx context.Context, req api.RefuseCallRequestObject) (api.RefuseCallResponseObject, error) {
	call, err := s.ringingInbound(ctx, req.Unit, req.Call)
	if err != nil {
		return nil, err
	}
	if err := s.callAction(ctx, req.Unit, "refuseCall", map[string]any{"channel": call.Channels[0].Name}); err != nil {
		return nil, err
	}
	return api.RefuseCall204Response{}, nil
}

// deflect sends a ringing inbound call to another number before anyone answers it.
func (s *Server) deflect(ctx context.Context, unit string, call api.Call, to api.TransferDestination) (api.TransferCallResponseObject, error) {
	channel := call.Channels[0].Name
	if err := s.callAction(ctx, unit, "transferNumberInbound", map[string]any{"channel": channel, "callee": to.Number}); err != nil {
		return nil, err
	}
	if chans, err := s.readChannels(ctx, unit); err == nil {
		if c, found := chans.Find(unit, channel, s.zone(unit)); found {
			call = c
		}
	}
	call.To = &api.CallParty{Number: to.Number, Type: ptr(api.CallPartyType(to.Type))}
	out := api.TransferCall200JSONResponse{Body: call}
	out.Headers.Location = "/v1/units/" + unit + "/calls/" + call.ID
	return out, nil
}

// ringingInbound resolves the call and refuses, before the unit is asked, one that is not a
// ringing inbound call.
func (s *Server) ringingInbound(ctx context.Context, unit, id string) (api.Call, error) {
	call, _, err := s.liveCall(ctx, unit, id)
	if err != nil {
		return api.Call{}, err
	}
	if !calls.RingingInbound(call) {
		return api.Call{}, withUnit(unit, &InputError{Status: http.StatusConflict, Slug: "call-not-ringing-inbound",
			Detail: "the call is " + string(call.Status) + " and not a ringing inbound call: only a call that arrived on a trunk and has not been answered can be accepted, refused or deflected"})
	}
	return call, nil
}
