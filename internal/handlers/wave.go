package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// pngMagic starts every PNG file.
const pngMagic = "\x89PNG\r\n\x1a\n"

// GetExtensionQr serves the Wave QR code that getSIPAccountQR returns base64-encoded in
// qr_base as the image itself, so a browser can show it with an <img> tag.
func (s *Server) GetExtensionQr(ctx context.Context, req api.GetExtensionQrRequestObject) (api.GetExtensionQrResponseObject, error) {
	raw, err := s.up.Do(ctx, req.Unit, "getSIPAccountQR", map[string]any{"extension": req.Ext})
	if err != nil {
		return nil, withUnit(req.Unit, err)
	}
	var reply struct {
		QR string `json:"qr_base"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return nil, withUnit(req.Unit, badReply("getSIPAccountQR", err))
	}
	// Tolerate a data-URL prefix and line breaks, which base64 tools add.
	b64 := reply.QR
	if _, after, found := strings.Cut(b64, "base64,"); found {
		b64 = after
	}
	b64 = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, b64)
	img, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		img, err = base64.RawStdEncoding.DecodeString(b64)
	}
	if err == nil && !bytes.HasPrefix(img, []byte(pngMagic)) {
		err = constError("qr_base is not a PNG image")
	}
	if err != nil {
		return nil, withUnit(req.Unit, badReply("getSIPAccountQR", err))
	}
	return api.GetExtensionQr200ImagePngResponse{Body: bytes.NewReader(img), ContentLength: int64(len(img))}, nil
}

// ClearWaveChat runs cleanTerminalChatInformation, which takes effect at once.
func (s *Server) ClearWaveChat(ctx context.Context, req api.ClearWaveChatRequestObject) (api.ClearWaveChatResponseObject, error) {
	if _, err := s.up.Do(ctx, req.Unit, "cleanTerminalChatInformation", map[string]any{"extension": req.Ext}); err != nil {
		return nil, withUnit(req.Unit, err)
	}
	return api.ClearWaveChat204Response{}, nil
}
