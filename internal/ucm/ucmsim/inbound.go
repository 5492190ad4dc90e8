package ucmsim

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Inbound calls: a call that arrives from a trunk and rings an extension.
// They come from the StartInboundCall knob, or lazily at every multiple of
// Config.InboundCallEvery (no goroutine: settleCalls starts the ones whose
// time has come). The trunk's channel is "PJSIP/trunk_<index>-…", state
// "Ring" until answered, and carries inbound_trunk_name (the trunk's
// trunk_name) in listUnBridgedChannels and ActiveCallStatus.
//
// "Call Control" (the API user's option, Config.CallControl; guide Table 1,
// FACTS.md): an inbound call then waits for acceptCall{channel} (it is
// answered, bridged with the extension), refuseCall{channel} (it ends) or
// transferNumberInbound{channel, callee} (it rings callee instead, and from
// then on is an ordinary ringing call), and is accepted by itself after
// Config.CallControlTimeout (FACTS.md: 10 s). While it waits it rings
// nobody. Without Call Control it rings the extension and is answered after
// CallAnswerDelay, like a dialled call.

// maxMissedInbound bounds how many scheduled inbound calls a lazy settle
// replays after a long quiet spell: each ends one interval after it starts,
// so older ones would only add call records, and an idle demo unit must not
// build thousands of them in one request.
const maxMissedInbound = 16

// SetCallControl turns the API user's "Call Control" option on or off
// (Config.CallControl). Calls already waiting keep waiting.
func (u *UCM) SetCallControl(on bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.cfg.CallControl = on
}

// StartInboundCall makes a call from the external number from arrive on
// the SIP trunk whose trunk_name is trunk, ringing extension to (waiting
// for Call Control first when that is on). It returns the trunk channel,
// the one acceptCall, refuseCall and transferNumberInbound name. It fails,
// starting nothing, for an unknown or out-of-service trunk, a from that is
// not a dialable number, or an extension that does not exist or has no
// phone registered (a real unit would send that call to voicemail, which
// the simulator does not model).
func (u *UCM) StartInboundCall(trunk, from, to string) (channel string, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	u.settleCalls(now)
	index, found := u.sipTrunkByName(trunk)
	switch {
	case !found:
		return "", fmt.Errorf("ucmsim: no SIP trunk named %q", trunk)
	case u.sipTrunks[index]["out_of_service"] == "yes":
		return "", fmt.Errorf("ucmsim: trunk %q is out of service", trunk)
	case !isDialString(from):
		return "", fmt.Errorf("ucmsim: caller %q is not a dialable number", from)
	}
	a, found := u.accounts[to]
	switch {
	case !found:
		return "", fmt.Errorf("ucmsim: no extension %q", to)
	case !reachable(a):
		return "", fmt.Errorf("ucmsim: extension %q has no phone registered", to)
	}
	c := u.newInbound(index, from, to, now)
	u.publish()
	return c.chanA, nil
}

// reachable reports whether a call can ring the extension's phone.
func reachable(a *account) bool { return a.addr != "-" && a.ext["out_of_service"] != "yes" }

// newInbound starts an inbound call on SIP trunk index. Called with u.mu
// held.
func (u *UCM) newInbound(index int, from, to string, at time.Time) *liveCall {
	u.callSeq++
	c := &liveCall{seq: u.callSeq, kind: "inbound", caller: from, callee: to,
		calleeName: nameOf(u.accounts[to]), allocA: at}
	c.chanA, c.uidA = u.newChannel(fmt.Sprintf("trunk_%d", index), at)
	u.meta(c.chanA).inTrunk = u.trunkName(index)
	c.session = c.uidA
	c.legs = []*leg{{uniqueid: c.uidA, channel: c.chanA, src: from, dst: to, actionType: "DIAL", start: at}}
	if u.cfg.CallControl {
		c.awaitControl, c.answerAt = true, at.Add(u.cfg.CallControlTimeout)
	} else {
		c.answerAt = at.Add(u.cfg.CallAnswerDelay)
	}
	u.calls = append(u.calls, c)
	return c
}

// trunkName is the trunk_name of SIP trunk index, "" when there is none.
func (u *UCM) trunkName(index int) string {
	s, _ := paramString(u.sipTrunks[index]["trunk_name"])
	return s
}

func (u *UCM) sipTrunkByName(name string) (int, bool) {
	for _, i := range slices.Sorted(maps.Keys(u.sipTrunks)) {
		if u.trunkName(i) == name {
			return i, true
		}
	}
	return 0, false
}

