package events

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
)

// tracker turns successive readings of a unit's state into events. Both sources feed it: the
// poller with every reading, the WebSocket source with the reading each notification triggers
// and with the extension states the socket reports. Its state survives a reconnect, so the
// reading after one reports what changed while the socket was down: a call that started is
// reported, one that ended is ended.
type tracker struct {
	calls   map[string]*tracked // by call id
	exts    map[string]api.ExtensionState
	queues  map[string]int
	trunks  map[string]string // channel -> inbound/outbound trunk name, remembered from the unbridged list
	seen    bool              // a first reading was taken: before it, nothing is a change
	extSeen bool
	now     func() time.Time
	loc     *time.Location // the unit's clock, for the naive times of the channel lists
}

type tracked struct {
	call     api.Call
	answered bool
	answerAt time.Time // when the gateway saw it answered, if the unit does not say
	trunk    string
	// rerouted: transferred and ringing its new destination; it is answered when it is bridged
	// again (its lone channel is "Up" meanwhile, talking to the dial application).
	rerouted bool
}

// change is one event the tracker found.
type change struct {
	typ  string
	data any
}

func newTracker(now func() time.Time, loc *time.Location) *tracker {
	return &tracker{calls: map[string]*tracked{}, exts: map[string]api.ExtensionState{}, queues: map[string]int{},
		trunks: map[string]string{}, now: now, loc: loc}
}

// observeCalls diffs one reading of the channel lists against the last. The first reading only
// sets the baseline: events are changes.
func (t *tracker) observeCalls(unit string, ch calls.Channels) []change {
	for _, u := range ch.Unbridged {
		name := calls.Str(u["channel"])
		for _, k := range []string{"inbound_trunk_name", "outbound_trunk_name"} {
			if v := calls.Str(u[k]); v != "" {
				t.trunks[name] = v
			}
		}
	}
	if ch.Extensions == nil && t.extSeen {
		// The extensions last read type a ringing call's destination, as GET …/calls does.
		ch.Extensions = make(map[string]bool, len(t.exts))
		for ext := range t.exts {
			ch.Extensions[ext] = true
		}
	}
	now := ch.Calls(unit, t.loc)
	byChannel := make(map[string]string, len(t.calls)*2) // channel -> previous call id
	for id, p := range t.calls {
		for _, c := range p.call.Channels {
			byChannel[c.Name] = id
		}
	}
	var out []change
	matched := make(map[string]bool, len(now))
	next := make(map[string]*tracked, len(now))
	for _, c := range now {
		prevID := c.ID
		p, ok := t.calls[c.ID]
		if !ok || matched[c.ID] {
			p, prevID = nil, ""
			for _, chn := range c.Channels {
				if id, hit := byChannel[chn.Name]; hit && !matched[id] {
					p, prevID = t.calls[id], id
					break
				}
			}
		}
		cur := &tracked{call: c, trunk: t.trunkOf(c)}
		if p != nil {
			matched[prevID] = true
			cur.answered, cur.answerAt, cur.rerouted = p.answered, p.answerAt, p.rerouted
			if cur.trunk == "" {
				cur.trunk = p.trunk
			}
			if cur.call.CreatedAt.IsNull() || !cur.call.CreatedAt.IsSpecified() {
				cur.call.CreatedAt = p.call.CreatedAt
			}
		}
		next[c.ID] = cur
		if !t.seen {
			cur.answered = c.Status == api.CallStatusInProgress
			continue
		}
		if p == nil {
			// A call first seen answered (it rang between two readings, or while the socket was
			// down) still gets its ringing event: a client sees every call's whole life.
			out = append(out, change{TypeCallRinging, callData(cur)})
		} else if transferred(p.call, c) {
			d := callData(cur)
			if prevID != c.ID {
				d.PreviousID = &prevID
			}
			out = append(out, change{TypeCallTransferred, d})
			if len(c.Channels) < 2 {
				// It rings its new destination now: that answering is an answer of its own.
				cur.answered, cur.answerAt, cur.rerouted = false, time.Time{}, true
			}
		}
		if cur.rerouted && len(c.Channels) >= 2 {
			cur.rerouted = false
		}
		if !cur.answered && !cur.rerouted && c.Status == api.CallStatusInProgress {
			cur.answered, cur.answerAt = true, t.now()
			out = append(out, change{TypeCallAnswered, callData(cur)})
		}
	}
	if t.seen {
		// Ended calls go first: a reading after a gap reports what is over before what is new.
		var ended []change
		for _, id := range slices.Sorted(maps.Keys(t.calls)) {
			if !matched[id] {
				ended = append(ended, change{TypeCallEnded, t.ended(t.calls[id])})
			}
		}
		out = append(ended, out...)
	}
	live := byChannelOf(next)
	for name := range t.trunks {
		if !live[name] {
			delete(t.trunks, name)
		}
	}
	t.calls, t.seen = next, true
	return out
}

func byChannelOf(m map[string]*tracked) map[string]bool {
	out := make(map[string]bool, len(m)*2)
	for _, p := range m {
		for _, c := range p.call.Channels {
			out[c.Name] = true
		}
	}
	return out
}

