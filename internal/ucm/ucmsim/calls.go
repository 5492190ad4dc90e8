package ucmsim

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// Live calls. The unit's dial actions do what FACTS.md says real units do:
// they return status 0 at once, ring the caller's extension first and, once
// it answers, connect it to the destination; the only way to follow the
// call is to poll listBridgedChannels / listUnBridgedChannels. Time is
// evaluated lazily (settleCalls) so the simulator still starts no goroutine
// and works inside a testing/synctest bubble.

// ucmTime is how the unit formats times in channel lists and CDRs: local
// wall-clock time without a zone (in Config.TimeZone).
const ucmTime = "2006-01-02 15:04:05"

// wallClock writes t as the unit's clock shows it. Called with u.mu held.
func (u *UCM) wallClock(t time.Time) string { return t.In(u.cfg.TimeZone).Format(ucmTime) }

// leg is one CDR leg (main_cdr or sub_cdr_N) being built while a call lives.
type leg struct {
	uniqueid, channel, dstchannel string
	src, dst, callerName          string
	actionType                    string
	start, answer, end            time.Time
	disposition                   string
	record                        string
}

// call is a live call: its first channel (A, the caller's leg, rung
// first) and, once answered, its second (B).
type liveCall struct {
	seq             int
	kind            string // extension, external, ivr, queue, ringgroup, inbound
	caller, callee  string
	callerName      string
	calleeName      string
	chanA, chanB    string
	uidA, uidB      string
	allocA, allocB  time.Time // when each channel was allocated (alloc_time; its uniqueid's time)
	bridged         time.Time // when A and B were bridged (bridge_time); a barger changes nothing
	answerAt        time.Time // zero: never answered by itself
	failAt          time.Time // the call ends by itself then (no answer, silent drop)
	failDisposition string
	hangupAt        time.Time // the caller hangs up by itself then, answered or not (inbound.go)
	awaitControl    bool      // an inbound call waiting for acceptCall/refuseCall (inbound.go)
	answered        bool
	held, muted     bool
	heldOn, mutedOn string // the channel put on hold / muted
	bargers         []barger
	chanRev         map[string]int // channel -> times hold/mute changed it (an event "update")
	legs            []*leg
	session         string
	recordings      []string
}

// barger is a supervisor's ChanSpy channel on a call: ext listens to monitored's channel.
type barger struct {
	ext, monitored, channel, mode string
	ask                           string // "0", "1" (ask the agent first) or "" as barge-exten said
	alloc                         time.Time
}

// chanMeta is what the unit knows of a live channel beyond the call it
// belongs to: what ActiveCallStatus and listUnBridgedChannels report of it.
// It outlives a transfer, which moves a channel to another call.
type chanMeta struct {
	uniqueid, callid string
	alloc            time.Time
	// inTrunk / outTrunk name the trunk (trunk_name) a call came in on
	// or goes out through, on that trunk's channel only.
	inTrunk, outTrunk string
}

// CallState is a snapshot of a live call, for tests.
type CallState struct {
	Caller, Callee string
	ChannelA       string
	ChannelB       string // empty until answered
	Answered       bool
	Held, Muted    bool
	HeldChannel    string   // the channel on hold, when Held
	MutedChannel   string   // the channel muted, when Muted
	Bargers        []string // "1003:w": the supervisor and the mode Callbarge was given
	Barges         []Barge
}

// Barge is one supervisor on a live call, as Callbarge set it up.
type Barge struct {
	Supervisor string // the extension rung to listen (barge-exten without its suffix)
	Monitored  string // the extension whose channel is spied on (exten)
	Mode       string // "", "w", "W" or "B"
	Ask        string // barge-exten's suffix: "0", "1" or ""
}

// SetCallAnswerDelay sets how long a dialled call rings before it is
// answered and bridged (Config.CallAnswerDelay).
func (u *UCM) SetCallAnswerDelay(d time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.cfg.CallAnswerDelay = d
}

// LiveCalls returns the calls in progress, oldest first.
func (u *UCM) LiveCalls() []CallState {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.settleCalls(time.Now())
	out := make([]CallState, 0, len(u.calls))
	for _, c := range u.calls {
		s := CallState{Caller: c.caller, Callee: c.callee, ChannelA: c.chanA, Answered: c.answered,
			Held: c.held, Muted: c.muted, HeldChannel: c.heldOn, MutedChannel: c.mutedOn}
		if c.answered {
			s.ChannelB = c.chanB
		}
		for _, b := range c.bargers {
			s.Bargers = append(s.Bargers, b.ext+":"+b.mode)
			s.Barges = append(s.Barges, Barge{Supervisor: b.ext, Monitored: b.monitored, Mode: b.mode, Ask: b.ask})
		}
		out = append(out, s)
	}
	return out
}

