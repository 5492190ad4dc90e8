package ucmsim

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// raw sends an action whose reply may not be the envelope (cdrapi, recapi).
func raw(t *testing.T, post poster, kv ...any) (string, []byte) {
	t.Helper()
	req := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		req[kv[i].(string)] = kv[i+1]
	}
	body, err := json.Marshal(map[string]any{"request": req})
	require.NoError(t, err)
	_, ctype, out := post(t, body)
	return ctype, out
}

func channelsOf(t *testing.T, post poster, cookie, action string) []map[string]any {
	t.Helper()
	r, st := call(t, post, action, "cookie", cookie)
	require.Equal(t, StatusOK, st, "%s: %v", action, r)
	var out []map[string]any
	for _, it := range r["channel"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func TestDialRingsThenBridgesThenLeavesARecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{Seed: true, CallAnswerDelay: 5 * time.Second})
		post := direct(u)
		cookie := login(t, post, testPassword)

		_, st := call(t, post, "dialExtension", "cookie", cookie, "caller", "1000", "callee", "1003")
		require.Equal(t, StatusOK, st)
		ringing := channelsOf(t, post, cookie, "listUnBridgedChannels")
		require.Len(t, ringing, 1)
		assert.Equal(t, "Ringing", ringing[0]["state"])
		assert.Regexp(t, `^PJSIP/1000-[0-9a-f]{8}$`, ringing[0]["channel"])
		assert.Equal(t, "1003", ringing[0]["connectednum"], "the number being reached: all the lists say of the destination")
		assert.Len(t, channelsOf(t, post, cookie, "listBridgedChannels"), 1, "only the seeded call")

		time.Sleep(5 * time.Second)
		assert.Empty(t, channelsOf(t, post, cookie, "listUnBridgedChannels"))
		bridged := channelsOf(t, post, cookie, "listBridgedChannels")
		require.Len(t, bridged, 2)
		b := bridged[1]
		assert.Equal(t, ringing[0]["channel"], b["channel1"])
		assert.Regexp(t, `^PJSIP/1003-`, b["channel2"])

		time.Sleep(30 * time.Second)
		_, st = call(t, post, "Hangup", "cookie", cookie, "channel", b["channel1"])
		require.Equal(t, StatusOK, st)
		_, st = call(t, post, "Hangup", "cookie", cookie, "channel", b["channel2"])
		assert.Equal(t, StatusNoSuchItem, st, "the other leg ended with it")

		ctype, out := raw(t, post, "action", "cdrapi", "cookie", cookie, "format", "json", "caller", "1000")
		assert.Contains(t, ctype, "application/json")
		var cdr struct {
			Root []map[string]string `json:"cdr_root"`
		}
		require.NoError(t, json.Unmarshal(out, &cdr), "%s", out)
		require.Len(t, cdr.Root, 1)
		assert.Equal(t, "ANSWERED", cdr.Root[0]["disposition"])
		assert.Equal(t, "35", cdr.Root[0]["duration"])
		assert.Equal(t, "30", cdr.Root[0]["billsec"])
		file := strings.TrimSuffix(cdr.Root[0]["recordfiles"], "@")

		ctype, wav := raw(t, post, "action", "recapi", "cookie", cookie, "filedir", "monitor", "filename", file)
		assert.Equal(t, "audio/x-wav", ctype)
		assert.Equal(t, "RIFF", string(wav[:4]))
	})
}

func TestRawActionsFailWithTheEnvelope(t *testing.T) {
	u := New(Config{Seed: true})
	post := direct(u)
	cookie := login(t, post, testPassword)
	tests := []struct {
		name   string
		kv     []any
		status int // -999: not an envelope, an empty cdr list
	}{
		{"cdrapi without a cookie", []any{"action", "cdrapi", "format", "json"}, StatusCookieError},
		{"recapi without a cookie", []any{"action", "recapi", "filedir", "monitor", "filename", "x.wav"}, StatusCookieError},
		{"recapi unknown file", []any{"action", "recapi", "cookie", cookie, "filedir", "monitor", "filename", "x.wav"}, StatusNoSuchItem},
		{"recapi path in the name", []any{"action", "recapi", "cookie", cookie, "filedir", "monitor", "filename", "../x.wav"}, StatusInvalidParams},
		{"cdrapi bad time: an empty list", []any{"action", "cdrapi", "cookie", cookie, "startTime", "yesterday"}, -999},
		{"cdrapi too many records: an empty list", []any{"action", "cdrapi", "cookie", cookie, "numRecords", "5000"}, -999},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, out := raw(t, post, tc.kv...)
			if tc.status == -999 {
				assert.JSONEq(t, `{"cdr_root":[]}`, string(out))
				return
			}
			var env struct {
				Status int `json:"status"`
			}
			require.NoError(t, json.Unmarshal(out, &env), "%s", out)
			assert.Equal(t, tc.status, env.Status)
		})
	}
}

