package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"

	"github.com/go-chi/httplog/v3"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// Analog trunks hide the vendor's id quirks from REST clients: getAnalogTrunk and
// deleteAnalogTrunk name the trunk "analogtrunk", updateAnalogTrunk "trunk_index" in its table
// and "trunkgroup" in its sample (the gateway sends both, equal), and addAnalogTrunk needs a
// "trunkgroup" that "is 0 when adding". Clients only ever see trunk_index and the path.

// ListAnalogTrunks pages through listAnalogTrunk.
func (s *Server) ListAnalogTrunks(ctx context.Context, req api.ListAnalogTrunksRequestObject) (api.ListAnalogTrunksResponseObject, error) {
	sort := "trunk_index"
	if req.Params.Sort != nil {
		sort = string(*req.Params.Sort)
	}
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listAnalogTrunk", key: "analogtrunk", schema: "AnalogTrunkSummary",
		path: "/v1/units/" + req.Unit + "/trunks/analog", size: req.Params.PageSize, sort: sort, token: req.Params.PageToken,
	})
	if err != nil {
		return nil, err
	}
	out := api.ListAnalogTrunks200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}

// GetAnalogTrunk reads getAnalogTrunk, typed.
func (s *Server) GetAnalogTrunk(ctx context.Context, req api.GetAnalogTrunkRequestObject) (api.GetAnalogTrunkResponseObject, error) {
	t, _, err := s.analogTrunk(ctx, req.Unit, req.Trunk)
	if err != nil {
		return nil, err
	}
	return api.GetAnalogTrunk200JSONResponse(t), nil
}

// analogTrunk reads one analog trunk; raw is the UCM's object (for trunk_name and trunkmode).
func (s *Server) analogTrunk(ctx context.Context, unit string, index int) (api.AnalogTrunk, map[string]any, error) {
	var out api.AnalogTrunk
	raw, err := s.up.Do(ctx, unit, "getAnalogTrunk", map[string]any{"analogtrunk": strconv.Itoa(index)})
	if err != nil {
		return out, nil, withUnit(unit, err)
	}
	var reply struct {
		Trunk map[string]any `json:"analogtrunk"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil || reply.Trunk == nil {
		if err == nil {
			err = constError("no analogtrunk object")
		}
		return out, nil, withUnit(unit, badReply("getAnalogTrunk", err))
	}
	err = decodeInto(objectFromUCM(s.codec.schema("AnalogTrunk"), reply.Trunk), &out)
	return out, reply.Trunk, err
}

// CreateAnalogTrunk runs addAnalogTrunk and finds the new trunk's id by its name.
func (s *Server) CreateAnalogTrunk(ctx context.Context, req api.CreateAnalogTrunkRequestObject) (api.CreateAnalogTrunkResponseObject, error) {
	params, err := paramsFromBody(s.codec.schema("AnalogTrunkCreate"), req.Body)
	if err != nil {
		return nil, err
	}
	params["trunkgroup"] = "0"
	pending, err := s.write(ctx, req.Unit, "addAnalogTrunk", params, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	index, err := s.newTrunkIndex(ctx, req.Unit, "listAnalogTrunk", "analogtrunk", req.Body.TrunkName)
	if err != nil {
		return nil, err
	}
	out := api.CreateAnalogTrunk201JSONResponse{}
	out.Headers.Location = "/v1/units/" + req.Unit + "/trunks/analog/" + strconv.Itoa(index)
	out.Headers.XPendingApply = pending
	out.Body = s.analogReadBack(ctx, req.Unit, index)
	out.Body.PendingApply = &pending
	return out, nil
}

// UpdateAnalogTrunk applies a JSON merge patch through updateAnalogTrunk.
func (s *Server) UpdateAnalogTrunk(ctx context.Context, req api.UpdateAnalogTrunkRequestObject) (api.UpdateAnalogTrunkResponseObject, error) {
	params, err := paramsFromBody(s.codec.schema("AnalogTrunkPatch"), req.Body)
	if err != nil {
		return nil, err
	}
	id := strconv.Itoa(req.Trunk)
	params["trunk_index"], params["trunkgroup"] = id, id
	pending, err := s.write(ctx, req.Unit, "updateAnalogTrunk", params, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	t := s.analogReadBack(ctx, req.Unit, req.Trunk)
	t.PendingApply = &pending
	return api.UpdateAnalogTrunk200JSONResponse(t), nil
}

// DeleteAnalogTrunk runs deleteAnalogTrunk.
func (s *Server) DeleteAnalogTrunk(ctx context.Context, req api.DeleteAnalogTrunkRequestObject) (api.DeleteAnalogTrunkResponseObject, error) {
	pending, err := s.write(ctx, req.Unit, "deleteAnalogTrunk", map[string]any{"analogtrunk": strconv.Itoa(req.Trunk)}, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	return api.DeleteAnalogTrunk204Response{Headers: api.DeleteAnalogTrunk204ResponseHeaders{XPendingApply: pending}}, nil
}

// PutAnalogTrunkSLA sets a trunk's SLA settings. addSLATrunk names the trunk by trunk_name and
// works only once; updateSLATrunk names it by trunk_index and needs trunk_name too. The gateway
// reads the trunk and picks the action by its trunkmode, so PUT is the same call either way.
func (s *Server) PutAnalogTrunkSLA(ctx context.Context, req api.PutAnalogTrunkSLARequestObject) (api.PutAnalogTrunkSLAResponseObject, error) {
	params, err := paramsFromBody(s.codec.schema("AnalogTrunkSla"), req.Body)
	if err != nil {
		return nil, err
	}
	_, raw, err := s.analogTrunk(ctx, req.Unit, req.Trunk)
	if err != nil {
		return nil, err
	}
	name, _ := raw["trunk_name"].(string)
	params["trunk_name"] = name
	action := "addSLATrunk"
	if mode, _ := raw["trunkmode"].(string); strings.EqualFold(mode, "sla") { // "SLA" on some firmware
		action = "updateSLATrunk"
		params["trunk_index"] = strconv.Itoa(req.Trunk)
	}
	pending, err := s.write(ctx, req.Unit, action, params, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	out := api.PutAnalogTrunkSLA200JSONResponse(*req.Body)
	out.PendingApply = &pending
	return out, nil
}

func (s *Server) analogReadBack(ctx context.Context, unit string, index int) api.AnalogTrunk {
	t, _, err := s.analogTrunk(ctx, unit, index)
	if err != nil {
		s.logger.WarnContext(ctx, "read-back after a successful write failed", "unit", unit, "trunk", index, "err", err)
		httplog.SetAttrs(ctx, slog.String("read_back_error", err.Error()))
		return api.AnalogTrunk{TrunkIndex: &index}
	}
	return t
}

// ListDigitalTrunks pages through listDigitalTrunk (list key "digital_trunks", trunk_index a
// string there: the codec reads both).
func (s *Server) ListDigitalTrunks(ctx context.Context, req api.ListDigitalTrunksRequestObject) (api.ListDigitalTrunksResponseObject, error) {
	sort := "trunk_index"
	if req.Params.Sort != nil {
		sort = string(*req.Params.Sort)
	}
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listDigitalTrunk", key: "digital_trunks", schema: "DigitalTrunkSummary",
		path: "/v1/units/" + req.Unit + "/trunks/digital", size: req.Params.PageSize, sort: sort, token: req.Params.PageToken,
	})
	if err != nil {
		return nil, err
	}
	out := api.ListDigitalTrunks200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}
