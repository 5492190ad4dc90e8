package ucmsim

import (
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cdrs returns cdrapi's records, newest first, as main_cdr/sub_cdr groups
// or flat records.
func cdrs(t *testing.T, post poster, cookie string) []map[string]any {
	t.Helper()
	_, out := raw(t, post, "action", "cdrapi", "cookie", cookie, "format", "json")
	var r struct {
		Root []map[string]any `json:"cdr_root"`
	}
	require.NoError(t, json.Unmarshal(out, &r), "%s", out)
	return r.Root
}

// field reads a CDR field of a flat record, or of its main_cdr.
func field(rec map[string]any, k string) any {
	if m, grouped := rec["main_cdr"].(map[string]any); grouped {
		return m[k]
	}
	return rec[k]
}

func TestInboundCallControl(t *testing.T) {
	tests := []struct {
		name        string
		act         func(t *testing.T, post poster, cookie, ch string) // nil: do nothing
		wantAnswer  time.Duration                                      // after the call arrives; 0: never
		wantCallee  string
		disposition string // of the (main) CDR
	}{
		{"acceptCall answers at once", func(t *testing.T, post poster, cookie, ch string) {
			_, st := call(t, post, "acceptCall", "cookie", cookie, "channel", ch)
			require.Equal(t, StatusOK, st)
		}, time.Second, "1000", "ANSWERED"},
		{"refuseCall ends it busy", func(t *testing.T, post poster, cookie, ch string) {
			_, st := call(t, post, "refuseCall", "cookie", cookie, "channel", ch)
			require.Equal(t, StatusOK, st)
			_, st = call(t, post, "refuseCall", "cookie", cookie, "channel", ch)
			require.Equal(t, StatusNoSuchItem, st, "the call is gone")
		}, 0, "", "BUSY"},
		{"transferNumberInbound rings another extension", func(t *testing.T, post poster, cookie, ch string) {
			_, st := call(t, post, "transferNumberInbound", "cookie", cookie, "channel", ch, "callee", "1003")
			require.Equal(t, StatusOK, st)
			assert.Equal(t, "Ringing", statusOf(t, post, cookie)["1003"])
			assert.Equal(t, "Idle", statusOf(t, post, cookie)["1000"])
			_, st = call(t, post, "acceptCall", "cookie", cookie, "channel", ch)
			assert.Equal(t, StatusInvalidValue, st, "no longer waiting for call control")
		}, time.Second + 3*time.Second, "1003", "NO ANSWER"},
		{"nobody acts: accepted after 10 s", nil, 10 * time.Second, "1000", "ANSWERED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := New(Config{Seed: true, CallControl: true})
				post := direct(u)
				cookie := login(t, post, testPassword)
				before := len(cdrs(t, post, cookie))

				ch, err := u.StartInboundCall("carrier-register", "+15557654321", "1000")
				require.NoError(t, err)
				assert.Regexp(t, `^PJSIP/trunk_1-[0-9a-f]{8}$`, ch)
				waiting := channelsOf(t, post, cookie, "listUnBridgedChannels")
				require.Len(t, waiting, 1)
				for k, want := range map[string]any{"channel": ch, "state": "Ring", "callernum": "+15557654321",
					"connectednum": "1000", "connectedname": "Alice Martin", "inbound_trunk_name": "carrier-register"} {
					assert.Equal(t, want, waiting[0][k], k)
				}
				assert.Equal(t, "Idle", statusOf(t, post, cookie)["1000"], "a call waiting for call control rings nobody")

				time.Sleep(time.Second)
				if tc.act != nil {
					tc.act(t, post, cookie, ch)
				}
				// Just before and at the expected answer.
				var answeredAt time.Duration
				for at := time.Second; at <= 15*time.Second; at += time.Second {
					bridged := channelsOf(t, post, cookie, "listBridgedChannels")
					if len(bridged) == 2 && answeredAt == 0 {
						answeredAt = at
						assert.Equal(t, ch, bridged[1]["channel1"])
						assert.Regexp(t, `^PJSIP/`+tc.wantCallee+`-`, bridged[1]["channel2"])
						assert.Equal(t, "InUse", statusOf(t, post, cookie)[tc.wantCallee])
					}
					time.Sleep(time.Second)
				}
				assert.Equal(t, tc.wantAnswer, answeredAt)

				if tc.wantAnswer > 0 {
					_, st := call(t, post, "Hangup", "cookie", cookie, "channel", ch)
					require.Equal(t, StatusOK, st)
				}
				recs := cdrs(t, post, cookie)
				require.Len(t, recs, before+1)
				assert.Equal(t, "+15557654321", field(recs[0], "src"))
				assert.Equal(t, "1000", field(recs[0], "dst"))
				assert.Equal(t, tc.disposition, field(recs[0], "disposition"))
				if tc.wantCallee == "1003" {
					sub := recs[0]["sub_cdr_1"].(map[string]any)
					assert.Equal(t, "TRANSFER", sub["action_type"])
					assert.Equal(t, "1003", sub["dst"])
					assert.Equal(t, "ANSWERED", sub["disposition"])
				}
				assert.Empty(t, u.LiveCalls()[1:], "only the seeded call is left")
			})
		})
	}
}

