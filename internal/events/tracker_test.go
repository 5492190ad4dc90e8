package events

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
)

func ringing(ch, from, to string) map[string]any {
	return map[string]any{"channel": ch, "callernum": from, "connectednum": to, "state": "Ringing", "alloc_time": "2026-12-01 09:00:00"}
}

func bridge(ch1, ch2, from, to string) map[string]any {
	return map[string]any{"channel1": ch1, "channel2": ch2, "callerid1": from, "callerid2": to, "bridge_time": "2026-12-01 09:00:05", "uniqueid1": "1796115600.1"}
}

type reading struct {
	name      string
	unbridged []map[string]any
	bridged   []map[string]any
	want      []string // event types
}

func TestTrackerCallLifecycles(t *testing.T) {
	const a, b, c = "PJSIP/1000-00000001", "PJSIP/1001-00000002", "PJSIP/1002-00000003"
	const trunk = "PJSIP/trunk_1-00000004"
	steps := []reading{
		{name: "baseline: a call already on the unit is not news", bridged: []map[string]any{bridge("PJSIP/1003-0000000a", "PJSIP/1004-0000000b", "1003", "1004")}},
		{name: "a dial rings", unbridged: []map[string]any{ringing(a, "1000", "1001")},
			bridged: []map[string]any{bridge("PJSIP/1003-0000000a", "PJSIP/1004-0000000b", "1003", "1004")}, want: []string{TypeCallRinging}},
		{name: "answered; the older call ended", bridged: []map[string]any{bridge(a, b, "1000", "1001")}, want: []string{TypeCallAnswered, TypeCallEnded}},
		{name: "the same reading again is no news", bridged: []map[string]any{bridge(a, b, "1000", "1001")}},
		{name: "transferred: b now rings 1002", unbridged: []map[string]any{{"channel": b, "callernum": "1001", "connectednum": "1002", "state": "Up", "service": "Dial"}},
			want: []string{TypeCallTransferred}},
		{name: "the transfer target answers", bridged: []map[string]any{bridge(b, c, "1001", "1002")}, want: []string{TypeCallAnswered}},
		{name: "hung up; an inbound call was answered between two readings",
			bridged: []map[string]any{bridge(trunk, "PJSIP/1005-00000005", "+15550100", "1005")}, want: []string{TypeCallRinging, TypeCallAnswered, TypeCallEnded}},
		{name: "all gone", want: []string{TypeCallEnded}},
	}
	now := time.Date(2026, 12, 1, 9, 0, 10, 0, time.UTC)
	tr := newTracker(func() time.Time { return now }, time.UTC)
	var all []change
	for _, st := range steps {
		got := tr.observeCalls("hq", calls.Channels{Unbridged: st.unbridged, Bridged: st.bridged})
		var typesGot []string
		for _, c := range got {
			typesGot = append(typesGot, c.typ)
		}
		assert.ElementsMatch(t, st.want, typesGot, st.name)
		all = append(all, got...)
	}
	byType := func(typ string, n int) api.CallEventData {
		for _, c := range all {
			if c.typ == typ {
				if n == 0 {
					return c.data.(api.CallEventData)
				}
				n--
			}
		}
		t.Fatalf("no %s #%d", typ, n)
		return api.CallEventData{}
	}
	assert.Equal(t, calls.ID(a), byType(TypeCallRinging, 0).Call.ID)
	assert.Equal(t, calls.ID(a), byType(TypeCallAnswered, 0).Call.ID, "answering keeps the id of the ringing call")
	tr1 := byType(TypeCallTransferred, 0)
	assert.Equal(t, calls.ID(b), tr1.Call.ID)
	require.NotNil(t, tr1.PreviousID)
	assert.Equal(t, calls.ID(a), *tr1.PreviousID)
	inbound := byType(TypeCallRinging, 1)
	assert.Equal(t, api.CallEventDataDirectionInbound, inbound.Direction)
	ended := byType(TypeCallEnded, 1)
	assert.Equal(t, api.CallStatusCompleted, ended.Call.Status, "an answered call ends completed")
	first := byType(TypeCallEnded, 0)
	assert.Equal(t, calls.ID("PJSIP/1003-0000000a"), first.Call.ID)
}

func TestTrackerExtensions(t *testing.T) {
	tr := newTracker(time.Now, time.UTC)
	assert.Empty(t, tr.observeExtensions(map[string]api.ExtensionState{"1000": api.ExtensionStateIdle, "1001": api.ExtensionStateInUse}, true), "the first full reading is the baseline")
	got := tr.observeExtensions(map[string]api.ExtensionState{"1000": api.ExtensionStateRinging}, false)
	require.Len(t, got, 1)
	d := got[0].data.(api.ExtensionStatusEventData)
	assert.Equal(t, "1000", d.Extension)
	assert.Equal(t, api.ExtensionStateRinging, d.Status)
	require.NotNil(t, d.Previous)
	assert.Equal(t, api.ExtensionStateIdle, *d.Previous)
	assert.Empty(t, tr.observeExtensions(map[string]api.ExtensionState{"1000": api.ExtensionStateRinging, "1001": api.ExtensionStateInUse}, true))
	for in, want := range map[string]api.ExtensionState{"Idle": api.ExtensionStateIdle, "InUse": api.ExtensionStateInUse, "In Use": api.ExtensionStateInUse,
		"BUSY": api.ExtensionStateBusy, "Unavailable": api.ExtensionStateUnavailable, "Ringing": api.ExtensionStateRinging} {
		got, ok := extensionState(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	_, ok := extensionState("Hold")
	assert.False(t, ok)
}

func TestTrackerQueues(t *testing.T) {
	tr := newTracker(time.Now, time.UTC)
	assert.Empty(t, tr.observeQueues(map[string]int{"6500": 1, "6501": 0}, true))
	got := tr.observeQueues(map[string]int{"6500": 2, "6501": 0}, false)
	require.Len(t, got, 1)
	d := got[0].data.(api.QueueWaitingEventData)
	assert.Equal(t, "6500", d.Queue)
	assert.Equal(t, 2, d.Waiting)
	assert.Equal(t, 1, *d.Previous)
	w := waiting([]string{"6500"}, calls.Channels{Unbridged: []map[string]any{map[string]any{"channel": "PJSIP/trunk_1-00000001", "callernum": "+15550002222", "connectednum": "6500", "state": "Up", "service": "Queue"}}})
	assert.Equal(t, map[string]int{"6500": 1}, w)
}
