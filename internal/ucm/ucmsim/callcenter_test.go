package ucmsim

import (
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The wire shapes FACTS.md gives: list keys, members as one comma-separated string, every
// queue write staged (need_apply), get answering under the item's key.
func TestQueueActions(t *testing.T) {
	u, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)

	r, st := call(t, post, "listQueue", "cookie", cookie, "item_num", "1", "sord", "desc")
	require.Equal(t, StatusOK, st, "%v", r)
	items := r["queue"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, "6501", items[0].(map[string]any)["extension"])
	assert.Equal(t, "1002,1003", items[0].(map[string]any)["members"], "members are one comma-separated string")
	assert.Equal(t, json.Number("2"), r["total_item"])

	r, st = call(t, post, "getQueue", "cookie", cookie, "queue", "6500")
	require.Equal(t, StatusOK, st)
	q := r["queue"].(map[string]any)
	assert.Equal(t, json.Number("30"), q["ringtime"])
	assert.Equal(t, "no", q["enable_agent_login"])

	tests := []struct {
		name   string
		action string
		params []any
		want   int
	}{
		{"add", "addQueue", []any{"extension", "6502", "queue_name", "Billing", "strategy", "linear", "members", "1004,1005", "ringtime", "15"}, StatusOK},
		{"add a number in use", "addQueue", []any{"extension", "6502", "queue_name", "B2", "strategy", "linear"}, StatusItemExists},
		{"add over an extension", "addQueue", []any{"extension", "1000", "queue_name", "B3", "strategy", "linear"}, StatusItemExists},
		{"add without a strategy", "addQueue", []any{"extension", "6503", "queue_name", "B4"}, StatusInvalidParams},
		{"unknown strategy", "addQueue", []any{"extension", "6503", "queue_name", "B4", "strategy", "wrandom"}, StatusInvalidValue},
		{"a member that is no extension", "addQueue", []any{"extension", "6503", "queue_name", "B4", "strategy", "random", "members", "1000,1999"}, StatusInvalidValue},
		{"an unknown parameter", "updateQueue", []any{"queue", "6502", "ring_time", "10"}, StatusInvalidParams},
		{"ringtime out of range", "updateQueue", []any{"queue", "6502", "ringtime", "0"}, StatusInvalidValue},
		{"update", "updateQueue", []any{"queue", "6502", "maxlen", 4, "enable_agent_login", "yes"}, StatusOK},
		{"update a missing queue", "updateQueue", []any{"queue", "6599", "maxlen", "4"}, StatusNoSuchItem},
		{"delete a missing queue", "deleteQueue", []any{"queue", "6599"}, StatusNoSuchItem},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, st := call(t, post, tc.action, append([]any{"cookie", cookie}, tc.params...)...)
			require.Equal(t, tc.want, st, "%v", r)
			if tc.want == StatusOK {
				assert.Equal(t, "yes", r["need_apply"])
			}
		})
	}
	q, found := u.Queue("6502")
	require.True(t, found)
	assert.Equal(t, map[string]any{"extension": "6502", "queue_name": "Billing", "strategy": "linear", "members": "1004,1005",
		"ringtime": 15, "wrapuptime": 0, "maxlen": 4, "retry": 5, "queue_timeout": 0, "musicclass": "default", "enable_agent_login": "yes"}, q)
	assert.True(t, u.PendingApply())
	_, st = call(t, post, "deleteQueue", "cookie", cookie, "queue", "6502")
	require.Equal(t, StatusOK, st)
	_, found = u.Queue("6502")
	assert.False(t, found)
}

