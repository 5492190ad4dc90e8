package ucmsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
)

// Wave actions of an extension: its provisioning QR code and its chat
// history.

// getSIPAccountQR returns the Wave provisioning QR code of an extension as
// base64 PNG in qr_base. The simulator has no QR encoder: the image is a
// valid 21x21-module PNG derived from the extension, not a scannable code.
func (u *UCM) getSIPAccountQR(p map[string]any) reply {
	ext, _ := paramString(p["extension"])
	if ext == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters! extension is required")
	}
	if _, found := u.accounts[ext]; !found {
		return failMsg(StatusNoSuchItem, "No such item: extension "+ext)
	}
	return ok(map[string]any{"qr_base": base64.StdEncoding.EncodeToString(qrImage(ext))})
}

func qrImage(seed string) []byte {
	const modules, scale = 21, 4
	sum := sha256.Sum256([]byte(seed))
	img := image.NewPaletted(image.Rect(0, 0, modules*scale, modules*scale), color.Palette{color.White, color.Black})
	for y := range modules {
		for x := range modules {
			bit := sum[(y*modules+x)/8%len(sum)] >> ((y*modules + x) % 8) & 1
			for dy := range scale {
				for dx := range scale {
					img.SetColorIndex(x*scale+dx, y*scale+dy, bit)
				}
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// cleanTerminalChatInformation clears an extension's Wave chat history;
// nothing is staged (need_apply "no", as in the guide's sample).
func (u *UCM) cleanTerminalChatInformation(p map[string]any) reply {
	ext, _ := paramString(p["extension"])
	if ext == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters! extension is required")
	}
	if _, found := u.accounts[ext]; !found {
		return failMsg(StatusNoSuchItem, "No such item: extension "+ext)
	}
	return ok(map[string]any{"need_apply": "no"})
}

func cloneRows(rows []map[string]any) []map[string]any {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = cloneMap(r)
	}
	return out
}
