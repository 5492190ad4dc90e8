package ucmsim

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
)

// Live events for the WebSocket (FACTS.md, "Live events"). The unit's state
// is summed up in an eventState: the live channels, every extension's
// status and every queue's waiting count. After each change (every API
// request, every step settleCalls makes, every knob) publish diffs the new
// state against the last one and queues the differences, as one frame, on
// every socket that subscribed to them. Diffing each change on the spot
// (rather than when a socket gets round to it) is what makes a dial
// followed at once by a hang-up still show its add and its delete.
//
// What FACTS.md does not say, and the simulator chose:
//   - nothing is sent on subscribe: FACTS.md says a client resynchronises
//     from the channel lists, so the socket reports only what changes after;
//   - extensions that appear or disappear (add/delete of an account) send no
//     ExtensionStatus; only a status change of an existing extension does;
//   - hold, unhold, mute and Unmute change no reported field; they send an
//     ActiveCallStatus "update" of the channel with its fields unchanged;
//   - CallQueueStatus has no documented body. The simulator sends one item
//     per queue whose count changed, {"extension":"6500","waiting":1}: the
//     number of answered dialQueue calls sitting in that queue (the simulator
//     connects no agents). That body is a guess;
//   - PbxStatus, TrunkStatus, PresenceStatus, VoiceMailStatus,
//     ResourceUsageStatus, InterfaceStatus and EquipmentCapacityStatus can be
//     subscribed to but are never sent: nothing they would report changes in
//     the simulator;
//   - in one frame the notify items come in the order ActiveCallStatus,
//     ExtensionStatus, CallQueueStatus; within ActiveCallStatus, adds and
//     updates in channel order (channelRows), then deletes.

// Event names a subscribe may ask for (FACTS.md). Exported so tests and the
// gateway's tests can name them.
const (
	EventActiveCallStatus        = "ActiveCallStatus"
	EventExtensionStatus         = "ExtensionStatus"
	EventPbxStatus               = "PbxStatus"
	EventTrunkStatus             = "TrunkStatus"
	EventCallQueueStatus         = "CallQueueStatus"
	EventPresenceStatus          = "PresenceStatus"
	EventVoiceMailStatus         = "VoiceMailStatus"
	EventResourceUsageStatus     = "ResourceUsageStatus"
	EventInterfaceStatus         = "InterfaceStatus"
	EventEquipmentCapacityStatus = "EquipmentCapacityStatus"
)

// knownEvent reports whether name is one of FACTS.md's event names; the
// match is exact (case-sensitive), the strict reading.
func knownEvent(name string) bool {
	switch name {
	case EventActiveCallStatus, EventExtensionStatus, EventPbxStatus, EventTrunkStatus,
		EventCallQueueStatus, EventPresenceStatus, EventVoiceMailStatus, EventResourceUsageStatus,
		EventInterfaceStatus, EventEquipmentCapacityStatus:
		return true
	}
	return false
}

// eventState is what the events report, at one moment.
type eventState struct {
	chans  []chanRow
	exts   map[string]string
	queues []queueCount
}

type queueCount struct {
	extension string
	waiting   int
}

// currentState sums up the unit now. Called with u.mu held.
func (u *UCM) currentState() *eventState {
	s := &eventState{chans: u.channelRows(), exts: u.extStatuses()}
	for _, ext := range slices.Sorted(maps.Keys(u.cc.queues)) {
		n := 0
		for _, c := range u.calls {
			// A dialQueue call the queue answered, or a caller an inbound route put there
			// (queuewait.go): both wait for an agent.
			if c.callee == ext && (c.kind == "queue" && c.answered || c.kind == "queued") {
				n++
			}
		}
		s.queues = append(s.queues, queueCount{ext, n})
	}
	return s
}