func TestQueueAgentActions(t *testing.T) {
	u, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	tests := []struct {
		name   string
		action string
		params []any
		want   int
	}{
		{"log in an agent of a queue with agent login", "loginLogoffQueueAgent", []any{"operatetype", "login", "interface", "1003", "extension", "6501"}, StatusOK},
		{"log in a static member", "loginLogoffQueueAgent", []any{"operatetype", "login", "interface", "1000", "extension", "6500"}, StatusInvalidValue},
		{"log in someone who is not an agent", "loginLogoffQueueAgent", []any{"operatetype", "login", "interface", "1000", "extension", "6501"}, StatusNoSuchItem},
		{"log in to a missing queue", "loginLogoffQueueAgent", []any{"operatetype", "login", "interface", "1003", "extension", "6599"}, StatusNoSuchItem},
		{"the queue named as FACTS.md guesses", "loginLogoffQueueAgent", []any{"operatetype", "login", "interface", "1003", "queue", "6501"}, StatusInvalidParams},
		{"an unknown operation", "loginLogoffQueueAgent", []any{"operatetype", "signin", "interface", "1003", "extension", "6501"}, StatusInvalidValue},
		{"pause", "pauseUnpauseQueueAgent", []any{"operatetype", "pause", "interface", "1003"}, StatusOK},
		{"pause someone in no queue", "pauseUnpauseQueueAgent", []any{"operatetype", "pause", "interface", "1004"}, StatusNoSuchItem},
		{"pause with a queue", "pauseUnpauseQueueAgent", []any{"operatetype", "pause", "interface", "1003", "queue", "6501"}, StatusInvalidParams},
		{"pause without an operation", "pauseUnpauseQueueAgent", []any{"interface", "1003"}, StatusInvalidParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, st := call(t, post, tc.action, append([]any{"cookie", cookie}, tc.params...)...)
			require.Equal(t, tc.want, st, "%v", r)
			if tc.want == StatusOK {
				assert.Equal(t, "no", r["need_apply"], "an operation stages nothing")
			}
		})
	}
	st, found := u.QueueAgent("6501", "1003")
	require.True(t, found)
	assert.Equal(t, AgentState{LoggedIn: true, Paused: true}, st)
	st, _ = u.QueueAgent("6500", "1000")
	assert.Equal(t, AgentState{LoggedIn: true}, st, "a static member is always in the queue")
	assert.False(t, u.PendingApply())
}

// queueapi answers without the envelope, every value a string; errors keep the envelope.
func TestQueueAPI(t *testing.T) {
	u, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	day := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	u.AddQueueStats("6501", day, QueueDayStats{Total: 10, Answered: 8, Abandoned: 2, WaitSeconds: 125, TalkSeconds: 1000, WithinSLA: 7})
	u.AddQueueStats("6501", day.AddDate(0, 0, 1), QueueDayStats{Total: 6, Answered: 6, WaitSeconds: 30, TalkSeconds: 600, WithinSLA: 6})

	ctype, out := raw(t, post, "action", "queueapi", "cookie", cookie, "format", "json", "queue", "6501", "startTime", "2025-03-04", "endTime", "2025-03-05")
	assert.Equal(t, "application/json; charset=UTF-8", ctype)
	var reply map[string]map[string][]map[string]any
	require.NoError(t, json.Unmarshal(out, &reply), "%s", out)
	assert.Equal(t, map[string]map[string][]map[string]any{"root_statistics": {"queue": {{
		"queue": "6501", "total_calls": "16", "answered_calls": "14", "answered_rate": "87.50", "abandoned_calls": "2",
		"abandoned_rate": "12.50", "avg_wait": "9.69", "avg_talk": "114.29", "sla_rate": "81.25", "transfer_out_calls": "0",
	}}}}, reply)

	_, out = raw(t, post, "action", "queueapi", "cookie", cookie, "format", "json", "queue", "6599", "startTime", "2025-03-04", "endTime", "2025-03-05")
	assert.JSONEq(t, `{"root_statistics":{"queue":[]}}`, string(out), "an unknown queue matches nothing")
	for name, kv := range map[string][]any{
		"a date-time":       {"startTime", "2025-03-04T00:00", "endTime", "2025-03-05"},
		"csv":               {"format", "csv"},
		"no end":            {"endTime", nil},
		"end before start":  {"startTime", "2025-03-06"},
		"unknown parameter": {"agent", "1000"},
	} {
		params := map[string]any{"action": "queueapi", "cookie": cookie, "format": "json", "startTime": "2025-03-04", "endTime": "2025-03-05"}
		for i := 0; i < len(kv); i += 2 {
			params[kv[i].(string)] = kv[i+1]
			if kv[i+1] == nil {
				delete(params, kv[i].(string))
			}
		}
		var flat []any
		for k, v := range params {
			flat = append(flat, k, v)
		}
		_, out := raw(t, post, flat...)
		var env struct{ Status int }
		require.NoError(t, json.Unmarshal(out, &env), "%s: %s", name, out)
		assert.Equal(t, StatusInvalidParams, env.Status, "%s: %s", name, out)
	}
	_, out = raw(t, post, "action", "queueapi", "cookie", "sid1-1", "format", "json")
	assert.JSONEq(t, `{"response":{},"status":-6}`, string(out))
}