// transferred reports whether the call's other party changed: a channel of the call went away and
// another took its place, or it now reaches another number. Answering (a second channel joins
// the first) is not a transfer.
func transferred(before, after api.Call) bool {
	if before.To != nil && after.To != nil && before.To.Number != "" && after.To.Number != "" && before.To.Number != after.To.Number {
		return true
	}
	was := make(map[string]bool, len(before.Channels))
	for _, c := range before.Channels {
		was[c.Name] = true
	}
	gone := len(was)
	added := false
	for _, c := range after.Channels {
		if was[c.Name] {
			gone--
		} else {
			added = true
		}
	}
	return gone > 0 && added
}

func (t *tracker) trunkOf(c api.Call) string {
	for _, ch := range c.Channels {
		if v := t.trunks[ch.Name]; v != "" {
			return v
		}
	}
	return ""
}

// ended is the call.ended data: the call as last seen, with its final status and durations.
func (t *tracker) ended(p *tracked) api.CallEventData {
	end := t.now().UTC()
	c := p.call
	if p.answered {
		c.Status = api.CallStatusCompleted
	} else {
		c.Status = api.CallStatusNoAnswer
	}
	d := callData(&tracked{call: c, trunk: p.trunk})
	if created, err := c.CreatedAt.Get(); err == nil && !end.Before(created) {
		d.Duration = ptr(int(end.Sub(created).Seconds()))
	}
	if p.answered {
		answer := p.answerAt
		if a, err := c.AnsweredAt.Get(); err == nil {
			answer = a
		}
		if !answer.IsZero() && !end.Before(answer) {
			d.TalkTime = ptr(int(end.Sub(answer).Seconds()))
		}
	}
	return d
}

// callData is the data of a call event: the call as REST shows it, its direction and trunk.
func callData(p *tracked) api.CallEventData {
	d := api.CallEventData{Call: p.call, Direction: direction(p), Trunk: nullable.NewNullNullable[string]()}
	if p.trunk != "" {
		d.Trunk = nullable.NewNullableWithValue(p.trunk)
	}
	return d
}

// direction: inbound when the call's first channel is a trunk's (it arrived from outside),
// outbound when it reaches an external number, internal otherwise.
func direction(p *tracked) api.CallEventDataDirection {
	c := p.call
	if len(c.Channels) > 0 && calls.TrunkChannel(c.Channels[0].Name) {
		return api.CallEventDataDirectionInbound
	}
	if c.To != nil && c.To.Type != nil && *c.To.Type == api.CallPartyTypeExternal {
		return api.CallEventDataDirectionOutbound
	}
	for _, ch := range c.Channels[min(1, len(c.Channels)):] {
		if calls.TrunkChannel(ch.Name) {
			return api.CallEventDataDirectionOutbound
		}
	}
	return api.CallEventDataDirectionInternal
}

// observeExtensions diffs the states of the extensions named in states. With full set, states
// holds every extension (a listAccount reading), and one missing from it is forgotten; otherwise
// it is a notification about some of them.
func (t *tracker) observeExtensions(states map[string]api.ExtensionState, full bool) []change {
	var out []change
	for _, ext := range slices.Sorted(maps.Keys(states)) {
		st := states[ext]
		prev, known := t.exts[ext]
		t.exts[ext] = st
		if !t.extSeen && full {
			continue
		}
		if known && prev == st {
			continue
		}
		d := api.ExtensionStatusEventData{Extension: ext, Status: st}
		if known {
			d.Previous = &prev
		}
		out = append(out, change{TypeExtensionStatus, d})
	}
	if full {
		for ext := range t.exts {
			if _, ok := states[ext]; !ok {
				delete(t.exts, ext)
			}
		}
		t.extSeen = true
	}
	return out
}

// observeQueues diffs callers waiting per queue; every queue of the unit is in waiting.
func (t *tracker) observeQueues(waiting map[string]int, first bool) []change {
	var out []change
	for _, q := range slices.Sorted(maps.Keys(waiting)) {
		n := waiting[q]
		prev, known := t.queues[q]
		t.queues[q] = n
		if first || (known && prev == n) || (!known && n == 0) {
			continue
		}
		d := api.QueueWaitingEventData{Queue: q, Waiting: n}
		if known {
			d.Previous = &prev
		} else {
			d.Previous = ptr(0)
		}
		out = append(out, change{TypeQueueWaiting, d})
	}
	return out
}

// extensionState reads the UCM's spelling of an extension state (listAccount's status,
// ExtensionStatus events: Idle, Ringing, InUse, Busy, Unavailable), in any case.
func extensionState(s string) (api.ExtensionState, bool) {
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", "")) {
	case "idle":
		return api.ExtensionStateIdle, true
	case "ringing", "ring":
		return api.ExtensionStateRinging, true
	case "inuse", "in-use":
		return api.ExtensionStateInUse, true
	case "busy":
		return api.ExtensionStateBusy, true
	case "unavailable":
		return api.ExtensionStateUnavailable, true
	}
	return "", false
}

func ptr[T any](v T) *T { return &v }
