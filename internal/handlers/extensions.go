package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"

	"github.com/go-chi/httplog/v3"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// ListExtensions pages through listAccount. The UCM pages by number; the client gets an opaque
// token and a Link header instead, so the paging scheme can change without breaking clients.
func (s *Server) ListExtensions(ctx context.Context, req api.ListExtensionsRequestObject) (api.ListExtensionsResponseObject, error) {
	sort := "extension"
	if req.Params.Sort != nil {
		sort = string(*req.Params.Sort)
	}
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listAccount", key: "account", schema: "ExtensionSummary",
		path: "/v1/units/" + req.Unit + "/extensions", size: req.Params.PageSize, sort: sort, token: req.Params.PageToken,
		fix: func(item map[string]any) {
			if item["addr"] == "-" { // the UCM's "not registered"
				item["addr"] = nil
			}
			// The urgent-message count is urgemsg among listAccount's options but urgmsg in
			// its reply (FACTS.md): read either, answer it under one name.
			if n, given := item["urgmsg"]; given {
				if _, both := item["urgemsg"]; !both {
					item["urgemsg"] = n
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	out := api.ListExtensions200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}

// GetExtension reads getSIPAccount and returns it typed, secrets removed. It is the hottest
// read, so its JSON is written straight from the reply (encode.go) rather than through
// api.Extension.
func (s *Server) GetExtension(ctx context.Context, req api.GetExtensionRequestObject) (api.GetExtensionResponseObject, error) {
	raw, err := s.up.Do(ctx, req.Unit, "getSIPAccount", map[string]any{"extension": req.Ext})
	if err != nil {
		return nil, withUnit(req.Unit, err)
	}
	buf := bodyBuffers.Get().(*[]byte)
	b := (*buf)[:0]
	if out, ok := s.codec.appendExtensionReply(b, raw); ok {
		*buf = append(out, '\n')
		return extensionJSON{buf}, nil
	}
	m, err := extensionFromReply(req.Unit, raw)
	if err != nil {
		bodyBuffers.Put(buf)
		return nil, err
	}
	*buf = append(s.codec.appendObject(b, s.codec.schema("Extension"), m), '\n')
	return extensionJSON{buf}, nil
}

// extensionJSON is GET …/extensions/{ext}'s 200, already encoded, in a buffer of bodyBuffers
// that goes back to the pool once written.
type extensionJSON struct{ body *[]byte }

func (j extensionJSON) VisitGetExtensionResponse(w http.ResponseWriter) error {
	err := jsonBody(*j.body).write(w)
	if cap(*j.body) <= maxPooledBody {
		bodyBuffers.Put(j.body)
	}
	return err
}

// bodyBuffers hold response bodies the read path encodes itself: the body is garbage the
// moment it is written, 4 KB a read.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledBody = 64 << 10

// extension reads one extension as the generated type, for the write paths' read-back.
func (s *Server) extension(ctx context.Context, unit, ext string) (api.Extension, error) {
	var out api.Extension
	m, err := s.extensionReply(ctx, unit, ext)
	if err != nil {
		return out, err
	}
	b := s.codec.appendObject(nil, s.codec.schema("Extension"), m)
	if err := json.Unmarshal(b, &out); err != nil {
		return out, err
	}
	return out, nil
}

// extensionReply reads getSIPAccount. It splits an extension into four sibling objects; the
// REST resource is one object with presence settings, voicemail and CTI privileges nested.
func (s *Server) extensionReply(ctx context.Context, unit, ext string) (map[string]any, error) {
	raw, err := s.up.Do(ctx, unit, "getSIPAccount", map[string]any{"extension": ext})
	if err != nil {
		return nil, withUnit(unit, err)
	}
	return extensionFromReply(unit, raw)
}

// extensionFromReply decodes getSIPAccount's response object into the extension's map, the
// siblings nested (transcode.go writes the same without the map).
func extensionFromReply(unit string, raw []byte) (map[string]any, error) {
	var reply struct {
		Extension map[string]any    `json:"extension"`
		Presence  []json.RawMessage `json:"sip_presence_settings"`
		Voicemail map[string]any    `json:"voicemail"`
		CTI       map[string]any    `json:"cti_feature_privilege"`
	}
	// The decoder starts every map it makes at 64 entries; the small objects get maps their
	// size (an alloc profile put 19 KB of every read's 61 KB in those maps).
	reply.Voicemail, reply.CTI = make(map[string]any, 4), make(map[string]any, 8)
	if err := decodeReply(raw, &reply); err != nil || reply.Extension == nil {
		if err == nil {
			err = errNoExtensionObject
		}
		return nil, withUnit(unit, badReply("getSIPAccount", err))
	}
	m := reply.Extension
	if reply.Presence != nil {
		presence := make([]any, len(reply.Presence))
		for i, item := range reply.Presence {
			p := make(map[string]any, 16)
			if err := decodeReply(item, &p); err != nil || p == nil {
				// Not an object (null, or something newer firmware sends): the schema walk
				// leaves out what it cannot describe.
				var v any
				_ = decodeReply(item, &v)
				presence[i] = v
				continue
			}
			presence[i] = p
		}
		m["sip_presence_settings"] = presence
	}
	if reply.Voicemail != nil {
		m["voicemail"] = reply.Voicemail
	}
	if reply.CTI != nil {
		m["cti_feature_privilege"] = reply.CTI
	}
	return m, nil
}

// CreateExtension runs addSIPAccountAndUser, optionally applies, and reads the result back.
func (s *Server) CreateExtension(ctx context.Context, req api.CreateExtensionRequestObject) (api.CreateExtensionResponseObject, error) {
	params, err := s.writeParams("ExtensionCreate", req.Body)
	if err != nil {
		return nil, err
	}
	// The guide's only addSIPAccountAndUser sample carries the forwarding rules as
	// presence_settings, though getSIPAccount and updateSIPAccount call them
	// sip_presence_settings (FACTS.md).
	if rules, given := params["sip_presence_settings"]; given {
		params["presence_settings"] = rules
		delete(params, "sip_presence_settings")
	}
	pending, err := s.write(ctx, req.Unit, "addSIPAccountAndUser", params, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	out := api.CreateExtension201JSONResponse{}
	out.Headers.Location = "/v1/units/" + req.Unit + "/extensions/" + req.Body.Extension
	out.Headers.XPendingApply = pending
	out.Body = s.readBack(ctx, req.Unit, req.Body.Extension)
	out.Body.PendingApply = &pending
	return out, nil
}

// UpdateExtension applies a JSON merge patch through updateSIPAccount, which is itself partial:
// absent fields are not sent, nulls are sent as null (the UCM's "use the default").
func (s *Server) UpdateExtension(ctx context.Context, req api.UpdateExtensionRequestObject) (api.UpdateExtensionResponseObject, error) {
	params, err := s.writeParams("ExtensionPatch", req.Body)
	if err != nil {
		return nil, err
	}
	params["extension"] = req.Ext
	pending, err := s.write(ctx, req.Unit, "updateSIPAccount", params, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	ext := s.readBack(ctx, req.Unit, req.Ext)
	ext.PendingApply = &pending
	return api.UpdateExtension200JSONResponse(ext), nil
}

// DeleteExtension runs deleteUser.
func (s *Server) DeleteExtension(ctx context.Context, req api.DeleteExtensionRequestObject) (api.DeleteExtensionResponseObject, error) {
	pending, err := s.write(ctx, req.Unit, "deleteUser", map[string]any{"user_name": req.Ext}, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	return api.DeleteExtension204Response{Headers: api.DeleteExtension204ResponseHeaders{XPendingApply: pending}}, nil
}

// writeParams converts a validated body to UCM parameters. The REST resource nests voicemail; the
// UCM takes vm_attach and vm_reserve flat.
func (s *Server) writeParams(schema string, body any) (map[string]any, error) {
	params, err := paramsFromBody(s.codec.schema(schema), body)
	if err != nil {
		return nil, err
	}
	if vm, ok := params["voicemail"].(map[string]any); ok {
		for k, v := range vm {
			params[k] = v
		}
		delete(params, "voicemail")
	}
	return params, nil
}

// readBack returns the stored extension after a write. The write has succeeded by then: if the
// read fails, the client still gets its 2xx with what is known, never an error that would make it
// retry a write that happened.
func (s *Server) readBack(ctx context.Context, unit, ext string) api.Extension {
	got, err := s.extension(ctx, unit, ext)
	if err != nil {
		s.logger.WarnContext(ctx, "read-back after a successful write failed", "unit", unit, "extension", ext, "err", err)
		httplog.SetAttrs(ctx, slog.String("read_back_error", err.Error()))
		return api.Extension{Extension: ext}
	}
	return got
}

type constError string

func (e constError) Error() string { return string(e) }

const errNoExtensionObject = constError("no extension object")
