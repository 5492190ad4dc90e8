package handlers

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
)

// A call id is the UCM name of the call's first channel ("PJSIP/1000-0000002a") in unpadded
// URL-safe base64. Channel names contain "/" (and, for Local channels, "@" and ";"), which do not
// belong in a path segment; base64url carries them losslessly, and because the id is a pure
// function of the channel name, any gateway replica can resolve an id another replica issued
// without shared state.

func callID(channel string) string { return base64.RawURLEncoding.EncodeToString([]byte(channel)) }

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

// endpointOf is the resource part of a channel name without its sequence suffix:
// "PJSIP/1000-0000002a" → "1000", "PJSIP/trunk_1-00000002" → "trunk_1".
func endpointOf(channel string) string {
	_, rest, ok := strings.Cut(channel, "/")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		rest = rest[:i]
	}
	return rest
}

// errCallNotFound is a call id that names no live channel: the call has ended (or never was).
func errCallNotFound() error {
	return &InputError{Status: http.StatusNotFound, Slug: "call-not-found", Detail: "no such live call: it has ended (see GET …/cdrs) or never existed"}
}
