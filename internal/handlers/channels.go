package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// ucmTime is how units write times in channel lists and CDRs: wall-clock time without a zone.
// The gateway reads it as UTC (the UCM does not say which zone it uses).
const ucmTime = "2006-01-02 15:04:05"

// channels is one reading of a unit's channel lists. Both are get/list reads, so the pool
// coalesces identical concurrent reads; a read that starts after a dial or a hangup never joins a
// flight that started before it (the pool's write generation), so what follows an action sees it.
//
// The two lists are two requests, and a call can move between them in between. Calls move from
// unbridged (ringing) to bridged (answered), so the unbridged list is read first: a call answered
// between the reads then shows up in both rather than in neither, and the bridged entry wins.
type channels struct {
	bridged   []map[string]any
	unbridged []map[string]any
}

func (s *Server) readChannels(ctx context.Context, unit string) (channels, error) {
	var out channels
	for _, l := range []struct {
		action string
		dst    *[]map[string]any
	}{{"listUnBridgedChannels", &out.unbridged}, {"listBridgedChannels", &out.bridged}} {
		raw, err := s.up.Do(ctx, unit, l.action, nil)
		if err != nil {
			return out, withUnit(unit, err)
		}
		var reply struct {
			Channel []map[string]any `json:"channel"`
		}
		if err := json.Unmarshal(raw, &reply); err != nil {
			return out, withUnit(unit, badReply(l.action, err))
		}
		*l.dst = reply.Channel
	}
	return out, nil
}

// names lists every channel in the reading.
func (c channels) names() map[string]bool {
	out := make(map[string]bool)
	for _, b := range c.bridged {
		out[str(b["channel1"])], out[str(b["channel2"])] = true, true
	}
	for _, u := range c.unbridged {
		out[str(u["channel"])] = true
	}
	return out
}

// calls merges the lists into call resources: a bridged pair is one call, an unbridged channel is
// a call of its own.
func (c channels) calls(unit string) []api.Call {
	out := make([]api.Call, 0, len(c.bridged)+len(c.unbridged))
	inBridge := make(map[string]bool, 2*len(c.bridged))
	for _, b := range c.bridged {
		out = append(out, bridgedCall(unit, b))
		inBridge[str(b["channel1"])], inBridge[str(b["channel2"])] = true, true
	}
	for _, u := range c.unbridged {
		if !inBridge[str(u["channel"])] { // answered between the two reads: the bridge is newer
			out = append(out, unbridgedCall(unit, u))
		}
	}
	return out
}

// find returns the live call one of whose channels is channel.
func (c channels) find(unit, channel string) (api.Call, bool) {
	for _, b := range c.bridged {
		if str(b["channel1"]) == channel || str(b["channel2"]) == channel {
			return bridgedCall(unit, b), true
		}
	}
	for _, u := range c.unbridged {
		if str(u["channel"]) == channel {
			return unbridgedCall(unit, u), true
		}
	}
	return api.Call{}, false
}

func bridgedCall(unit string, b map[string]any) api.Call {
	ch1, ch2 := str(b["channel1"]), str(b["channel2"])
	call := api.Call{
		ID: callID(ch1), Unit: unit, Status: api.CallStatusInProgress,
		From:       nullStr(str(b["callerid1"])),
		To:         &api.CallParty{Number: str(b["callerid2"]), Type: partyType(ch2)},
		CreatedAt:  uniqueIDTime(str(b["uniqueid1"])),
		AnsweredAt: ucmTimeOf(str(b["bridge_time"])),
		Channels: []api.CallChannel{
			{Name: ch1, State: ptr("Up"), CallerNumber: nullStr(str(b["callerid1"])), CallerName: nullStr(str(b["name1"]))},
			{Name: ch2, State: ptr("Up"), CallerNumber: nullStr(str(b["callerid2"])), CallerName: nullStr(str(b["name2"]))},
		},
	}
	return call
}

func unbridgedCall(unit string, u map[string]any) api.Call {
	ch := str(u["channel"])
	state := str(u["state"])
	call := api.Call{
		ID: callID(ch), Unit: unit, Status: statusOfState(state),
		From:       nullStr(str(u["callernum"])),
		CreatedAt:  ucmTimeOf(str(u["alloc_time"])),
		AnsweredAt: nullable.NewNullNullable[time.Time](),
		Channels: []api.CallChannel{{
			Name: ch, State: ptr(state),
			CallerNumber: nullStr(str(u["callernum"])), CallerName: nullStr(str(u["callername"])),
			ConnectedNumber: nullStr(str(u["connectednum"])), ConnectedName: nullStr(str(u["connectedname"])),
		}},
	}
	if n := str(u["connectednum"]); n != "" {
		call.To = &api.CallParty{Number: n}
	}
	return call
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
	ep := endpointOf(channel)
	switch {
	case isDigits(ep):
		return ptr(api.CallPartyTypeExtension)
	case strings.HasPrefix(ep, "trunk"), strings.HasPrefix(channel, "DAHDI/"):
		return ptr(api.CallPartyTypeExternal)
	}
	return nil
}

func isDigits(s string) bool {
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

// str reads a UCM value that may be a string, a number or null.
func str(v any) string {
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

// ucmTimeOf reads a UCM wall-clock time; empty and the zero date are null.
func ucmTimeOf(s string) nullable.Nullable[time.Time] {
	t, err := time.ParseInLocation(ucmTime, strings.TrimSpace(s), time.UTC)
	if err != nil || t.Year() < 1971 {
		return nullable.NewNullNullable[time.Time]()
	}
	return nullable.NewNullableWithValue(t)
}

// uniqueIDTime reads the creation time an Asterisk uniqueid ("1736933412.42") starts with.
func uniqueIDTime(id string) nullable.Nullable[time.Time] {
	secs, _, _ := strings.Cut(id, ".")
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || n < 1e8 {
		return nullable.NewNullNullable[time.Time]()
	}
	return nullable.NewNullableWithValue(time.Unix(n, 0).UTC())
}