func TestCallControlChangesState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{Seed: true, CallAnswerDelay: time.Second})
		post := direct(u)
		cookie := login(t, post, testPassword)
		_, st := call(t, post, "dialOutbound", "cookie", cookie, "caller", "1005", "outbound", "0612345678")
		require.Equal(t, StatusOK, st, "the unit accepts the dial of an internal-only extension")
		time.Sleep(2 * time.Second)
		assert.Len(t, u.LiveCalls(), 1, "and then drops the call silently")

		_, st = call(t, post, "dialExtension", "cookie", cookie, "caller", "1000", "callee", "1001")
		require.Equal(t, StatusOK, st)
		time.Sleep(2 * time.Second)
		c := u.LiveCalls()[1]
		for _, step := range []struct {
			action      string
			held, muted bool
		}{{"hold", true, false}, {"mute", true, true}, {"unhold", false, true}, {"Unmute", false, false}} {
			_, st = call(t, post, step.action, "cookie", cookie, "channel", c.ChannelA)
			require.Equal(t, StatusOK, st, step.action)
			got := u.LiveCalls()[1]
			assert.Equal(t, step.held, got.Held, step.action)
			assert.Equal(t, step.muted, got.Muted, step.action)
		}
		_, st = call(t, post, "callTransfer", "cookie", cookie, "channel", c.ChannelB, "extension", "1003")
		require.Equal(t, StatusOK, st)
		got := u.LiveCalls()[1]
		assert.Equal(t, c.ChannelB, got.ChannelA, "the transferred party keeps its channel")
		assert.Equal(t, "1003", got.Callee)
		assert.False(t, got.Answered, "1003 rings first")
		_, st = call(t, post, "hold", "cookie", cookie, "channel", c.ChannelA)
		assert.Equal(t, StatusNoSuchItem, st, "the caller's leg is gone")
	})
}

// Callbarge takes the roles the UCM's web GUI sends (FACTS.md): exten is the monitored extension,
// the owner of channel; barge-exten is the supervisor, optionally with @0 or @1.
func TestCallbargeRoles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{Seed: true, CallAnswerDelay: time.Second})
		post := direct(u)
		cookie := login(t, post, testPassword)
		_, st := call(t, post, "dialExtension", "cookie", cookie, "caller", "1000", "callee", "1001")
		require.Equal(t, StatusOK, st)
		time.Sleep(2 * time.Second)
		c := u.LiveCalls()[1]
		barge := func(kv ...any) int {
			_, st := call(t, post, "callbarge", append([]any{"cookie", cookie, "channel", c.ChannelA}, kv...)...)
			return st
		}
		tests := []struct {
			name string
			kv   []any
			want int
		}{
			{"unknown mode", []any{"exten", "1000", "barge-exten", "1003@0", "mode", "X"}, StatusInvalidValue},
			{"no supervisor", []any{"exten", "1000", "mode", "w"}, StatusInvalidParams},
			{"the supervisor in exten, as the roles once were swapped", []any{"exten", "1003", "barge-exten", "1000", "mode", "w"}, StatusInvalidValue},
			{"a party of the call as supervisor", []any{"exten", "1000", "barge-exten", "1001@0", "mode", ""}, StatusInvalidValue},
			{"bad suffix", []any{"exten", "1000", "barge-exten", "1003@2", "mode", ""}, StatusInvalidValue},
			{"unknown supervisor", []any{"exten", "1000", "barge-exten", "1099@0", "mode", ""}, StatusNoSuchItem},
			{"the GUI's whisper", []any{"exten", "1000", "barge-exten", "1003@1", "mode", "w"}, StatusOK},
		}
		for _, tc := range tests {
			assert.Equal(t, tc.want, barge(tc.kv...), tc.name)
		}
		got := u.LiveCalls()[1]
		assert.Equal(t, []Barge{{Supervisor: "1003", Monitored: "1000", Mode: "w", Ask: "1"}}, got.Barges)
		assert.Equal(t, []string{"1003:w"}, got.Bargers)
		spies := channelsOf(t, post, cookie, "listUnBridgedChannels")
		require.Len(t, spies, 1)
		assert.Regexp(t, `^PJSIP/1003-`, spies[0]["channel"], "the supervisor's phone is rung")
		assert.Equal(t, "ChanSpy", spies[0]["service"])
	})
}

