// Package calls turns a unit's channel lists and call records into the REST call and CDR
// resources. The handlers answer GET …/calls with it and the event sources diff it into call
// events, so a call seen on an event stream has exactly the id and shape GET …/calls/{call} gives.
package calls

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// ucmTime is how units write times in channel lists and CDRs: the unit's wall-clock time without
// a zone. The UCM does not say which zone its clock is set to; the operator does (a unit's
// timezone in the configuration), and every function here that reads such a time takes it as a
// *time.Location. Times come back in that zone, so they marshal as RFC 3339 with its offset.
const ucmTime = "2006-01-02 15:04:05"

// Lists are the two channel-list actions, in the order they must be read: calls move from
// unbridged (ringing) to bridged (answered), so reading the unbridged list first shows a call
// answered between the reads in both lists rather than in neither, and the bridged entry wins.
var Lists = [2]string{"listUnBridgedChannels", "listBridgedChannels"}

// Channels is one reading of a unit's channel lists (read in the order of Lists).
type Channels struct {
	Bridged   []map[string]any
	Unbridged []map[string]any
	// Extensions, when a reader has filled it in, are the unit's extension numbers. The lists
	// give a ringing call's destination only as a number; these tell an extension from the rest
	// (see NeedsExtensions). Nil leaves such a destination untyped unless its form says more.
	Extensions map[string]bool
}

// NeedsExtensions reports whether the reading has a ringing call whose destination only the
// unit's extension numbers can type: worth one listAccount read to fill in Extensions.
func (c Channels) NeedsExtensions() bool {
	if c.Extensions != nil {
		return false
	}
	for _, u := range c.Unbridged {
		if n := Str(u["connectednum"]); IsDigits(n) && len(n) <= maxExtensionDigits {
			return true
		}
	}
	return false
}

// maxExtensionDigits is the longest extension number a UCM accepts (2–18 digits).
const maxExtensionDigits = 18