// activeCallItem is an ActiveCallStatus eventbody item: every field FACTS.md
// lists, as strings.
func activeCallItem(r chanRow, action string) map[string]any {
	return map[string]any{
		"channel": r.channel, "chantype": r.chantype(), "action": action,
		"uniqueid": r.uniqueid, "linkedid": r.linkedid, "state": r.state, "service": r.service,
		"callername": r.callerName, "callernum": r.callerNum,
		"connectedname": r.connName, "connectednum": r.connNum, "callid": r.callid,
		"alloc_time":         r.alloc.UTC().Format(ucmTime),
		"inbound_trunk_name": r.inTrunk, "outbound_trunk_name": r.outTrunk,
	}
}

// diffEvents returns, per event name, the eventbody items that take a
// client from prev to cur; names with nothing to say are absent.
func diffEvents(prev, cur *eventState) map[string][]any {
	out := map[string][]any{}
	was := make(map[string]chanRow, len(prev.chans))
	for _, r := range prev.chans {
		was[r.channel] = r
	}
	var calls []any
	for _, r := range cur.chans {
		old, existed := was[r.channel]
		switch {
		case !existed:
			calls = append(calls, activeCallItem(r, "add"))
		case old != r:
			calls = append(calls, activeCallItem(r, "update"))
		}
		delete(was, r.channel)
	}
	for _, r := range prev.chans {
		if _, gone := was[r.channel]; gone {
			// FACTS.md: a delete carries only these three fields.
			calls = append(calls, map[string]any{"channel": r.channel, "chantype": r.chantype(), "action": "delete"})
		}
	}
	if len(calls) > 0 {
		out[EventActiveCallStatus] = calls
	}

	var exts []any
	for _, ext := range slices.SortedFunc(maps.Keys(cur.exts), func(a, b string) int { return compareValues(a, b) }) {
		if old, existed := prev.exts[ext]; existed && old != cur.exts[ext] {
			exts = append(exts, map[string]any{"extension": ext, "status": cur.exts[ext]})
		}
	}
	if len(exts) > 0 {
		out[EventExtensionStatus] = exts
	}

	waiting := make(map[string]int, len(prev.queues))
	for _, q := range prev.queues {
		waiting[q.extension] = q.waiting
	}
	var queues []any
	for _, q := range cur.queues {
		if old, existed := waiting[q.extension]; existed && old != q.waiting {
			queues = append(queues, map[string]any{"extension": q.extension, "waiting": q.waiting})
		}
	}
	if len(queues) > 0 {
		out[EventCallQueueStatus] = queues
	}
	return out
}

// notifyFrame encodes the frame a socket subscribed to subs receives for
// bodies, or nil when none of it concerns the socket.
func notifyFrame(bodies map[string][]any, subs map[string]bool) []byte {
	type notify struct {
		Action    string `json:"action"`
		EventName string `json:"eventname"`
		EventBody []any  `json:"eventbody"`
	}
	var items []notify
	for _, name := range [...]string{EventActiveCallStatus, EventExtensionStatus, EventCallQueueStatus} {
		if body, has := bodies[name]; has && subs[name] {
			items = append(items, notify{"notify", name, body})
		}
	}
	if len(items) == 0 {
		return nil
	}
	return encodeFrame("request", items)
}

// encodeFrame encodes {"type":…,"message":…} in FACTS.md's key order,
// without HTML escaping and without a trailing newline.
func encodeFrame(typ string, message any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Type    string `json:"type"`
		Message any    `json:"message"`
	}{typ, message})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// publish sends what changed since the last publish to the sockets. It
// runs after every change; with no socket open it only forgets the last
// state, so a unit nobody listens to does no diffing. Called with u.mu held.
func (u *UCM) publish() {
	u.pruneChannels()
	if len(u.sockets) == 0 {
		u.lastState = nil
		return
	}
	// Every change may move nextChange (a dial schedules its answer), so
	// every socket wakes to re-arm its timer, events for it or not.
	for s := range u.sockets {
		s.poke()
	}
	cur := u.currentState()
	prev := u.lastState
	u.lastState = cur
	if prev == nil {
		return
	}
	bodies := diffEvents(prev, cur)
	if len(bodies) == 0 {
		return
	}
	for s := range u.sockets {
		if s.user == "" {
			continue
		}
		if frame := notifyFrame(bodies, s.subs); frame != nil {
			s.queue(frame)
		}
	}
}