// A unit writes its times as its own wall clock, without a zone, and reads cdrapi's filters the
// same way (FACTS.md): with the unit's clock on New York time, a call answered at 15:00 UTC shows
// 10:00 (winter) and is found by a filter written in New York time.
func TestTimesAreTheUnitsWallClock(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Until(time.Date(2026, 1, 15, 15, 0, 0, 0, time.UTC)))
		u := New(Config{Seed: true, CallAnswerDelay: time.Second, TimeZone: ny})
		post := direct(u)
		cookie := login(t, post, testPassword)
		_, st := call(t, post, "dialExtension", "cookie", cookie, "caller", "1000", "callee", "1001")
		require.Equal(t, StatusOK, st)
		ringing := channelsOf(t, post, cookie, "listUnBridgedChannels")
		require.Len(t, ringing, 1)
		assert.Equal(t, "2026-01-15 10:00:00", ringing[0]["alloc_time"])
		time.Sleep(time.Second)
		bridged := channelsOf(t, post, cookie, "listBridgedChannels")
		require.Len(t, bridged, 2)
		assert.Equal(t, "2026-01-15 10:00:01", bridged[1]["bridge_time"])
		_, st = call(t, post, "Hangup", "cookie", cookie, "channel", bridged[1]["channel1"])
		require.Equal(t, StatusOK, st)

		starts := func(from string) []string {
			_, out := raw(t, post, "action", "cdrapi", "cookie", cookie, "format", "json", "startTime", from)
			var cdr struct {
				Root []map[string]string `json:"cdr_root"`
			}
			require.NoError(t, json.Unmarshal(out, &cdr), "%s", out)
			var got []string
			for _, r := range cdr.Root {
				got = append(got, r["start"])
			}
			return got
		}
		assert.Equal(t, []string{"2026-01-15 10:00:00"}, starts("2026-01-15T09:59"), "the filter is the unit's wall clock")
		assert.Empty(t, starts("2026-01-15T14:59"), "14:59 is a minute before the call in UTC, but hours after it on the unit's clock")
	})
}

// A channel's alloc_time is when it was allocated and a bridge's bridge_time when it formed:
// a supervisor barging in joins neither, and a transferred party keeps its own channel.
func TestChannelTimesStayPut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Until(time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)))
		u := New(Config{Seed: true, CallAnswerDelay: time.Second})
		post := direct(u)
		cookie := login(t, post, testPassword)
		_, st := call(t, post, "dialExtension", "cookie", cookie, "caller", "1000", "callee", "1001")
		require.Equal(t, StatusOK, st)
		time.Sleep(time.Second)
		bridge := func() map[string]any {
			t.Helper()
			b := channelsOf(t, post, cookie, "listBridgedChannels")
			require.Len(t, b, 2)
			return b[1]
		}
		answered := bridge()
		assert.Equal(t, "2026-01-15 09:00:01", answered["bridge_time"])

		time.Sleep(time.Minute)
		_, st = call(t, post, "callbarge", "cookie", cookie, "channel", answered["channel1"], "exten", "1000", "barge-exten", "1003@0", "mode", "")
		require.Equal(t, StatusOK, st)
		assert.Equal(t, "2026-01-15 09:00:01", bridge()["bridge_time"], "a barger does not move the bridge")
		spies := channelsOf(t, post, cookie, "listUnBridgedChannels")
		require.Len(t, spies, 1)
		assert.Equal(t, "2026-01-15 09:01:01", spies[0]["alloc_time"], "the barger's channel is new")

		time.Sleep(time.Minute)
		_, st = call(t, post, "callTransfer", "cookie", cookie, "channel", answered["channel2"], "extension", "1005")
		require.Equal(t, StatusOK, st)
		var moved map[string]any
		for _, ch := range channelsOf(t, post, cookie, "listUnBridgedChannels") {
			if ch["channel"] == answered["channel2"] {
				moved = ch
			}
		}
		require.NotNil(t, moved, "the transferred party waits for 1005")
		assert.Equal(t, "2026-01-15 09:00:01", moved["alloc_time"], "its channel was allocated when it answered, not when it was transferred")
		time.Sleep(time.Second)
		again := bridge()
		assert.Equal(t, answered["channel2"], again["channel1"])
		assert.Equal(t, answered["uniqueid2"], again["uniqueid1"], "the same channel, the same uniqueid")
		assert.Equal(t, "2026-01-15 09:02:02", again["bridge_time"], "a new bridge")
	})
}
