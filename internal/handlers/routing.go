package handlers

import (
	"context"
	"strconv"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// Routes, IVRs and paging groups: typed reads. Their writes have no published parameters and
// stay on the /actions/ pass-through. getIVR's and getPaginggroup's parameters are not
// published either: one IVR or paging group is read from its list.

// ListInboundRoutes pages through listInboundRoute.
func (s *Server) ListInboundRoutes(ctx context.Context, req api.ListInboundRoutesRequestObject) (api.ListInboundRoutesResponseObject, error) {
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listInboundRoute", key: "inbound_route", schema: "InboundRoute", sort: "inbound_rt_index",
		path: "/v1/units/" + req.Unit + "/routes/inbound", size: req.Params.PageSize, token: req.Params.PageToken,
	})
	if err != nil {
		return nil, err
	}
	out := api.ListInboundRoutes200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}

// GetInboundRoute reads getInboundRoute{inbound_route}.
func (s *Server) GetInboundRoute(ctx context.Context, req api.GetInboundRouteRequestObject) (api.GetInboundRouteResponseObject, error) {
	raw, err := s.getObject(ctx, req.Unit, "getInboundRoute", map[string]any{"inbound_route": strconv.Itoa(req.Route)}, "inbound_rt_index", "inbound_route")
	if err != nil {
		return nil, err
	}
	var out api.GetInboundRoute200JSONResponse
	err = decodeInto(objectFromUCM(s.codec.schema("InboundRoute"), raw), &out)
	return out, err
}

// ListOutboundRoutes pages through listOutboundRoute.
func (s *Server) ListOutboundRoutes(ctx context.Context, req api.ListOutboundRoutesRequestObject) (api.ListOutboundRoutesResponseObject, error) {
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listOutboundRoute", key: "outbound_route", schema: "OutboundRoute", sort: "outbound_rt_index",
		path: "/v1/units/" + req.Unit + "/routes/outbound", size: req.Params.PageSize, token: req.Params.PageToken,
	})
	if err != nil {
		return nil, err
	}
	out := api.ListOutboundRoutes200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}

// GetOutboundRoute reads getOutboundRoute{outbound_route}.
func (s *Server) GetOutboundRoute(ctx context.Context, req api.GetOutboundRouteRequestObject) (api.GetOutboundRouteResponseObject, error) {
	raw, err := s.getObject(ctx, req.Unit, "getOutboundRoute", map[string]any{"outbound_route": strconv.Itoa(req.Route)}, "outbound_rt_index", "outbound_route")
	if err != nil {
		return nil, err
	}
	var out api.GetOutboundRoute200JSONResponse
	err = decodeInto(objectFromUCM(s.codec.schema("OutboundRoute"), raw), &out)
	return out, err
}

// ListIvrs pages through listIVR.
func (s *Server) ListIvrs(ctx context.Context, req api.ListIvrsRequestObject) (api.ListIvrsResponseObject, error) {
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listIVR", key: "ivr", schema: "Ivr", sort: "extension",
		path: "/v1/units/" + req.Unit + "/ivrs", size: req.Params.PageSize, token: req.Params.PageToken,
	})
	if err != nil {
		return nil, err
	}
	out := api.ListIvrs200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}

// GetIvr reads one IVR from listIVR.
func (s *Server) GetIvr(ctx context.Context, req api.GetIvrRequestObject) (api.GetIvrResponseObject, error) {
	raw, err := s.findInList(ctx, req.Unit, "listIVR", "ivr", "extension", req.Ivr, "IVR")
	if err != nil {
		return nil, err
	}
	var out api.GetIvr200JSONResponse
	err = decodeInto(objectFromUCM(s.codec.schema("Ivr"), raw), &out)
	return out, err
}

// ListPagingGroups pages through listPaginggroup.
func (s *Server) ListPagingGroups(ctx context.Context, req api.ListPagingGroupsRequestObject) (api.ListPagingGroupsResponseObject, error) {
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listPaginggroup", key: "paginggroup", schema: "PagingGroup", sort: "extension",
		path: "/v1/units/" + req.Unit + "/paging-groups", size: req.Params.PageSize, token: req.Params.PageToken,
	})
	if err != nil {
		return nil, err
	}
	out := api.ListPagingGroups200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}

// GetPagingGroup reads one paging group from listPaginggroup.
func (s *Server) GetPagingGroup(ctx context.Context, req api.GetPagingGroupRequestObject) (api.GetPagingGroupResponseObject, error) {
	raw, err := s.findInList(ctx, req.Unit, "listPaginggroup", "paginggroup", "extension", req.Group, "paging group")
	if err != nil {
		return nil, err
	}
	var out api.GetPagingGroup200JSONResponse
	err = decodeInto(objectFromUCM(s.codec.schema("PagingGroup"), raw), &out)
	return out, err
}
