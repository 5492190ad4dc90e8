package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"

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
	out, _, err := s.sipTrunkRaw(ctx, unit, index)
	return out, err
}

// sipTrunkRaw reads one trunk, typed, and as the UCM sent it (for the cross-field checks).
func (s *Server) sipTrunkRaw(ctx context.Context, unit string, index int) (api.SIPTrunk, map[string]any, error) {
	var out api.SIPTrunk
	raw, err := s.up.Do(ctx, unit, "getSIPTrunk", map[string]any{"trunk": strconv.Itoa(index)})
	if err != nil {
		return out, nil, withUnit(unit, err)
	}
	var reply struct {
		Trunk map[string]any `json:"trunk"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil || reply.Trunk == nil {
		if err == nil {
			err = constError("no trunk object")
		}
		return out, nil, withUnit(unit, badReply("getSIPTrunk", err))
	}
	err = decodeInto(objectFromUCM(s.codec.schema("SipTrunk"), reply.Trunk), &out)
	return out, reply.Trunk, err
}

// CreateSIPTrunk runs addSIPTrunk after the checks the schema cannot express, then finds the
// new trunk's id by its name (the UCM does not return it) and reads the trunk back.
func (s *Server) CreateSIPTrunk(ctx context.Context, req api.CreateSIPTrunkRequestObject) (api.CreateSIPTrunkResponseObject, error) {
	params, err := paramsFromBody(s.codec.schema("SipTrunkCreate"), req.Body)
	if err != nil {
		return nil, err
	}
	if err := checkSIPTrunk(params, nil, true); err != nil {
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
	// No stale list can answer this: the pool never lets a read that starts after a write join a
	// flight that started before it.
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
	if err := checkSIPTrunk(params, nil, false); err != nil { // contradictions within the patch itself
		return nil, withUnit(req.Unit, err)
	}
	if slices.ContainsFunc(crossFieldKeys, func(k string) bool { _, touched := params[k]; return touched }) {
		// Judged against the stored trunk: one read, and only for patches that need it.
		_, stored, err := s.sipTrunkRaw(ctx, req.Unit, req.Trunk)
		if err != nil {
			return nil, err
		}
		if err := checkSIPTrunk(params, stored, false); err != nil {
			return nil, withUnit(req.Unit, err)
		}
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

// crossFieldKeys are the fields the vendor tables tie to others (Tables 11 and 13).
var crossFieldKeys = []string{"trunk_type", "username", "secret", "keepcid", "cidnumber", "tel_uri", "rmv_obp_from_route", "ldap_sync_enable"}

// checkSIPTrunk enforces the vendor rules that span fields, on the UCM parameters about to be
// sent, so the unit is never called with a request it would refuse or that would leave the trunk
// inconsistent: a register trunk needs username and secret; keepcid needs cidnumber; tel_uri
// "enabled" excludes rmv_obp_from_route; LDAP sync is for peer trunks. stored is the trunk as
// getSIPTrunk returns it (nil for a create): a patch is judged on the trunk it would produce, but
// only fields the patch touches (or makes required) are blamed. A patch checked with stored nil
// is judged on itself alone: rules that need a value the patch does not carry are skipped.
func checkSIPTrunk(p, stored map[string]any, create bool) error {
	var errs []FieldError
	bad := func(field, msg string) { errs = append(errs, FieldError{Location: "body." + field, Message: msg}) }
	val := func(k string) any {
		if v, present := p[k]; present {
			return v
		}
		return stored[k]
	}
	empty := func(k string) bool { v := val(k); return v == nil || v == "" }
	// is compares an enumerated value in any case: stored values are the unit's, whose firmware
	// does not case them alike (FACTS.md).
	is := func(k, want string) bool { s, _ := val(k).(string); return strings.EqualFold(s, want) }
	touched := func(k string) bool { _, present := p[k]; return present || create }
	known := func(keys ...string) bool {
		for _, k := range keys {
			if _, present := p[k]; !present && !create && stored == nil {
				return false
			}
		}
		return true
	}
	register := is("trunk_type", "register")
	for _, k := range []string{"username", "secret"} {
		if known("trunk_type", k) && register && touched(k) && empty(k) {
			bad(k, "required for a register trunk")
		}
	}
	if known("trunk_type", "ldap_sync_enable") && register && is("ldap_sync_enable", "yes") && touched("ldap_sync_enable") {
		bad("ldap_sync_enable", "LDAP sync is for peer trunks only")
	}
	if known("keepcid", "cidnumber") && is("keepcid", "yes") && empty("cidnumber") && (touched("keepcid") || touched("cidnumber")) {
		bad("cidnumber", "required when keepcid is true")
	}
	if known("tel_uri", "rmv_obp_from_route") && is("tel_uri", "enabled") && is("rmv_obp_from_route", "yes") {
		switch {
		case touched("rmv_obp_from_route"):
			bad("rmv_obp_from_route", "cannot be true when tel_uri is enabled")
		case touched("tel_uri"):
			bad("tel_uri", "cannot be enabled while rmv_obp_from_route is true")
		}
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
