package handlers

import (
	"context"
	"mime"
	"strings"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// recordingDir is recapi's filedir for call recordings (auto-record and one-touch recording).
const recordingDir = "monitor"

// GetRecording streams a recording from recapi straight to the client: the body is never held in
// memory, and the unit's slot is given back when the copy ends (the generated response closes
// the body). A JSON error from the unit arrives as a typed error, and becomes problem+json.
func (s *Server) GetRecording(ctx context.Context, req api.GetRecordingRequestObject) (api.GetRecordingResponseObject, error) {
	if strings.Contains(req.File, "..") {
		return nil, withUnit(req.Unit, &InputError{Detail: "invalid path.file", Errors: []FieldError{{Location: "path.file", Message: "a file name, not a path: no \"..\""}}})
	}
	resp, err := s.up.Open(ctx, req.Unit, "recapi", map[string]any{"filedir": recordingDir, "filename": req.File})
	if err != nil {
		return nil, withUnit(req.Unit, err)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "audio/") && mt != "application/octet-stream" {
		resp.Body.Close()
		return nil, withUnit(req.Unit, &ucm.NotJSONError{Action: "recapi", HTTPStatus: resp.StatusCode, ContentType: "not audio: " + mt})
	}
	out := api.GetRecording200AudioWavResponse{Body: resp.Body}
	if resp.ContentLength > 0 {
		out.ContentLength = resp.ContentLength
	}
	return out, nil
}
