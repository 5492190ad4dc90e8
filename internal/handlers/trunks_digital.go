package handlers

import (
	"context"
	"strconv"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// GetDigitalTrunk reads one digital trunk from listDigitalTrunk: getDigitalTrunk's parameters
// and reply are not published.
func (s *Server) GetDigitalTrunk(ctx context.Context, req api.GetDigitalTrunkRequestObject) (api.GetDigitalTrunkResponseObject, error) {
	raw, err := s.findInList(ctx, req.Unit, "listDigitalTrunk", "digital_trunks", "trunk_index", strconv.Itoa(req.Trunk), "digital trunk")
	if err != nil {
		return nil, err
	}
	var out api.GetDigitalTrunk200JSONResponse
	err = decodeInto(objectFromUCM(s.codec.schema("DigitalTrunkSummary"), raw), &out)
	return out, err
}