func TestCallControlTimeoutIsConfigurable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{Seed: true, CallControl: true, CallControlTimeout: 2 * time.Second})
		_, err := u.StartInboundCall("carrier-register", "+15557654321", "1003")
		require.NoError(t, err)
		time.Sleep(2*time.Second - time.Millisecond)
		assert.False(t, u.LiveCalls()[1].Answered)
		time.Sleep(time.Millisecond)
		assert.True(t, u.LiveCalls()[1].Answered)
	})
}

func TestInboundWithoutCallControl(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{Seed: true, CallAnswerDelay: 5 * time.Second})
		post := direct(u)
		cookie := login(t, post, testPassword)
		ch, err := u.StartInboundCall("carrier-register", "+15557654321", "1005")
		require.NoError(t, err)
		assert.Equal(t, "Ringing", statusOf(t, post, cookie)["1005"], "it rings the extension at once")
		for _, action := range []string{"acceptCall", "refuseCall"} {
			_, st := call(t, post, action, "cookie", cookie, "channel", ch)
			assert.Equal(t, StatusNoPermission, st, action)
		}
		time.Sleep(5 * time.Second)
		c := u.LiveCalls()[1]
		assert.True(t, c.Answered, "answered after CallAnswerDelay like a dialled call")
		assert.Equal(t, ch, c.ChannelA)
		assert.Equal(t, "InUse", statusOf(t, post, cookie)["1005"])

		u.SetCallControl(true)
		_, st := call(t, post, "acceptCall", "cookie", cookie, "channel", ch)
		assert.Equal(t, StatusInvalidValue, st, "answered already")
	})
}

func TestCallControlRefusesWhatIsNotAWaitingInboundCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{Seed: true, CallControl: true})
		post := direct(u)
		cookie := login(t, post, testPassword)
		_, st := call(t, post, "dialExtension", "cookie", cookie, "caller", "1000", "callee", "1003")
		require.Equal(t, StatusOK, st)
		dialled := u.LiveCalls()[1].ChannelA
		seeded := u.LiveCalls()[0]
		tests := []struct {
			name    string
			channel any
			want    int
		}{
			{"a ringing dialled call", dialled, StatusInvalidValue},
			{"an answered inbound call", seeded.ChannelA, StatusInvalidValue},
			{"the extension's leg", seeded.ChannelB, StatusInvalidValue},
			{"an unknown channel", "PJSIP/trunk_1-0000ffff", StatusNoSuchItem},
			{"no channel", "", StatusInvalidParams},
		}
		for _, tc := range tests {
			for _, action := range []string{"acceptCall", "refuseCall"} {
				_, st := call(t, post, action, "cookie", cookie, "channel", tc.channel)
				assert.Equal(t, tc.want, st, "%s(%s)", action, tc.name)
			}
		}
		_, st = call(t, post, "acceptCall", "channel", dialled)
		assert.Equal(t, StatusCookieError, st)
		assert.Len(t, u.LiveCalls(), 2, "nothing changed")
	})
}

func TestStartInboundCallRefusesWhatCannotRing(t *testing.T) {
	u := New(Config{Seed: true})
	tests := []struct{ name, trunk, from, to string }{
		{"unknown trunk", "no-such-trunk", "+15557654321", "1000"},
		{"analog trunk", "pstn-line-1", "+15557654321", "1000"},
		{"bad caller", "carrier-register", "call me", "1000"},
		{"unknown extension", "carrier-register", "+15557654321", "1999"},
		{"unregistered extension", "carrier-register", "+15557654321", "1002"},
		{"out-of-service extension", "carrier-register", "+15557654321", "1004"},
	}
	for _, tc := range tests {
		ch, err := u.StartInboundCall(tc.trunk, tc.from, tc.to)
		assert.Error(t, err, tc.name)
		assert.Empty(t, ch, tc.name)
	}
	assert.Len(t, u.LiveCalls(), 1, "only the seeded call")
	ch, err := u.StartInboundCall("branch-peer", "7001", "1000")
	require.NoError(t, err)
	assert.Regexp(t, `^PJSIP/trunk_2-`, ch, "the peer trunk is trunk 2")
}

func TestScheduledInboundCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{Seed: true, InboundCallEvery: 20 * time.Second})
		post := direct(u)
		cookie := login(t, post, testPassword)
		time.Sleep(20*time.Second - time.Millisecond)
		assert.Empty(t, channelsOf(t, post, cookie, "listUnBridgedChannels"))

		time.Sleep(time.Millisecond)
		ringing := channelsOf(t, post, cookie, "listUnBridgedChannels")
		require.Len(t, ringing, 1)
		assert.Regexp(t, `^PJSIP/trunk_1-`, ringing[0]["channel"])
		assert.Equal(t, "carrier-register", ringing[0]["inbound_trunk_name"])
		assert.Equal(t, "1000", ringing[0]["connectednum"], "the first reachable extension")
		assert.Equal(t, "Ring", ringing[0]["state"])

		time.Sleep(3 * time.Second) // CallAnswerDelay
		assert.Len(t, channelsOf(t, post, cookie, "listBridgedChannels"), 2)

		time.Sleep(17 * time.Second) // the caller hangs up as the next call comes in
		ringing = channelsOf(t, post, cookie, "listUnBridgedChannels")
		require.Len(t, ringing, 1)
		assert.Equal(t, "1001", ringing[0]["connectednum"], "extensions take turns")
		recs := cdrs(t, post, cookie)
		require.NotEmpty(t, recs)
		assert.Equal(t, "1000", field(recs[0], "dst"))
		assert.Equal(t, "ANSWERED", field(recs[0], "disposition"))
		assert.Equal(t, "17", field(recs[0], "billsec"))

		// An hour nobody looked replays only the last few calls.
		time.Sleep(time.Hour)
		cookie = login(t, post, testPassword) // the old cookie has timed out
		n := len(cdrs(t, post, cookie))
		assert.LessOrEqual(t, n, 1+maxMissedInbound+1)
		assert.Len(t, channelsOf(t, post, cookie, "listUnBridgedChannels"), 1, "a call rings now")
	})
}

func TestScheduledInboundCallsNeedATrunk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{InboundCallEvery: time.Second}) // no seed: no trunk, no extension
		time.Sleep(10 * time.Second)
		assert.Empty(t, u.LiveCalls())
	})
}

func TestInboundCallEvents(t *testing.T) {
	cfg := wsConfig()
	cfg.CallControl = true
	u, srv, post := startHTTPS(t, cfg)
	cookie := login(t, post, testPassword)
	w := dialWS(t, srv).subscribed(EventActiveCallStatus, EventExtensionStatus)

	ch, err := u.StartInboundCall("carrier-register", "+15557654321", "1000")
	require.NoError(t, err)
	ev := w.nextEvents()
	require.Len(t, ev[EventActiveCallStatus], 1)
	add := ev[EventActiveCallStatus][0]
	for k, want := range map[string]any{"action": "add", "channel": ch, "chantype": "PJSIP", "state": "Ring",
		"callernum": "+15557654321", "callername": "", "connectednum": "1000", "connectedname": "Alice Martin",
		"inbound_trunk_name": "carrier-register", "outbound_trunk_name": ""} {
		assert.Equal(t, want, add[k], k)
	}
	assert.NotContains(t, ev, EventExtensionStatus, "waiting for call control rings nobody")

	_, st := call(t, post, "acceptCall", "cookie", cookie, "channel", ch)
	require.Equal(t, StatusOK, st)
	ev = w.nextEvents()
	calls := ev[EventActiveCallStatus]
	require.Len(t, calls, 2)
	assert.Equal(t, "update", calls[0]["action"])
	assert.Equal(t, "Up", calls[0]["state"])
	assert.Equal(t, "add", calls[1]["action"])
	assert.Regexp(t, `^PJSIP/1000-`, calls[1]["channel"])
	assert.Equal(t, "", calls[1]["inbound_trunk_name"], "only the trunk's channel names the trunk")
	assert.Equal(t, []map[string]any{{"extension": "1000", "status": "InUse"}}, ev[EventExtensionStatus])

	// A refused call: add, then delete.
	ch, err = u.StartInboundCall("carrier-register", "+15557654322", "1003")
	require.NoError(t, err)
	assert.Equal(t, "add", w.nextEvents()[EventActiveCallStatus][0]["action"])
	_, st = call(t, post, "refuseCall", "cookie", cookie, "channel", ch)
	require.Equal(t, StatusOK, st)
	assert.Equal(t, []map[string]any{{"channel": ch, "chantype": "PJSIP", "action": "delete"}}, w.nextEvents()[EventActiveCallStatus])
	w.quiet()
}