// newChannel names a channel the way real units do: technology, endpoint,
// and a hexadecimal sequence number. The uniqueid is Asterisk's
// "<epoch>.<sequence>"; the callid (FACTS.md lists the field without a
// sample) is a stable 32-hex string derived from it, a guess at a SIP
// Call-ID. Called with u.mu held.
func (u *UCM) newChannel(endpoint string, at time.Time) (name, uniqueid string) {
	u.chanSeq++
	name, uniqueid = fmt.Sprintf("PJSIP/%s-%08x", endpoint, u.chanSeq), fmt.Sprintf("%d.%d", at.Unix(), u.chanSeq)
	sum := md5.Sum([]byte("ucmsim-callid-" + uniqueid))
	u.chans[name] = &chanMeta{uniqueid: uniqueid, callid: hex.EncodeToString(sum[:]), alloc: at}
	return name, uniqueid
}

// meta returns the metadata of a live channel (a zero one for a channel
// the unit did not name, which cannot happen but must not panic).
func (u *UCM) meta(channel string) *chanMeta {
	if m, found := u.chans[channel]; found {
		return m
	}
	return &chanMeta{}
}

// pruneChannels forgets the metadata of channels no call holds any more.
func (u *UCM) pruneChannels() {
	if len(u.chans) == 0 {
		return
	}
	live := make(map[string]bool, 2*len(u.calls))
	for _, c := range u.calls {
		live[c.chanA] = true
		if c.chanB != "" {
			live[c.chanB] = true
		}
		for _, b := range c.bargers {
			live[b.channel] = true
		}
	}
	for name := range u.chans {
		if !live[name] {
			delete(u.chans, name)
		}
	}
}

