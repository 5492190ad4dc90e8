package ucmsim

import (
	"slices"
	"strings"
	"time"
)

// Call control on live channels: Hangup, hold/unhold, mute/Unmute, the transfers and Callbarge.
// Each first settles the calls, so an action sees what time has made of them.

// hangup ends the call a channel belongs to: in a two-party bridge, one
// leg hanging up ends the other. A barger's channel leaves only itself.
func (u *UCM) hangup(p map[string]any) reply {
	now := time.Now()
	u.settleCalls(now)
	ch, _ := paramString(p["channel"])
	if ch == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	i, c := u.findCall(ch)
	if c == nil {
		// Not documented; Asterisk answers "No such channel", and -16 is the
		// unit's code for an item that does not exist.
		return fail(StatusNoSuchItem)
	}
	for j, b := range c.bargers {
		if b.channel == ch {
			c.bargers = slices.Delete(c.bargers, j, j+1)
			return ok(nil)
		}
	}
	u.endCall(c, now)
	u.calls = slices.Delete(u.calls, i, i+1)
	return ok(nil)
}

// setFlag serves hold, unhold, mute and Unmute on a live channel.
func (u *UCM) setFlag(action string, p map[string]any) reply {
	u.settleCalls(time.Now())
	ch, _ := paramString(p["channel"])
	if ch == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	_, c := u.findCall(ch)
	if c == nil {
		return fail(StatusNoSuchItem)
	}
	// No reported field changes, but the channel did: ActiveCallStatus
	// sends it as an "update" (events.go).
	if c.chanRev == nil {
		c.chanRev = make(map[string]int)
	}
	c.chanRev[ch]++
	switch strings.ToLower(action) {
	case "hold":
		c.held, c.heldOn = true, ch
	case "unhold":
		c.held, c.heldOn = false, ""
	case "mute":
		c.muted, c.mutedOn = true, ch
	case "unmute":
		c.muted, c.mutedOn = false, ""
	}
	return ok(nil)
}

// transfer serves callTransfer, transferNumberInbound and
// transferNumberOutbound: the named channel is sent to the destination and
// the party it was bridged with drops out. The transferred channel rings
// the destination, then is bridged with it.
func (u *UCM) transfer(action string, p map[string]any) reply {
	now := time.Now()
	u.settleCalls(now)
	key, kind := "extension", "extension"
	switch action {
	case "transferNumberInbound":
		key = "callee"
	case "transferNumberOutbound":
		key, kind = "outbound", "external"
	}
	ch, _ := paramString(p["channel"])
	dest, _ := paramString(p[key])
	if ch == "" || !isDialString(dest) {
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	i, c := u.findCall(ch)
	if c == nil {
		return fail(StatusNoSuchItem)
	}
	if action == "transferNumberInbound" && c.awaitControl && ch == c.chanA {
		return u.redirectInbound(c, dest, now)
	}
	if !c.answered {
		// Not documented; only an answered call has a party to transfer.
		return failMsg(StatusInvalidValue, "Invalid value: channel is not bridged")
	}
	var target *account
	if kind == "extension" {
		var exists bool
		if target, exists = u.accounts[dest]; !exists {
			return fail(StatusNoSuchItem)
		}
	}
	// The transferred party keeps its channel; the other leg ends.
	// A channel keeps its allocation time (alloc_time, and its uniqueid) whatever is done to it.
	stays, staysUID, staysNum, staysName, staysAlloc := c.chanB, c.uidB, c.callee, c.calleeName, c.allocB
	if ch == c.chanA || stays == "" { // an IVR call has no second leg: the caller is transferred
		stays, staysUID, staysNum, staysName, staysAlloc = c.chanA, c.uidA, c.caller, c.callerName, c.allocA
	}
	nc := &liveCall{
		seq: c.seq, kind: kind, caller: staysNum, callerName: staysName, callee: dest,
		chanA: stays, uidA: staysUID, allocA: staysAlloc, session: c.session,
		legs: c.legs, recordings: c.recordings, hangupAt: c.hangupAt,
	}
	if target != nil {
		nc.calleeName = nameOf(target)
	}
	for _, l := range c.legs {
		if l.end.IsZero() {
			l.end = now
			if l.disposition == "" {
				l.disposition = "ANSWERED"
			}
		}
	}
	nc.legs = append(nc.legs, &leg{uniqueid: staysUID, channel: stays, src: staysNum, dst: dest, callerName: staysName, actionType: "TRANSFER", start: now})
	if target != nil && target.addr == "-" {
		nc.failAt, nc.failDisposition = now.Add(u.cfg.CallAnswerDelay), "NO ANSWER"
	} else {
		nc.answerAt = now.Add(u.cfg.CallAnswerDelay)
	}
	u.calls[i] = nc
	return ok(nil)
}

// callbarge serves Callbarge with the roles the UCM's own web GUI sends (FACTS.md): channel is
// the monitored call's channel, exten the monitored extension (the one that owns channel),
// barge-exten the supervisor who is rung and listens, as "<ext>", "<ext>@0" or "<ext>@1" (ask the
// agent first), and mode "" (listen), "w" (whisper), "B" (barge) or "W" (Asterisk ChanSpy's
// private whisper, which one peer sends). The documents are silent on what a unit answers for
// parameters that contradict each other; the simulator refuses them (strict, not lenient): an
// exten that does not own channel, and a supervisor who is already a party of the call.
func (u *UCM) callbarge(p map[string]any) reply {
	now := time.Now()
	u.settleCalls(now)
	ch, _ := paramString(p["channel"])
	monitored, _ := paramString(p["exten"])
	spy, _ := paramString(p["barge-exten"])
	mode, _ := paramString(p["mode"])
	if ch == "" || monitored == "" || spy == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	if mode != "" && mode != "w" && mode != "W" && mode != "B" {
		return failMsg(StatusInvalidValue, "Invalid value: mode")
	}
	supervisor, ask, hasAsk := strings.Cut(spy, "@")
	if !isDigits(supervisor) || hasAsk && ask != "0" && ask != "1" {
		return failMsg(StatusInvalidValue, "Invalid value: barge-exten")
	}
	for _, ext := range []string{monitored, supervisor} {
		if _, exists := u.accounts[ext]; !exists {
			return fail(StatusNoSuchItem)
		}
	}
	_, c := u.findCall(ch)
	if c == nil || !c.answered {
		return fail(StatusNoSuchItem)
	}
	if endpointOf(ch) != monitored {
		return failMsg(StatusInvalidValue, "Invalid value: exten does not own channel")
	}
	for _, party := range []string{c.chanA, c.chanB} {
		if party != "" && endpointOf(party) == supervisor {
			return failMsg(StatusInvalidValue, "Invalid value: barge-exten is a party of the call")
		}
	}
	name, uid := u.newChannel(supervisor, now)
	c.bargers = append(c.bargers, barger{ext: supervisor, monitored: monitored, channel: name, mode: mode, ask: ask, alloc: now})
	c.legs = append(c.legs, &leg{uniqueid: uid, channel: name, dstchannel: ch, src: supervisor, dst: monitored, actionType: "CALLBARGE", start: now, answer: now})
	return ok(nil)
}

// endpointOf is the resource of a channel name without its sequence: "PJSIP/1000-0000002a" is
// 1000's.
func endpointOf(channel string) string {
	_, rest, _ := strings.Cut(channel, "/")
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		rest = rest[:i]
	}
	return rest
}
