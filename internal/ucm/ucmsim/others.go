package ucmsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"strings"
)

// Read-only actions beyond extensions and trunks (FACTS.md "Other
// actions"): enough of queues, routes, users, IVRs and extension groups for
// a gateway's pass-through to be exercised. The item fields are the names
// peers read from real units; the list keys are FACTS.md's, except
// listUser's, which FACTS.md does not give ("user" is a guess).

func (u *UCM) listQueue(p map[string]any) reply {
	rows := make([]map[string]any, 0, len(u.queues))
	for _, q := range u.queues {
		rows = append(rows, map[string]any{
			"extension": q["extension"], "queue_name": q["queue_name"], "strategy": q["strategy"],
			"members": q["members"],
		})
	}
	return pageList(p, "queue", "extension", rows, nil, nil)
}

func (u *UCM) getQueue(p map[string]any) reply {
	ext, _ := paramString(p["queue"])
	if ext == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters! queue is required")
	}
	for _, q := range u.queues {
		if q["extension"] == ext {
			return ok(map[string]any{"queue": cloneMap(q)})
		}
	}
	return failMsg(StatusNoSuchItem, "No such item: queue "+ext)
}

func (u *UCM) listInboundRoute(p map[string]any) reply {
	return pageList(p, "inbound_route", "inbound_rt_index", cloneRows(u.inboundRoutes), nil, nil)
}

func (u *UCM) listOutboundRoute(p map[string]any) reply {
	return pageList(p, "outbound_route", "outbound_rt_index", cloneRows(u.outboundRoutes), nil, nil)
}

func (u *UCM) listIVR(p map[string]any) reply {
	return pageList(p, "ivr", "extension", cloneRows(u.ivrs), nil, nil)
}

func (u *UCM) listExtensionGroup(p map[string]any) reply {
	return pageList(p, "extension_group", "group_id", cloneRows(u.extensionGroups), nil, nil)
}

// userRow is the user behind an extension (addSIPAccountAndUser creates
// both): user_name is the extension number.
func (a *account) userRow() map[string]any {
	row := map[string]any{
		"user_name": a.ext["extension"], "first_name": "", "last_name": "", "email": "",
		"fullname": a.ext["fullname"], "privilege": 3, "department": "", "phone_number": "",
	}
	if full, isStr := a.ext["fullname"].(string); isStr {
		first, last, _ := strings.Cut(full, " ")
		row["first_name"], row["last_name"] = first, last
	}
	// The portal password comes back in clear text, as getSIPAccount returns the SIP and
	// voicemail passwords (FACTS.md); not documented for getUser, but the plausible behaviour.
	for _, k := range []string{"first_name", "last_name", "email", "user_password"} {
		if v, set := a.user[k]; set {
			row[k] = v
		}
	}
	return row
}

func (u *UCM) listUser(p map[string]any) reply {
	rows := make([]map[string]any, 0, len(u.accounts))
	for _, a := range u.accounts {
		rows = append(rows, a.userRow())
	}
	return pageList(p, "user", "user_name", rows, nil, nil)
}

func (u *UCM) getUser(p map[string]any) reply {
	name, _ := paramString(p["user_name"])
	if name == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters! user_name is required")
	}
	a, found := u.accounts[name]
	if !found {
		return failMsg(StatusNoSuchItem, "No such item: user_name "+name)
	}
	return ok(map[string]any{"user_name": a.userRow()})
}

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
