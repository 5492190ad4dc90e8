package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"

	"github.com/go-chi/httplog/v3"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// ListSIPTrunks pages through listVoIPTrunk.
func (s *Server) ListSIPTrunks(ctx context.Context, req api.ListSIPTrunksRequestObject) (api.ListSIPTrunksResponseObject, error) {
	sort := "trunk_index"
	if req.Params.Sort != nil {
		sort = string(*req.Params.Sort)
	}
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listVoIPTrunk", key: "voip_trunk", schema: "SipTrunkSummary",
		path: "/v1/units/" + req.Unit + "/trunks/sip", size: req.Params.PageSize, sort: sort, token: req.Params.PageToken,
	})
	if err != nil {
		return nil, err
	}
	out := api.ListSIPTrunks200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}

// GetSIPTrunk reads getSIPTrunk, typed, secrets removed.
func (s *Server) GetSIPTrunk(ctx context.Context, req api.GetSIPTrunkRequestObject) (api.GetSIPTrunkResponseObject, error) {
	t, err := s.sipTrunk(ctx, req.Unit, req.Trunk)
	if err != nil {
		return nil, err
	}
	return api.GetSIPTrunk200JSONResponse(t), nil
}

func (s *Server) sipTrunk(ctx context.Context, unit string, index int) (api.SIPTrunk, error) {
	var out api.SIPTrunk
	raw, err := s.up.Do(ctx, unit, "getSIPTrunk", map[string]any{"trunk": strconv.Itoa(index)})
	if err != nil {
		return out, withUnit(unit, err)
	}
	var reply struct {
		Trunk map[string]any `json:"trunk"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil || reply.Trunk == nil {
		if err == nil {
			err = constError("no trunk object")
		}
		return out, withUnit(unit, badReply("getSIPTrunk", err))
	}
	err = decodeInto(objectFromUCM(s.codec.schema("SipTrunk"), reply.Trunk), &out)
	return out, err
}

// CreateSIPTrunk runs addSIPTrunk after the checks the schema cannot express, then finds the
// new trunk's id by its name (the UCM does not return it) and reads the trunk back.
func (s *Server) CreateSIPTrunk(ctx context.Context, req api.CreateSIPTrunkRequestObject) (api.CreateSIPTrunkResponseObject, error) {
	params, err := paramsFromBody(s.codec.schema("SipTrunkCreate"), req.Body)
	if err != nil {
		return nil, err
	}
	if err := checkSIPTrunk(params, true); err != nil {
		return nil, withUnit(req.Unit, err)
	}
	pending, err := s.write(ctx, req.Unit, "addSIPTrunk", params, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	index, err := s.newTrunkIndex(ctx, req.Unit, "listVoIPTrunk", "voip_trunk", req.Body.TrunkName)
	if err != nil {
		return nil, err
	}
	out := api.CreateSIPTrunk201JSONResponse{}
	out.Headers.Location = "/v1/units/" + req.Unit + "/trunks/sip/" + strconv.Itoa(index)
	out.Headers.XPendingApply = pending
	out.Body = s.sipTrunkReadBack(ctx, req.Unit, index)
	out.Body.PendingApply = &pending
	return out, nil
}

// newTrunkIndex finds the id of a trunk just created. If the unit does not list it, the write
// still happened: the client gets a 502 saying so (a retry would meet 409, not a second trunk).
func (s *Server) newTrunkIndex(ctx context.Context, unit, action, key, name string) (int, error) {
	index, found, err := s.findByName(ctx, unit, action, key, name)
	if err == nil && !found {
		err = withUnit(unit, badReply(action, constError("the trunk "+strconv.Quote(name)+" was created but the unit does not list it; find it by name")))
	}
	if err != nil {
		s.logger.WarnContext(ctx, "trunk created but its id was not found", "unit", unit, "action", action, "err", err)
		return 0, err
	}
	return index, nil
}

// UpdateSIPTrunk applies a JSON merge patch through updateSIPTrunk, which is itself partial.
func (s *Server) UpdateSIPTrunk(ctx context.Context, req api.UpdateSIPTrunkRequestObject) (api.UpdateSIPTrunkResponseObject, error) {
	params, err := paramsFromBody(s.codec.schema("SipTrunkPatch"), req.Body)
	if err != nil {
		return nil, err
	}
	if err := checkSIPTrunk(params, false); err != nil {
		return nil, withUnit(req.Unit, err)
	}
	params["trunk"] = strconv.Itoa(req.Trunk)
	pending, err := s.write(ctx, req.Unit, "updateSIPTrunk", params, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	t := s.sipTrunkReadBack(ctx, req.Unit, req.Trunk)
	t.PendingApply = &pending
	return api.UpdateSIPTrunk200JSONResponse(t), nil
}

// DeleteSIPTrunk runs deleteSIPTrunk.
func (s *Server) DeleteSIPTrunk(ctx context.Context, req api.DeleteSIPTrunkRequestObject) (api.DeleteSIPTrunkResponseObject, error) {
	pending, err := s.write(ctx, req.Unit, "deleteSIPTrunk", map[string]any{"trunk": strconv.Itoa(req.Trunk)}, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	return api.DeleteSIPTrunk204Response{Headers: api.DeleteSIPTrunk204ResponseHeaders{XPendingApply: pending}}, nil
}

// sipTrunkReadBack returns the stored trunk after a successful write; if the read fails the
// client still gets its 2xx (see readBack).
func (s *Server) sipTrunkReadBack(ctx context.Context, unit string, index int) api.SIPTrunk {
	t, err := s.sipTrunk(ctx, unit, index)
	if err != nil {
		s.logger.WarnContext(ctx, "read-back after a successful write failed", "unit", unit, "trunk", index, "err", err)
		httplog.SetAttrs(ctx, slog.String("read_back_error", err.Error()))
		return api.SIPTrunk{TrunkIndex: &index}
	}
	return t
}

// checkSIPTrunk enforces the vendor rules that span fields (Tables 11 and 13), on the UCM
// parameters about to be sent, so the unit is never called with a request it would refuse. A
// patch is checked only against itself: the stored trunk is not read for it.
func checkSIPTrunk(p map[string]any, create bool) error {
	var errs []FieldError
	bad := func(field, msg string) { errs = append(errs, FieldError{Location: "body." + field, Message: msg}) }
	isSet := func(k string) bool { v, present := p[k]; return present && v != nil && v != "" }
	if create && p["trunk_type"] == "register" {
		if !isSet("username") {
			bad("username", "required for a register trunk")
		}
		if !isSet("secret") {
			bad("secret", "required for a register trunk")
		}
	}
	if create && p["trunk_type"] == "register" && p["ldap_sync_enable"] == "yes" {
		bad("ldap_sync_enable", "LDAP sync is for peer trunks only")
	}
	if p["keepcid"] == "yes" {
		if v, present := p["cidnumber"]; (create && !isSet("cidnumber")) || (present && (v == nil || v == "")) {
			bad("cidnumber", "required when keepcid is true")
		}
	}
	if p["tel_uri"] == "enabled" && p["rmv_obp_from_route"] == "yes" {
		bad("rmv_obp_from_route", "cannot be true when tel_uri is enabled")
	}
	if len(errs) == 0 {
		return nil
	}
	in := &InputError{Detail: "the request is invalid", Errors: errs}
	if len(errs) == 1 {
		in.Detail = "invalid " + errs[0].Location + ": " + errs[0].Message
	}
	return in
}
