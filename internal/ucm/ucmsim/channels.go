package ucmsim

import (
	"fmt"
	"strings"
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
		items = append(items, map[string]any{
			"channel1": c.chanA, "channel2": c.chanB,
			"callerid1": c.caller, "callerid2": c.callee,
			"name1": c.callerName, "name2": c.calleeName,
			"bridge_time": u.wallClock(c.bridged),
			"uniqueid1":   c.uidA, "uniqueid2": c.uidB,
			"bridge_id": fmt.Sprintf("%08x-bridge", c.seq),
		})
	}
	return ok(map[string]any{"channel": items, "page": 1, "total_item": len(items), "total_page": 1})
}

// listUnbridged is listUnBridgedChannels: channels that ring, or that
// talk to an application (IVR, a barger's ChanSpy). Its items are the
// unbridged channels of channelRows, so they always agree with what
// ActiveCallStatus reports of the same channels.
func (u *UCM) listUnbridged() reply {
	u.settleCalls(time.Now())
	items := []any{}
	for _, r := range u.channelRows() {
		if r.bridged {
			continue
		}
		items = append(items, map[string]any{
			"channel": r.channel, "callernum": r.callerNum, "callername": r.callerName,
			"connectednum": r.connNum, "connectedname": r.connName, "state": r.state,
			"service": r.service, "alloc_time": u.wallClock(r.alloc),
			"inbound_trunk_name": r.inTrunk,
		})
	}
	return ok(map[string]any{"channel": items, "page": 1, "total_item": len(items), "total_page": 1})
}

// chanRow is one live channel as the unit describes it, both in
// listUnBridgedChannels and in ActiveCallStatus events.
type chanRow struct {
	channel, uniqueid, linkedid, callid string
	state, service                      string
	callerNum, callerName               string
	connNum, connName                   string
	inTrunk, outTrunk                   string
	alloc                               time.Time
	bridged                             bool // in listBridgedChannels rather than listUnBridgedChannels
	rev                                 int  // bumped by hold/mute, which change no reported field
}

// chantype is the channel technology, the part of the name before "/".
// FACTS.md lists chantype without a sample; the technology is a guess.
func (r chanRow) chantype() string {
	tech, _, _ := strings.Cut(r.channel, "/")
	return tech
}

// channelRows lists every live channel, calls oldest first and within a
// call its first leg, its second, then its bargers. States: a dialled
// call rings its caller first ("Ringing", the outbound side in Asterisk's
// terms); an inbound call's trunk channel is "Ring" (the inbound side)
// until answered; a transferred party waits "Up" in Dial; an IVR call is
// "Up" in IVR; a barger is "Up" in ChanSpy. The service of the two legs of
// a bridge is "Dial": FACTS.md gives no service for bridged channels, so
// that is a guess. Each channel reports its own party as caller and the
// other as connected (a guess for the second leg). Called with u.mu held.
func (u *UCM) channelRows() []chanRow {
	var rows []chanRow
	row := func(c *liveCall, channel, num, name, connNum, connName, state, service string) chanRow {
		m := u.meta(channel)
		return chanRow{
			channel: channel, uniqueid: m.uniqueid, linkedid: c.session, callid: m.callid,
			state: state, service: service, callerNum: num, callerName: name,
			connNum: connNum, connName: connName, inTrunk: m.inTrunk, outTrunk: m.outTrunk,
			alloc: m.alloc, rev: c.chanRev[channel],
		}
	}
	for _, c := range u.calls {
		a := row(c, c.chanA, c.caller, c.callerName, c.callee, c.calleeName, "Ringing", "")
		switch {
		case c.answered && c.chanB != "":
			a.state, a.service, a.bridged = "Up", "Dial", true
		case c.answered: // IVR
			a.state, a.service, a.connName = "Up", "IVR", ""
		case c.kind == "queued": // a caller waiting in a queue (queuewait.go)
			a.state, a.service, a.connName = "Up", "Queue", ""
		case c.kind == "inbound":
			a.state = "Ring"
		case len(c.legs) > 1: // a transferred party waiting for the destination
			a.state, a.service = "Up", "Dial"
		}
		rows = append(rows, a)
		if c.answered && c.chanB != "" {
			b := row(c, c.chanB, c.callee, c.calleeName, c.caller, c.callerName, "Up", "Dial")
			b.bridged = true
			rows = append(rows, b)
		}
		for _, br := range c.bargers {
			rows = append(rows, row(c, br.channel, br.ext, "", c.caller, c.callerName, "Up", "ChanSpy"))
		}
	}
	return rows
}

// seedCalls starts one inbound call from an external number on trunk 1,
// answered by 1001 a few minutes ago, so a demo unit has a live call to
// look at.
func (u *UCM) seedCalls() {
	now := time.Now()
	start := now.Add(-3 * time.Minute)
	c := &liveCall{kind: "inbound", caller: "+15551234567", callee: "1001", calleeName: "Bob Nguyen", answered: true,
		allocA: start, allocB: start.Add(time.Second), bridged: start.Add(4 * time.Second)}
	u.callSeq++
	c.seq = u.callSeq
	c.chanA, c.uidA = u.newChannel("trunk_1", start)
	u.meta(c.chanA).inTrunk = u.trunkName(1)
	c.chanB, c.uidB = u.newChannel("1001", start.Add(time.Second))
	c.session = c.uidA
	rec := fmt.Sprintf("auto-%d-%s-%s.wav", start.Unix(), c.caller, c.callee)
	u.recordings[rec] = recordingSeconds
	c.recordings = []string{rec}
	c.legs = []*leg{{uniqueid: c.uidA, channel: c.chanA, dstchannel: c.chanB, src: c.caller, dst: c.callee,
		actionType: "DIAL", start: start, answer: start.Add(4 * time.Second), record: rec}}
	u.calls = append(u.calls, c)
}
