package ucmsim

import (
	"fmt"
	"time"
)

// listBridged is listBridgedChannels: one item per answered two-party call.
func (u *UCM) listBridged() reply {
	u.settleCalls(time.Now())
	items := []any{}
	for _, c := range u.calls {
		if !c.answered || c.chanB == "" {
			continue
		}
		l := c.legs[len(c.legs)-1]
		items = append(items, map[string]any{
			"channel1": c.chanA, "channel2": c.chanB,
			"callerid1": c.caller, "callerid2": c.callee,
			"name1": c.callerName, "name2": c.calleeName,
			"bridge_time": l.answer.UTC().Format(ucmTime),
			"uniqueid1":   c.uidA, "uniqueid2": c.uidB,
			"bridge_id": fmt.Sprintf("%08x-bridge", c.seq),
		})
	}
	return ok(map[string]any{"channel": items, "page": 1, "total_item": len(items), "total_page": 1})
}

// listUnbridged is listUnBridgedChannels: channels that ring, or that
// talk to an application (IVR, a barger's ChanSpy).
func (u *UCM) listUnbridged() reply {
	u.settleCalls(time.Now())
	items := []any{}
	row := func(channel, num, name, connNum, connName, state, service string, alloc time.Time) {
		items = append(items, map[string]any{
			"channel": channel, "callernum": num, "callername": name,
			"connectednum": connNum, "connectedname": connName, "state": state,
			"service": service, "alloc_time": alloc.UTC().Format(ucmTime), "inbound_trunk_name": "",
		})
	}
	for _, c := range u.calls {
		switch {
		case c.kind == "queued": // a caller waiting in a queue (queuewait.go)
			items = append(items, queuedRow(c))
		case !c.answered && len(c.legs) == 1:
			row(c.chanA, c.caller, c.callerName, c.callee, c.calleeName, "Ringing", "", c.created)
		case !c.answered: // a transferred party waiting for the destination
			row(c.chanA, c.caller, c.callerName, c.callee, c.calleeName, "Up", "Dial", c.created)
		case c.chanB == "": // IVR
			row(c.chanA, c.caller, c.callerName, c.callee, "", "Up", "IVR", c.created)
		}
		for _, b := range c.bargers {
			row(b.channel, b.ext, "", c.caller, c.callerName, "Up", "ChanSpy", c.created)
		}
	}
	return ok(map[string]any{"channel": items, "page": 1, "total_item": len(items), "total_page": 1})
}

// seedCalls starts one inbound call from an external number, answered by
// 1001 a few minutes ago, so a demo unit has a live call to look at.
func (u *UCM) seedCalls() {
	now := time.Now()
	start := now.Add(-3 * time.Minute)
	c := &liveCall{kind: "inbound", caller: "+15551234567", callee: "1001", calleeName: "Bob Nguyen", created: start, answered: true}
	u.callSeq++
	c.seq = u.callSeq
	c.chanA, c.uidA = u.newChannel("trunk_1", start)
	c.chanB, c.uidB = u.newChannel("1001", start.Add(time.Second))
	c.session = c.uidA
	rec := fmt.Sprintf("auto-%d-%s-%s.wav", start.Unix(), c.caller, c.callee)
	u.recordings[rec] = recordingSeconds
	c.recordings = []string{rec}
	c.legs = []*leg{{uniqueid: c.uidA, channel: c.chanA, dstchannel: c.chanB, src: c.caller, dst: c.callee,
		actionType: "DIAL", start: start, answer: start.Add(4 * time.Second), record: rec}}
	u.calls = append(u.calls, c)
}
