package handlers

import (
	"context"
	"encoding/json"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// GetSystemStatus reads getSystemStatus.
func (s *Server) GetSystemStatus(ctx context.Context, req api.GetSystemStatusRequestObject) (api.GetSystemStatusResponseObject, error) {
	var out api.SystemStatus
	if err := s.read(ctx, req.Unit, "getSystemStatus", nil, "SystemStatus", &out); err != nil {
		return nil, err
	}
	return api.GetSystemStatus200JSONResponse(out), nil
}

// GetSystemVersion reads getSystemGeneralStatus.
func (s *Server) GetSystemVersion(ctx context.Context, req api.GetSystemVersionRequestObject) (api.GetSystemVersionResponseObject, error) {
	var out api.SystemVersion
	if err := s.read(ctx, req.Unit, "getSystemGeneralStatus", nil, "SystemVersion", &out); err != nil {
		return nil, err
	}
	return api.GetSystemVersion200JSONResponse(out), nil
}

// read calls a read action whose whole response object is the resource, and converts it through
// the named schema into dst.
func (s *Server) read(ctx context.Context, unit, action string, params map[string]any, schema string, dst any) error {
	raw, err := s.up.Do(ctx, unit, action, params)
	if err != nil {
		return withUnit(unit, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return withUnit(unit, badReply(action, err))
	}
	return decodeInto(objectFromUCM(s.codec.schema(schema), m), dst)
}
