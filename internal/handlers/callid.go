package handlers

import (
	"encoding/base64"
	"net/http"
	"regexp"

	"github.com/ucm-gateway/ucm-gateway/internal/calls"
)

// callID is calls.ID: see there why an id is the channel name in base64url.
func callID(channel string) string { return calls.ID(channel) }

// channelName is the plausible shape of a UCM channel name: technology "/" resource, printable,
// no spaces. Anything else cannot be a channel the unit issued.
var channelName = regexp.MustCompile(`^[A-Za-z0-9_]+/[\x21-\x7E]{1,160}$`)

// channelFromID decodes a call id, refusing (without asking the unit) an id that cannot name a
// channel.
func channelFromID(id string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || !channelName.Match(raw) {
		return "", &InputError{Detail: "invalid call id", Errors: []FieldError{{Location: "path.call", Message: "not a call id this gateway issued"}}}
	}
	return string(raw), nil
}

// errCallNotFound is a call id that names no live channel: the call has ended (or never was).
func errCallNotFound() error {
	return &InputError{Status: http.StatusNotFound, Slug: "call-not-found", Detail: "no such live call: it has ended (see GET …/cdrs) or never existed"}
}