// dial serves dialExtension, dialOutbound, dialIVR, dialQueue and
// dialRinggroup. Called with u.mu held.
func (u *UCM) dial(action string, p map[string]any) reply {
	now := time.Now()
	u.settleCalls(now)
	callerKey, calleeKey, kind := "caller", "", ""
	switch action {
	case "dialExtension":
		calleeKey, kind = "callee", "extension"
	case "dialOutbound":
		calleeKey, kind = "outbound", "external"
	case "dialIVR":
		calleeKey, kind = "ivrnumber", "ivr"
	case "dialQueue":
		callerKey, calleeKey, kind = "outcaller", "queue", "queue"
	case "dialRinggroup":
		callerKey, calleeKey, kind = "outcaller", "ringgroup", "ringgroup"
	}
	caller, _ := paramString(p[callerKey])
	callee, _ := paramString(p[calleeKey])
	if !isDigits(caller) || !isDialString(callee) {
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	a, found := u.accounts[caller]
	if !found {
		// Not documented; a unit cannot ring an extension it does not have,
		// and -16 is its answer for every other unknown item.
		return fail(StatusNoSuchItem)
	}
	if kind == "extension" {
		if _, exists := u.accounts[callee]; !exists {
			return fail(StatusNoSuchItem)
		}
	}
	u.callSeq++
	c := &liveCall{
		seq: u.callSeq, kind: kind, caller: caller, callee: callee,
		callerName: nameOf(a), allocA: now,
	}
	if b, isExt := u.accounts[callee]; isExt && kind == "extension" {
		c.calleeName = nameOf(b)
	}
	c.chanA, c.uidA = u.newChannel(caller, now)
	c.session = c.uidA
	first := &leg{uniqueid: c.uidA, channel: c.chanA, src: caller, dst: callee, callerName: c.callerName, actionType: "DIAL", start: now}
	c.legs = []*leg{first}

	delay := u.cfg.CallAnswerDelay
	switch {
	case a.addr == "-" || a.ext["out_of_service"] == "yes":
		// The phone is not registered: the unit accepts the dial (status 0,
		// as it does for every dial) but no channel ever comes up.
		first.end, first.disposition = now, "FAILED"
		u.writeCDR(c, now)
		return ok(nil)
	case kind == "external" && a.ext["permission"] == "internal":
		// FACTS.md (seen): the phone rings, and once answered the call is
		// silently dropped because the extension may not call out.
		c.failAt, c.failDisposition = now.Add(delay), "FAILED"
	case kind == "extension" && u.accounts[callee].addr == "-":
		// The callee has nothing registered: it never answers.
		c.failAt, c.failDisposition = now.Add(delay), "NO ANSWER"
	default:
		c.answerAt = now.Add(delay)
	}
	u.calls = append(u.calls, c)
	return ok(nil)
}

func nameOf(a *account) string {
	if s, isStr := a.ext["fullname"].(string); isStr {
		return s
	}
	return ""
}

// settleCalls advances every call to what time has made of it (answered
// and bridged, or ended by itself), one change at a time in time order, and
// publishes each change to the WebSocket subscribers (events.go), so a
// socket sees every step even when nobody looked at the unit for a while.
// Called with u.mu held.
func (u *UCM) settleCalls(now time.Time) {
	u.skipMissedInbound(now)
	for {
		at, step := u.nextStep()
		if step == nil || at.After(now) {
			return
		}
		step(at)
		u.publish()
	}
}

// nextChange is when time next changes something by itself (zero: never
// without a request). The WebSocket handlers sleep until then. Called with
// u.mu held.
func (u *UCM) nextChange() time.Time {
	at, step := u.nextStep()
	if step == nil {
		return time.Time{}
	}
	return at
}

// nextStep finds the earliest change time will make and returns it with
// the function that makes it; step is nil when nothing is due ever.
func (u *UCM) nextStep() (at time.Time, step func(time.Time)) {
	consider := func(t time.Time, f func(time.Time)) {
		if !t.IsZero() && (step == nil || t.Before(at)) {
			at, step = t, f
		}
	}
	if t, due := u.nextInbound(); due {
		consider(t, u.startScheduledInbound)
	}
	for _, c := range u.calls {
		if !c.answered {
			consider(c.answerAt, func(t time.Time) { u.answer(c, t) })
			consider(c.failAt, func(t time.Time) {
				c.legs[len(c.legs)-1].disposition = c.failDisposition
				u.endCall(c, t)
				u.removeCall(c)
			})
		}
		consider(c.hangupAt, func(t time.Time) {
			u.endCall(c, t)
			u.removeCall(c)
		})
	}
	return at, step
}

// removeCall forgets a call that has ended.
func (u *UCM) removeCall(c *liveCall) {
	if i := slices.Index(u.calls, c); i >= 0 {
		u.calls = slices.Delete(u.calls, i, i+1)
	}
}

// answer bridges the call with its destination's channel and starts its
// recording (every answered call is recorded, so there is one to fetch).
func (u *UCM) answer(c *liveCall, at time.Time) {
	endpoint := c.callee
	switch c.kind {
	case "external":
		endpoint = "trunk_1"
	case "queue", "ringgroup":
		endpoint = c.kind + "_" + c.callee
	}
	if c.kind != "ivr" {
		c.chanB, c.uidB = u.newChannel(endpoint, at)
		c.allocB, c.bridged = at, at
	}
	if c.kind == "external" {
		u.meta(c.chanB).outTrunk = u.trunkName(1)
	}
	c.answered, c.awaitControl = true, false
	l := c.legs[len(c.legs)-1]
	l.answer, l.dstchannel = at, c.chanB
	l.record = fmt.Sprintf("auto-%d-%s-%s.wav", at.Unix(), l.src, l.dst)
	u.recordings[l.record] = recordingSeconds
	c.recordings = append(c.recordings, l.record)
}

// endCall finishes every leg of c, writes its CDR and forgets it. The
// caller removes c from u.calls.
func (u *UCM) endCall(c *liveCall, at time.Time) {
	for _, l := range c.legs {
		if !l.end.IsZero() {
			continue
		}
		l.end = at
		if l.disposition == "" {
			if l.answer.IsZero() {
				l.disposition = "NO ANSWER"
			} else {
				l.disposition = "ANSWERED"
			}
		}
	}
	u.writeCDR(c, at)
}

// findCall returns the live call owning channel (either leg or a barger).
// Called with u.mu held, after settleCalls.
func (u *UCM) findCall(channel string) (int, *liveCall) {
	for i, c := range u.calls {
		if c.chanA == channel || (c.answered && c.chanB == channel) {
			return i, c
		}
		for _, b := range c.bargers {
			if b.channel == channel {
				return i, c
			}
		}
	}
	return -1, nil
}