// A caller waiting in a queue is an unbridged channel in the Queue application, connected to
// the queue's number, until it is hung up.
func TestQueueCallerWaitsUntilHungUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{Seed: true})
		post := direct(u)
		cookie := login(t, post, testPassword)
		since := time.Now().Add(-40 * time.Second)
		ch, err := u.AddQueueCaller("6500", "+15550001111", since)
		require.NoError(t, err)
		_, err = u.AddQueueCaller("6599", "+15550001111", since)
		require.Error(t, err)
		time.Sleep(time.Hour)
		cookie = login(t, post, testPassword)
		var waiting []map[string]any
		for _, it := range channelsOf(t, post, cookie, "listUnBridgedChannels") {
			if it["channel"] == ch {
				waiting = append(waiting, it)
			}
		}
		require.Len(t, waiting, 1, "still waiting an hour later")
		assert.Equal(t, "Queue", waiting[0]["service"])
		assert.Equal(t, "6500", waiting[0]["connectednum"])
		assert.Equal(t, "+15550001111", waiting[0]["callernum"])
		assert.Equal(t, since.UTC().Format(ucmTime), waiting[0]["alloc_time"])
		_, st := call(t, post, "Hangup", "cookie", cookie, "channel", ch)
		require.Equal(t, StatusOK, st)
		for _, it := range channelsOf(t, post, cookie, "listUnBridgedChannels") {
			assert.NotEqual(t, ch, it["channel"])
		}
	})
}

func TestDialFromOutside(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{Seed: true, CallAnswerDelay: 2 * time.Second})
		post := direct(u)
		cookie := login(t, post, testPassword)
		for _, tc := range []struct {
			action string
			params []any
			want   int
		}{
			{"dialOutboundTwo", []any{"outcaller", "+15550001111", "outcallee", "+15550002222"}, StatusOK},
			{"dialIVROutbound", []any{"outcaller", "+15550003333", "ivrnumber", "7000"}, StatusOK},
			{"dialIVROutbound", []any{"outcaller", "+15550003333", "ivrnumber", "7999"}, StatusNoSuchItem},
			{"dialOutboundTwo", []any{"outcaller", "+15550001111"}, StatusInvalidParams},
			{"dialOutboundTwo", []any{"caller", "1000", "outcallee", "+15550002222"}, StatusInvalidParams},
		} {
			_, st := call(t, post, tc.action, append([]any{"cookie", cookie}, tc.params...)...)
			require.Equal(t, tc.want, st, "%s %v", tc.action, tc.params)
		}
		ringing := map[string]map[string]any{}
		for _, it := range channelsOf(t, post, cookie, "listUnBridgedChannels") {
			ringing[it["callernum"].(string)] = it
		}
		require.Contains(t, ringing, "+15550001111")
		assert.Regexp(t, `^PJSIP/trunk_1-`, ringing["+15550001111"]["channel"])
		assert.Equal(t, "Ringing", ringing["+15550001111"]["state"])
		assert.Equal(t, "+15550002222", ringing["+15550001111"]["connectednum"])

		time.Sleep(3 * time.Second)
		bridges := channelsOf(t, post, cookie, "listBridgedChannels")
		var found bool
		for _, b := range bridges {
			if b["callerid1"] == "+15550001111" {
				found = true
				assert.Equal(t, "+15550002222", b["callerid2"])
				assert.Regexp(t, `^PJSIP/trunk_1-`, b["channel2"])
			}
		}
		assert.True(t, found, "the two outside numbers are bridged: %v", bridges)
		for _, it := range channelsOf(t, post, cookie, "listUnBridgedChannels") {
			if it["callernum"] == "+15550003333" {
				assert.Equal(t, "Up", it["state"])
				assert.Equal(t, "IVR", it["service"])
			}
		}
	})
}

