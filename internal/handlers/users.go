package handlers

import (
	"context"
	"log/slog"

	"github.com/go-chi/httplog/v3"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// Users and extension groups. Neither listUser's list key nor the key getUser answers under is
// documented (FACTS.md): the gateway takes the reply's only list and only object. The portal
// password getUser returns in clear text never leaves: the User schema has no such field.

// ListUsers pages through listUser.
func (s *Server) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listUser", key: "", schema: "User", sort: "user_name",
		path: "/v1/units/" + req.Unit + "/users", size: req.Params.PageSize, token: req.Params.PageToken,
	})
	if err != nil {
		return nil, err
	}
	out := api.ListUsers200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}

// GetUser reads getUser{user_name}.
func (s *Server) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	u, err := s.user(ctx, req.Unit, req.UserName)
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(u), nil
}

func (s *Server) user(ctx context.Context, unit, name string) (api.User, error) {
	var out api.User
	raw, err := s.getObject(ctx, unit, "getUser", map[string]any{"user_name": name}, "user_name", "user", "user_name")
	if err != nil {
		return out, err
	}
	err = decodeInto(objectFromUCM(s.codec.schema("User"), raw), &out)
	return out, err
}

// UpdateUser applies a JSON merge patch through updateUser, then reads the user back.
func (s *Server) UpdateUser(ctx context.Context, req api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	params, err := paramsFromBody(s.codec.schema("UserPatch"), req.Body)
	if err != nil {
		return nil, err
	}
	params["user_name"] = req.UserName
	pending, err := s.write(ctx, req.Unit, "updateUser", params, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	u, err := s.user(ctx, req.Unit, req.UserName)
	if err != nil {
		s.logger.WarnContext(ctx, "read-back after a successful write failed", "unit", req.Unit, "user", req.UserName, "err", err)
		httplog.SetAttrs(ctx, slog.String("read_back_error", err.Error()))
		u = api.User{UserName: req.UserName}
	}
	u.PendingApply = &pending
	return api.UpdateUser200JSONResponse(u), nil
}

// ListExtensionGroups pages through listExtensionGroup.
func (s *Server) ListExtensionGroups(ctx context.Context, req api.ListExtensionGroupsRequestObject) (api.ListExtensionGroupsResponseObject, error) {
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listExtensionGroup", key: "extension_group", schema: "ExtensionGroup", sort: "group_id",
		path: "/v1/units/" + req.Unit + "/extension-groups", size: req.Params.PageSize, token: req.Params.PageToken,
	})
	if err != nil {
		return nil, err
	}
	out := api.ListExtensionGroups200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}

// GetExtensionGroup reads one group from listExtensionGroup: the UCM has no get action for it.
func (s *Server) GetExtensionGroup(ctx context.Context, req api.GetExtensionGroupRequestObject) (api.GetExtensionGroupResponseObject, error) {
	raw, err := s.findInList(ctx, req.Unit, "listExtensionGroup", "extension_group", "group_id", req.Group, "extension group")
	if err != nil {
		return nil, err
	}
	var out api.GetExtensionGroup200JSONResponse
	err = decodeInto(objectFromUCM(s.codec.schema("ExtensionGroup"), raw), &out)
	return out, err
}