// Parse reads one channel-list reply ({"channel":[…]}).
func Parse(raw json.RawMessage) ([]map[string]any, error) {
	var reply struct {
		Channel []map[string]any `json:"channel"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return nil, err
	}
	return reply.Channel, nil
}

// Set stores the reply of list (one of Lists) in the reading.
func (c *Channels) Set(list string, items []map[string]any) {
	if list == Lists[1] {
		c.Bridged = items
	} else {
		c.Unbridged = items
	}
}

// Names lists every channel in the reading.
func (c Channels) Names() map[string]bool {
	out := make(map[string]bool)
	for _, b := range c.Bridged {
		out[Str(b["channel1"])], out[Str(b["channel2"])] = true, true
	}
	for _, u := range c.Unbridged {
		out[Str(u["channel"])] = true
	}
	return out
}

// Calls merges the lists into call resources: a bridged pair is one call, an unbridged channel is
// a call of its own. loc is the unit's time zone (nil means UTC).
func (c Channels) Calls(unit string, loc *time.Location) []api.Call {
	out := make([]api.Call, 0, len(c.Bridged)+len(c.Unbridged))
	inBridge := make(map[string]bool, 2*len(c.Bridged))
	for _, b := range c.Bridged {
		out = append(out, bridgedCall(unit, b, loc))
		inBridge[Str(b["channel1"])], inBridge[Str(b["channel2"])] = true, true
	}
	for _, u := range c.Unbridged {
		if !inBridge[Str(u["channel"])] { // answered between the two reads: the bridge is newer
			out = append(out, c.unbridgedCall(unit, u, loc))
		}
	}
	return out
}

// Find returns the live call one of whose channels is channel. loc is the unit's time zone (nil
// means UTC).
func (c Channels) Find(unit, channel string, loc *time.Location) (api.Call, bool) {
	for _, b := range c.Bridged {
		if Str(b["channel1"]) == channel || Str(b["channel2"]) == channel {
			return bridgedCall(unit, b, loc), true
		}
	}
	for _, u := range c.Unbridged {
		if Str(u["channel"]) == channel {
			return c.unbridgedCall(unit, u, loc), true
		}
	}
	return api.Call{}, false
}

func bridgedCall(unit string, b map[string]any, loc *time.Location) api.Call {
	ch1, ch2 := Str(b["channel1"]), Str(b["channel2"])
	call := api.Call{
		ID: ID(ch1), Unit: unit, Status: api.CallStatusInProgress,
		From:       nullStr(Str(b["callerid1"])),
		To:         &api.CallParty{Number: Str(b["callerid2"]), Type: partyType(ch2)},
		CreatedAt:  oldest(uniqueIDTime(Str(b["uniqueid1"]), loc), uniqueIDTime(Str(b["uniqueid2"]), loc)),
		AnsweredAt: ucmTimeOf(Str(b["bridge_time"]), loc),
		Channels: []api.CallChannel{
			{Name: ch1, State: ptr("Up"), CallerNumber: nullStr(Str(b["callerid1"])), CallerName: nullStr(Str(b["name1"]))},
			{Name: ch2, State: ptr("Up"), CallerNumber: nullStr(Str(b["callerid2"])), CallerName: nullStr(Str(b["name2"]))},
		},
	}
	return call
}

func (c Channels) unbridgedCall(unit string, u map[string]any, loc *time.Location) api.Call {
	ch := Str(u["channel"])
	state := Str(u["state"])
	call := api.Call{
		ID: ID(ch), Unit: unit, Status: statusOfState(state),
		From:       nullStr(Str(u["callernum"])),
		CreatedAt:  ucmTimeOf(Str(u["alloc_time"]), loc),
		AnsweredAt: nullable.NewNullNullable[time.Time](),
		Channels: []api.CallChannel{{
			Name: ch, State: ptr(state),
			CallerNumber: nullStr(Str(u["callernum"])), CallerName: nullStr(Str(u["callername"])),
			ConnectedNumber: nullStr(Str(u["connectednum"])), ConnectedName: nullStr(Str(u["connectedname"])),
		}},
	}
	if n := Str(u["connectednum"]); n != "" {
		call.To = &api.CallParty{Number: n, Type: c.destinationType(n)}
	}
	return call
}

// destinationType types the number a ringing call is trying to reach, as far as the unit lets
// it be known: an E.164 number ("+…") or one too long for an extension is external, a number the
// unit lists as an extension is one. Anything else (an outside number without "+", an IVR, a
// queue, a ring group: the unit lists no ring groups) is left untyped rather than guessed.
func (c Channels) destinationType(n string) *api.CallPartyType {
	switch {
	case strings.HasPrefix(n, "+") && IsDigits(n[1:]), IsDigits(n) && len(n) > maxExtensionDigits:
		return ptr(api.CallPartyTypeExternal)
	case c.Extensions[n]:
		return ptr(api.CallPartyTypeExtension)
	}
	return nil
}

// statusOfState maps an Asterisk channel state to the call status vocabulary.
func statusOfState(state string) api.CallStatus {
	switch strings.ToLower(state) {
	case "down", "rsrvd", "reserved", "offhook":
		return api.CallStatusQueued
	case "ring", "ringing", "dialing", "dialing offhook", "pre-ring":
		return api.CallStatusRinging
	case "busy":
		return api.CallStatusBusy
	}
	return api.CallStatusInProgress
}

// partyType guesses the kind of a channel's party from its name: an all-digit endpoint is an
// extension, a trunk endpoint an external number; anything else is left unsaid.
func partyType(channel string) *api.CallPartyType {
	ep := EndpointOf(channel)
	switch {
	case IsDigits(ep):
		return ptr(api.CallPartyTypeExtension)
	case strings.HasPrefix(ep, "trunk"), strings.HasPrefix(channel, "DAHDI/"):
		return ptr(api.CallPartyTypeExternal)
	}
	return nil
}

// IsDigits reports whether s is a non-empty run of decimal digits (an extension number).
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Str reads a UCM value that may be a string, a number or null.
func Str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func nullStr(s string) nullable.Nullable[string] {
	if s == "" {
		return nullable.NewNullNullable[string]()
	}
	return nullable.NewNullableWithValue(s)
}

// ucmTimeOf reads a UCM wall-clock time in the unit's zone; empty and the zero date are null.
func ucmTimeOf(s string, loc *time.Location) nullable.Nullable[time.Time] {
	t, err := time.ParseInLocation(ucmTime, strings.TrimSpace(s), zone(loc))
	if err != nil || t.Year() < 1971 {
		return nullable.NewNullNullable[time.Time]()
	}
	return nullable.NewNullableWithValue(t)
}

// uniqueIDTime reads the creation time an Asterisk uniqueid ("1736933412.42") starts with: Unix
// seconds, shown in the unit's zone like every other time of the unit.
func uniqueIDTime(id string, loc *time.Location) nullable.Nullable[time.Time] {
	secs, _, _ := strings.Cut(id, ".")
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || n < 1e8 {
		return nullable.NewNullNullable[time.Time]()
	}
	return nullable.NewNullableWithValue(time.Unix(n, 0).In(zone(loc)))
}

// oldest is the earlier of two times, either of which may be null: a call began when its oldest
// channel was allocated, whichever side of the bridge the unit lists it on (a transferred party
// keeps its channel, and its age, in its new bridge).
func oldest(a, b nullable.Nullable[time.Time]) nullable.Nullable[time.Time] {
	at, aErr := a.Get()
	bt, bErr := b.Get()
	if aErr != nil || (bErr == nil && bt.Before(at)) {
		return b
	}
	return a
}

// zone is loc, or UTC for nil.
func zone(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// ID is a call's id: the UCM name of the call's first channel ("PJSIP/1000-0000002a") in unpadded
// URL-safe base64. Channel names contain "/" (and, for Local channels, "@" and ";"), which do not
// belong in a path segment; base64url carries them losslessly, and because the id is a pure
// function of the channel name, any gateway replica can resolve an id another replica issued
// without shared state.
func ID(channel string) string { return base64.RawURLEncoding.EncodeToString([]byte(channel)) }

// EndpointOf is the resource part of a channel name without its sequence suffix:
// "PJSIP/1000-0000002a" → "1000", "PJSIP/trunk_1-00000002" → "trunk_1".
func EndpointOf(channel string) string {
	_, rest, ok := strings.Cut(channel, "/")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		rest = rest[:i]
	}
	return rest
}

func ptr[T any](v T) *T { return &v }

// TrunkChannel reports whether a channel belongs to a trunk rather than an extension: its
// endpoint is not an extension number ("PJSIP/trunk_1-00000002"), or it is an analog/digital
// line (DAHDI).
func TrunkChannel(name string) bool {
	ep := EndpointOf(name)
	return strings.HasPrefix(name, "DAHDI/") || (ep != "" && !IsDigits(ep))
}

// RingingInbound reports whether a call is an inbound call still ringing: one channel, a trunk's,
// not yet answered. Only such a call can be accepted, refused or deflected (FACTS.md: inbound
// call control).
func RingingInbound(c api.Call) bool {
	return len(c.Channels) == 1 && TrunkChannel(c.Channels[0].Name) &&
		(c.Status == api.CallStatusRinging || c.Status == api.CallStatusQueued)
}
