package ucmsim

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// activeCallFields are the fields FACTS.md lists for an ActiveCallStatus
// item, sorted.
func activeCallFields() []string {
	return []string{"action", "alloc_time", "callername", "callernum", "callid", "channel", "chantype",
		"connectedname", "connectednum", "inbound_trunk_name", "linkedid", "outbound_trunk_name", "service", "state", "uniqueid"}
}

func keysOf(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// statusOf returns listAccount's status of every extension.
func statusOf(t *testing.T, post poster, cookie string) map[string]string {
	t.Helper()
	r, st := call(t, post, "listAccount", "cookie", cookie, "options", "extension,status")
	require.Equal(t, StatusOK, st)
	out := map[string]string{}
	for _, it := range r["account"].([]any) {
		m := it.(map[string]any)
		out[m["extension"].(string)] = m["status"].(string)
	}
	return out
}

// agrees checks that listAccount reports the statuses the events said.
func agrees(t *testing.T, post poster, cookie string, items []map[string]any) {
	t.Helper()
	now := statusOf(t, post, cookie)
	for _, it := range items {
		assert.Equal(t, it["status"], now[it["extension"].(string)], "listAccount agrees with ExtensionStatus %v", it)
	}
}

func TestActiveCallStatusFollowsADial(t *testing.T) {
	cfg := wsConfig()
	cfg.CallAnswerDelay = 300 * time.Millisecond
	_, srv, post := startHTTPS(t, cfg)
	cookie := login(t, post, testPassword)
	w := dialWS(t, srv).subscribed(EventActiveCallStatus, EventExtensionStatus)

	_, st := call(t, post, "dialExtension", "cookie", cookie, "caller", "1000", "callee", "1003")
	require.Equal(t, StatusOK, st)
	unbridged := channelsOf(t, post, cookie, "listUnBridgedChannels")
	require.Len(t, unbridged, 1)

	// 1. The caller's phone rings.
	ev := w.nextEvents()
	require.Len(t, ev[EventActiveCallStatus], 1)
	add := ev[EventActiveCallStatus][0]
	assert.Equal(t, activeCallFields(), keysOf(add))
	a := add["channel"].(string)
	assert.Equal(t, unbridged[0]["channel"], a)
	assert.Regexp(t, `^PJSIP/1000-[0-9a-f]{8}$`, a)
	for k, want := range map[string]any{"action": "add", "chantype": "PJSIP", "state": "Ringing", "service": "",
		"callernum": "1000", "callername": "Alice Martin", "connectednum": "1003", "connectedname": "Dmitri Volkov",
		"inbound_trunk_name": "", "outbound_trunk_name": ""} {
		assert.Equal(t, want, add[k], k)
	}
	for _, k := range []string{"state", "callernum", "callername", "connectednum", "connectedname", "alloc_time", "inbound_trunk_name"} {
		assert.Equal(t, unbridged[0][k], add[k], "listUnBridgedChannels agrees on %s", k)
	}
	assert.Regexp(t, `^\d+\.\d+$`, add["uniqueid"])
	assert.Equal(t, add["uniqueid"], add["linkedid"], "the first channel's uniqueid links the call")
	assert.Regexp(t, `^[0-9a-f]{32}$`, add["callid"])
	assert.Regexp(t, `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`, add["alloc_time"])
	assert.Equal(t, []map[string]any{{"extension": "1000", "status": "Ringing"}}, ev[EventExtensionStatus])
	agrees(t, post, cookie, ev[EventExtensionStatus])

	// 2. It answers and is bridged with the callee.
	ev = w.nextEvents()
	calls := ev[EventActiveCallStatus]
	require.Len(t, calls, 2, "%v", calls)
	assert.Equal(t, "update", calls[0]["action"])
	assert.Equal(t, a, calls[0]["channel"])
	assert.Equal(t, "Up", calls[0]["state"])
	assert.Equal(t, add["uniqueid"], calls[0]["uniqueid"])
	assert.Equal(t, "add", calls[1]["action"])
	b := calls[1]["channel"].(string)
	assert.Regexp(t, `^PJSIP/1003-`, b)
	assert.Equal(t, "Up", calls[1]["state"])
	assert.Equal(t, "1003", calls[1]["callernum"])
	assert.Equal(t, "1000", calls[1]["connectednum"])
	assert.Equal(t, add["uniqueid"], calls[1]["linkedid"])
	assert.ElementsMatch(t, []map[string]any{{"extension": "1000", "status": "InUse"}, {"extension": "1003", "status": "InUse"}},
		ev[EventExtensionStatus])
	agrees(t, post, cookie, ev[EventExtensionStatus])
	bridged := channelsOf(t, post, cookie, "listBridgedChannels")
	require.Len(t, bridged, 2)
	assert.Equal(t, calls[1]["uniqueid"], bridged[1]["uniqueid2"])

	// 3. Hold changes no reported field but is reported.
	_, st = call(t, post, "hold", "cookie", cookie, "channel", b)
	require.Equal(t, StatusOK, st)
	ev = w.nextEvents()
	require.Len(t, ev[EventActiveCallStatus], 1)
	assert.Equal(t, "update", ev[EventActiveCallStatus][0]["action"])
	assert.Equal(t, b, ev[EventActiveCallStatus][0]["channel"])
	assert.NotContains(t, ev, EventExtensionStatus)

	// 4. A barger joins, then leaves.
	_, st = call(t, post, "callbarge", "cookie", cookie, "channel", a, "exten", "1000", "barge-exten", "1005", "mode", "")
	require.Equal(t, StatusOK, st)
	ev = w.nextEvents()
	require.Len(t, ev[EventActiveCallStatus], 1)
	spy := ev[EventActiveCallStatus][0]
	assert.Equal(t, "add", spy["action"])
	assert.Equal(t, "ChanSpy", spy["service"])
	assert.Equal(t, []map[string]any{{"extension": "1005", "status": "InUse"}}, ev[EventExtensionStatus])
	_, st = call(t, post, "Hangup", "cookie", cookie, "channel", spy["channel"])
	require.Equal(t, StatusOK, st)
	ev = w.nextEvents()
	assert.Equal(t, []map[string]any{{"channel": spy["channel"], "chantype": "PJSIP", "action": "delete"}}, ev[EventActiveCallStatus])
	assert.Equal(t, []map[string]any{{"extension": "1005", "status": "Idle"}}, ev[EventExtensionStatus])

	// 5. Hang-up: both legs go, carrying only channel, chantype and action.
	_, st = call(t, post, "Hangup", "cookie", cookie, "channel", a)
	require.Equal(t, StatusOK, st)
	ev = w.nextEvents()
	assert.Equal(t, []map[string]any{
		{"channel": a, "chantype": "PJSIP", "action": "delete"},
		{"channel": b, "chantype": "PJSIP", "action": "delete"},
	}, ev[EventActiveCallStatus])
	assert.ElementsMatch(t, []map[string]any{{"extension": "1000", "status": "Idle"}, {"extension": "1003", "status": "Idle"}},
		ev[EventExtensionStatus])
	agrees(t, post, cookie, ev[EventExtensionStatus])
	w.quiet()
}

func TestEventsOfAQuickCallAreNotLost(t *testing.T) {
	_, srv, post := startHTTPS(t, wsConfig())
	cookie := login(t, post, testPassword)
	w := dialWS(t, srv).subscribed(EventActiveCallStatus)
	_, st := call(t, post, "dialExtension", "cookie", cookie, "caller", "1000", "callee", "1003")
	require.Equal(t, StatusOK, st)
	ch := channelsOf(t, post, cookie, "listUnBridgedChannels")[0]["channel"]
	_, st = call(t, post, "Hangup", "cookie", cookie, "channel", ch)
	require.Equal(t, StatusOK, st)
	assert.Equal(t, "add", w.nextEvents()[EventActiveCallStatus][0]["action"])
	assert.Equal(t, []map[string]any{{"channel": ch, "chantype": "PJSIP", "action": "delete"}}, w.nextEvents()[EventActiveCallStatus])
	w.quiet()
}

func TestCallsEndingByThemselvesAreReported(t *testing.T) {
	_, srv, post := startHTTPS(t, wsConfig())
	cookie := login(t, post, testPassword)
	w := dialWS(t, srv).subscribed(EventActiveCallStatus, EventExtensionStatus)
	// 1002 has no phone registered: 1000 rings, then the call ends unanswered.
	_, st := call(t, post, "dialExtension", "cookie", cookie, "caller", "1000", "callee", "1002")
	require.Equal(t, StatusOK, st)
	ev := w.nextEvents()
	ch := ev[EventActiveCallStatus][0]["channel"]
	assert.Equal(t, []map[string]any{{"extension": "1000", "status": "Ringing"}}, ev[EventExtensionStatus])
	ev = w.nextEvents()
	assert.Equal(t, []map[string]any{{"channel": ch, "chantype": "PJSIP", "action": "delete"}}, ev[EventActiveCallStatus])
	assert.Equal(t, []map[string]any{{"extension": "1000", "status": "Idle"}}, ev[EventExtensionStatus],
		"1002 stays Unavailable throughout")
}

func TestTransferIsReported(t *testing.T) {
	_, srv, post := startHTTPS(t, wsConfig())
	cookie := login(t, post, testPassword)
	w := dialWS(t, srv).subscribed(EventActiveCallStatus, EventExtensionStatus)
	// The seeded call: +15551234567 on trunk_1, bridged with 1001.
	seeded := channelsOf(t, post, cookie, "listBridgedChannels")[0]
	trunk, bob := seeded["channel1"].(string), seeded["channel2"].(string)

	_, st := call(t, post, "transferNumberInbound", "cookie", cookie, "channel", trunk, "callee", "1003")
	require.Equal(t, StatusOK, st)
	ev := w.nextEvents()
	calls := ev[EventActiveCallStatus]
	require.Len(t, calls, 2, "%v", calls)
	assert.Equal(t, "update", calls[0]["action"])
	assert.Equal(t, trunk, calls[0]["channel"])
	assert.Equal(t, "1003", calls[0]["connectednum"])
	assert.Equal(t, "carrier-register", calls[0]["inbound_trunk_name"], "the channel keeps its trunk")
	assert.Equal(t, map[string]any{"channel": bob, "chantype": "PJSIP", "action": "delete"}, calls[1])
	assert.ElementsMatch(t, []map[string]any{{"extension": "1001", "status": "Idle"}, {"extension": "1003", "status": "Ringing"}},
		ev[EventExtensionStatus])
	agrees(t, post, cookie, ev[EventExtensionStatus])

	ev = w.nextEvents()
	require.Len(t, ev[EventActiveCallStatus], 2)
	assert.Equal(t, "Up", ev[EventActiveCallStatus][0]["state"])
	assert.Regexp(t, `^PJSIP/1003-`, ev[EventActiveCallStatus][1]["channel"])
	assert.Equal(t, []map[string]any{{"extension": "1003", "status": "InUse"}}, ev[EventExtensionStatus])
}

func TestOnlySubscribedEventsAreSent(t *testing.T) {
	_, srv, post := startHTTPS(t, wsConfig())
	cookie := login(t, post, testPassword)
	ext := dialWS(t, srv).subscribed(EventExtensionStatus)
	calls := dialWS(t, srv).subscribed(EventActiveCallStatus)
	none := dialWS(t, srv)
	_, st := none.login(testWebUser, testWebPassword)
	require.Equal(t, StatusOK, st)

	_, st = call(t, post, "dialExtension", "cookie", cookie, "caller", "1000", "callee", "1003")
	require.Equal(t, StatusOK, st)
	got := ext.nextEvents()
	assert.Equal(t, []string{EventExtensionStatus}, slices.Collect(maps.Keys(got)))
	got = calls.nextEvents()
	assert.Equal(t, []string{EventActiveCallStatus}, slices.Collect(maps.Keys(got)))
	none.quiet()

	// A later subscribe adds to the first.
	_, st = ext.do("subscribe", "eventnames", []any{EventActiveCallStatus})
	require.Equal(t, StatusOK, st)
	got = ext.nextEvents() // the answer
	assert.ElementsMatch(t, []string{EventActiveCallStatus, EventExtensionStatus}, slices.Collect(maps.Keys(got)))
}

func TestCallQueueStatus(t *testing.T) {
	_, srv, post := startHTTPS(t, wsConfig())
	cookie := login(t, post, testPassword)
	w := dialWS(t, srv).subscribed(EventCallQueueStatus)
	_, st := call(t, post, "dialQueue", "cookie", cookie, "outcaller", "1005", "queue", "6501")
	require.Equal(t, StatusOK, st)
	assert.Equal(t, []map[string]any{{"extension": "6501", "waiting": "1"}}, jsonNumbersAsText(w.nextEvents()[EventCallQueueStatus]))
	r := channelsOf(t, post, cookie, "listBridgedChannels")
	_, st = call(t, post, "Hangup", "cookie", cookie, "channel", r[len(r)-1]["channel1"])
	require.Equal(t, StatusOK, st)
	assert.Equal(t, []map[string]any{{"extension": "6501", "waiting": "0"}}, jsonNumbersAsText(w.nextEvents()[EventCallQueueStatus]))
}

// jsonNumbersAsText turns json.Number values into their text, so a table
// can state them.
func jsonNumbersAsText(items []map[string]any) []map[string]any {
	for _, it := range items {
		for k, v := range it {
			if s, isNum := v.(interface{ String() string }); isNum {
				it[k] = s.String()
			}
		}
	}
	return items
}

func TestServerCloseEndsWebSockets(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	u := New(wsConfig())
	srv, err := Listen(u, "127.0.0.1:0")
	require.NoError(t, err)
	w := dialWS(t, srv).subscribed(EventActiveCallStatus)
	require.Equal(t, 1, u.WebSocketConns())

	require.NoError(t, srv.Close())
	assert.Zero(t, u.WebSocketConns(), "Close waits for the socket's handler")
	_, _, err = w.c.Read(t.Context())
	assert.Error(t, err)
	_ = w.c.CloseNow()
}
