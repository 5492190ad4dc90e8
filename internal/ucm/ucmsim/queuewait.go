package ucmsim

import (
	"errors"
	"time"
)

// Callers waiting in a queue. FACTS.md lists the fields of
// listUnBridgedChannels (channel, callernum, callername, connectednum,
// connectedname, state, service, alloc_time, inbound_trunk_name) but not how a
// unit shows a caller held in a queue. The simulator shows it the way
// Asterisk does a channel in an application, as it already shows IVR and
// ChanSpy channels: state Up, service "Queue" (the application), connected
// to the queue's number, on the inbound trunk's channel. Nobody answers such
// a caller: it waits until it is hung up (Hangup, like any channel).

// AddQueueCaller puts an outside caller (number) into queue as an inbound
// call would after the unit's inbound route sent it there, waiting since
// since. It returns the caller's channel name.
func (u *UCM) AddQueueCaller(queue, number string, since time.Time) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, exists := u.cc.queues[queue]; !exists {
		return "", errors.New("ucmsim: no queue " + queue)
	}
	if !isDialString(number) {
		return "", errors.New("ucmsim: not a phone number: " + number)
	}
	u.settleCalls(time.Now())
	u.callSeq++
	c := &liveCall{seq: u.callSeq, kind: "queued", caller: number, callee: queue, allocA: since, answered: false}
	c.chanA, c.uidA = u.newChannel("trunk_1", since)
	u.meta(c.chanA).inTrunk = u.trunkName(1)
	c.session = c.uidA
	c.legs = []*leg{{uniqueid: c.uidA, channel: c.chanA, src: number, dst: queue, actionType: "QUEUE", start: since}}
	u.calls = append(u.calls, c)
	u.publish() // the caller's channel and the queue's count reach the WebSockets
	return c.chanA, nil
}