// nextInbound is when the next scheduled inbound call starts.
func (u *UCM) nextInbound() (time.Time, bool) {
	every := u.cfg.InboundCallEvery
	if every <= 0 {
		return time.Time{}, false
	}
	return u.started.Add(time.Duration(u.inboundDone+1) * every), true
}

// skipMissedInbound drops all but the last maxMissedInbound scheduled
// calls that are due at now.
func (u *UCM) skipMissedInbound(now time.Time) {
	every := u.cfg.InboundCallEvery
	if every <= 0 {
		return
	}
	due := int(now.Sub(u.started) / every)
	if due-u.inboundDone > maxMissedInbound {
		u.inboundDone = due - maxMissedInbound
	}
}

// startScheduledInbound starts the scheduled inbound call due at at: from
// the lowest-numbered SIP trunk in service to the reachable extensions in
// turn, from a rotating +1555 number. Its caller hangs up one interval
// after it started (answered or not), so a demo unit has at most one such
// call at a time. With no trunk or no reachable extension, nothing starts.
func (u *UCM) startScheduledInbound(at time.Time) {
	u.inboundDone++
	n := u.inboundDone
	index, to, found := u.inboundTarget(n)
	if !found {
		return
	}
	c := u.newInbound(index, fmt.Sprintf("+1555010%04d", n%10000), to, at)
	c.hangupAt = at.Add(u.cfg.InboundCallEvery)
}

// inboundTarget picks the trunk and extension of the n-th scheduled call.
func (u *UCM) inboundTarget(n int) (index int, ext string, found bool) {
	index = -1
	for _, i := range slices.Sorted(maps.Keys(u.sipTrunks)) {
		if u.sipTrunks[i]["out_of_service"] != "yes" {
			index = i
			break
		}
	}
	var exts []string
	for _, e := range slices.SortedFunc(maps.Keys(u.accounts), func(a, b string) int { return compareValues(a, b) }) {
		if reachable(u.accounts[e]) {
			exts = append(exts, e)
		}
	}
	if index < 0 || len(exts) == 0 {
		return 0, "", false
	}
	return index, exts[(n-1)%len(exts)], true
}

// callControl serves acceptCall and refuseCall.
//
// Not documented, so chosen strict: without Call Control both answer -47
// (no permission: the option is a privilege of the API user, and -47 is
// the code for a missing privilege); a channel that is not the trunk
// channel of an inbound call waiting for Call Control (answered already,
// a dialled call, the extension's leg) answers -15, as transfer does for a
// call that is not in the state it needs; an unknown channel -16. A
// refused call ends with disposition BUSY: refusing rejects the call
// (the caller hears busy) rather than letting it ring out (NO ANSWER).
func (u *UCM) callControl(action string, p map[string]any) reply {
	now := time.Now()
	u.settleCalls(now)
	if !u.cfg.CallControl {
		return fail(StatusNoPermission)
	}
	ch, _ := paramString(p["channel"])
	if ch == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	_, c := u.findCall(ch)
	if c == nil {
		return fail(StatusNoSuchItem)
	}
	if !c.awaitControl || ch != c.chanA {
		return failMsg(StatusInvalidValue, "Invalid value: channel is not an inbound call waiting for call control")
	}
	if action == "acceptCall" {
		u.answer(c, now)
		return ok(nil)
	}
	c.legs[len(c.legs)-1].disposition = "BUSY"
	u.endCall(c, now)
	u.removeCall(c)
	return ok(nil)
}

// redirectInbound is transferNumberInbound on an inbound call waiting for
// Call Control: the call now rings dest instead, and is answered after
// CallAnswerDelay like any ringing call (Call Control has been exercised).
// The first CDR leg ends unanswered; a TRANSFER leg follows.
func (u *UCM) redirectInbound(c *liveCall, dest string, now time.Time) reply {
	target, exists := u.accounts[dest]
	if !exists {
		return fail(StatusNoSuchItem)
	}
	first := c.legs[len(c.legs)-1]
	first.end, first.disposition = now, "NO ANSWER"
	c.legs = append(c.legs, &leg{uniqueid: c.uidA, channel: c.chanA, src: c.caller, dst: dest,
		callerName: c.callerName, actionType: "TRANSFER", start: now})
	c.callee, c.calleeName, c.awaitControl = dest, nameOf(target), false
	c.answerAt = now.Add(u.cfg.CallAnswerDelay)
	if !reachable(target) {
		c.answerAt, c.failAt, c.failDisposition = time.Time{}, now.Add(u.cfg.CallAnswerDelay), "NO ANSWER"
	}
	return ok(nil)
}
