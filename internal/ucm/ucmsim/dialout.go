package ucmsim

import (
	"slices"
	"time"
)

// Calls from outside (FACTS.md "Other actions"): dialOutboundTwo{outcaller,
// outcallee} rings an outside number and, once it answers, bridges it with a
// second outside number; dialIVROutbound{outcaller, ivrnumber} rings an
// outside number into an IVR. Like every dial they return at once with
// status 0, and the call is followed through the channel lists. Both legs go
// out through the trunk, so both channels are trunk channels; the first is
// shown, like the caller's leg of dialExtension, with the number it rings as
// its caller and the destination as its connected number. FACTS.md gives
// nothing more: the simulator refuses anything that is not a dial string, and
// an IVR number the unit does not have (-16, its code for an unknown item).

func (u *UCM) dialOutboundTwo(p map[string]any) reply {
	return u.dialOutside(p, "outcallee", "external")
}

func (u *UCM) dialIVROutbound(p map[string]any) reply {
	return u.dialOutside(p, "ivrnumber", "ivr")
}

func (u *UCM) dialOutside(p map[string]any, calleeKey, kind string) reply {
	if rep, bad := onlyParams(p, "outcaller", calleeKey); bad {
		return rep
	}
	now := time.Now()
	u.settleCalls(now)
	caller, _ := paramString(p["outcaller"])
	callee, _ := paramString(p[calleeKey])
	if !isDialString(caller) || !isDialString(callee) {
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	if kind == "ivr" && !slices.ContainsFunc(u.cc.ivrs, func(r map[string]any) bool { return r["extension"] == callee }) {
		return fail(StatusNoSuchItem)
	}
	u.callSeq++
	c := &liveCall{seq: u.callSeq, kind: kind, caller: caller, callee: callee, allocA: now,
		answerAt: now.Add(u.cfg.CallAnswerDelay)}
	c.chanA, c.uidA = u.newChannel("trunk_1", now)
	c.session = c.uidA
	c.legs = []*leg{{uniqueid: c.uidA, channel: c.chanA, src: caller, dst: callee, actionType: "DIAL", start: now}}
	u.calls = append(u.calls, c)
	return ok(nil)
}