func TestRoutingAndUserActions(t *testing.T) {
	u, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	for action, key := range map[string]string{
		"listInboundRoute": "inbound_route", "listOutboundRoute": "outbound_route", "listIVR": "ivr",
		"listPaginggroup": "paginggroup", "listExtensionGroup": "extension_group", "listUser": "user",
	} {
		r, st := call(t, post, action, "cookie", cookie)
		require.Equal(t, StatusOK, st, action)
		assert.NotEmpty(t, r[key], "%s lists under %q", action, key)
		assert.Contains(t, r, "total_item")
	}
	r, st := call(t, post, "getOutboundRoute", "cookie", cookie, "outbound_route", "2")
	require.Equal(t, StatusOK, st)
	assert.Equal(t, "branch", r["outbound_route"].(map[string]any)["outbound_rt_name"])
	_, st = call(t, post, "getInboundRoute", "cookie", cookie, "inbound_route", "9")
	assert.Equal(t, StatusNoSuchItem, st)
	_, st = call(t, post, "getInboundRoute", "cookie", cookie)
	assert.Equal(t, StatusInvalidParams, st)
	r, st = call(t, post, "getIVR", "cookie", cookie, "ivr", "7000")
	require.Equal(t, StatusOK, st)
	assert.Equal(t, "Main menu", r["ivr"].(map[string]any)["ivr_name"])
	_, st = call(t, post, "getIVR", "cookie", cookie, "ivr_id", "7000")
	assert.Equal(t, StatusInvalidParams, st, "the guessed parameter only")
	r, st = call(t, post, "deleteIVR", "cookie", cookie, "ivr", "7000")
	require.Equal(t, StatusOK, st)
	assert.Equal(t, "yes", r["need_apply"])
	_, st = call(t, post, "getIVR", "cookie", cookie, "ivr", "7000")
	assert.Equal(t, StatusNoSuchItem, st)

	_, st = call(t, post, "updateUser", "cookie", cookie, "user_name", "1002", "first_name", "Carla", "last_name", "Diaz-Ruiz", "email", "carla@example.com", "department", "Sales")
	require.Equal(t, StatusOK, st)
	user, _ := u.User("1002")
	assert.Equal(t, "Diaz-Ruiz", user["last_name"])
	assert.Equal(t, "Sales", user["department"])
	ext, _ := u.Extension("1002")
	assert.Equal(t, "Carla Diaz-Ruiz", ext["fullname"], "the caller id name follows the user's names")
	assert.True(t, u.PendingApply())
	for name, kv := range map[string][]any{
		"an unknown field":  {"user_name", "1002", "phone_number", "1"},
		"a bad e-mail":      {"user_name", "1002", "email", "carla"},
		"nothing to change": {"user_name", "1002"},
		"a missing user":    {"user_name", "1999", "email", "x@example.com"},
	} {
		_, st := call(t, post, "updateUser", append([]any{"cookie", cookie}, kv...)...)
		assert.NotEqual(t, StatusOK, st, name)
	}
}
