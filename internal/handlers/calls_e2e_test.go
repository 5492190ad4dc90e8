package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// answerDelay is how long a simulated call rings in these tests: long enough to see it ringing,
// short enough to keep the suite fast.
const answerDelay = 300 * time.Millisecond

func withAnswerDelay(d time.Duration) envOpt {
	return func(_ *sessionpool.UnitConfig, c *ucmsim.Config) { c.CallAnswerDelay = d }
}

type callJSON struct {
	ID   string  `json:"id"`
	Unit string  `json:"unit"`
	From *string `json:"from"`
	To   *struct {
		Type   string `json:"type"`
		Number string `json:"number"`
	} `json:"to"`
	Status     string  `json:"status"`
	CreatedAt  *string `json:"created_at"`
	AnsweredAt *string `json:"answered_at"`
	Channels   []struct {
		Name      string  `json:"name"`
		State     string  `json:"state"`
		Connected *string `json:"connected_number"`
	} `json:"channels"`
}

// doH is e.do with request headers (a JSON body when there is one).
func (e *env) doH(t *testing.T, method, path string, hdr map[string]string, body string) (int, http.Header, []byte) {
	t.Helper()
	ctype := ""
	if body != "" {
		ctype = "application/json"
	}
	var headers []string
	for k, v := range hdr {
		headers = append(headers, k, v)
	}
	return e.doAs(t, adminKey, method, path, ctype, body, headers...)
}

func (e *env) dial(t *testing.T, body string, hdr map[string]string) callJSON {
	t.Helper()
	code, h, b := e.doH(t, "POST", "/v1/units/demo/calls", hdr, body)
	require.Equal(t, http.StatusCreated, code, "POST /calls = %d; body %s", code, b)
	var c callJSON
	require.NoError(t, json.Unmarshal(b, &c))
	assert.Equal(t, "/v1/units/demo/calls/"+c.ID, h.Get("Location"))
	return c
}

// waitStatus polls GET /calls/{id} (bounded) until the call has the wanted status and number of
// channels (2 once bridged).
func (e *env) waitStatus(t *testing.T, id, want string, channels int) callJSON {
	t.Helper()
	var c callJSON
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c = callJSON{}
		code := e.getJSON(t, "/v1/units/demo/calls/"+id, &c)
		require.Equal(t, http.StatusOK, code, "GET call %s", id)
		if c.Status == want && len(c.Channels) == channels {
			return c
		}
	}
	t.Fatalf("call %s never reached status %q with %d channels (last %q, %d)", id, want, channels, c.Status, len(c.Channels))
	return c
}

func liveCallOf(t *testing.T, sim *ucmsim.UCM, channel string) ucmsim.CallState {
	t.Helper()
	for _, c := range sim.LiveCalls() {
		if c.ChannelA == channel || c.ChannelB == channel {
			return c
		}
	}
	t.Fatalf("no live call on channel %s in the simulator", channel)
	return ucmsim.CallState{}
}

func TestCallLifecycle(t *testing.T) {
	e := newEnv(t, withAnswerDelay(answerDelay))

	// Place: the unit rings the caller first.
	c := e.dial(t, `{"from":"1000","to":{"type":"extension","number":"1001"}}`, nil)
	assert.Equal(t, "ringing", c.Status)
	require.Len(t, c.Channels, 1)
	assert.True(t, strings.HasPrefix(c.Channels[0].Name, "PJSIP/1000-"), "the caller's channel: %s", c.Channels[0].Name)
	assert.Equal(t, "1000", *c.From)
	assert.Equal(t, "extension", c.To.Type)
	assert.NotNil(t, c.CreatedAt)
	assert.Nil(t, c.AnsweredAt)
	assert.Equal(t, 1, e.sim.Calls("dialExtension"))

	// The list shows it ringing, then in progress once answered and bridged.
	var list struct {
		Items []callJSON `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls?extension=1000", &list))
	require.Len(t, list.Items, 1)
	assert.Equal(t, c.ID, list.Items[0].ID)
	assert.Equal(t, "ringing", list.Items[0].Status)
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls?extension=1001&status=ringing", &list))
	require.Len(t, list.Items, 1, "the callee takes part while it is being reached")
	c = e.waitStatus(t, c.ID, "in-progress", 2)
	assert.True(t, strings.HasPrefix(c.Channels[1].Name, "PJSIP/1001-"))
	assert.NotNil(t, c.AnsweredAt)
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls?status=in-progress&extension=1000", &list))
	require.Len(t, list.Items, 1)

	// Hold and unhold, mute and unmute: the unit's channel changes state.
	callPath := "/v1/units/demo/calls/" + c.ID
	steps := []struct {
		method, path string
		held, muted  bool
	}{
		{"POST", "/hold", true, false},
		{"POST", "/mute", true, true},
		{"DELETE", "/hold", false, true},
		{"DELETE", "/mute", false, false},
	}
	for _, st := range steps {
		code, _, b := e.do(t, st.method, callPath+st.path, "", "")
		require.Equal(t, http.StatusNoContent, code, "%s %s: %s", st.method, st.path, b)
		live := liveCallOf(t, e.sim, c.Channels[0].Name)
		assert.Equal(t, st.held, live.Held, "%s %s: held", st.method, st.path)
		assert.Equal(t, st.muted, live.Muted, "%s %s: muted", st.method, st.path)
		if live.Held {
			assert.Equal(t, c.Channels[1].Name, live.HeldChannel, "hold plays music to the other party")
		}
		if live.Muted {
			assert.Equal(t, c.Channels[0].Name, live.MutedChannel, "mute silences the party that placed the call")
		}
	}

	// Barge: the supervisor 1003 whispers to the caller, 1000, the monitored extension.
	code, _, b := e.do(t, "POST", callPath+"/barge", "application/json", `{"extension":"1003","mode":"whisper"}`)
	require.Equal(t, http.StatusNoContent, code, "barge: %s", b)
	assert.Equal(t, []ucmsim.Barge{{Supervisor: "1003", Monitored: "1000", Mode: "w", Ask: "0"}},
		liveCallOf(t, e.sim, c.Channels[0].Name).Barges, "callbarge with the GUI's roles")

	// Transfer: 1001 goes to 1002... no: 1002 is unregistered; 1003 then. The caller drops out and
	// the call carries on under the transferred party's channel, with a new id.
	moved := c.Channels[1].Name
	code, h, b := e.do(t, "POST", callPath+"/transfer", "application/json", `{"to":{"type":"extension","number":"1003"}}`)
	require.Equal(t, http.StatusOK, code, "transfer: %s", b)
	var tr callJSON
	require.NoError(t, json.Unmarshal(b, &tr))
	assert.NotEqual(t, c.ID, tr.ID)
	assert.Equal(t, "/v1/units/demo/calls/"+tr.ID, h.Get("Location"))
	assert.Equal(t, moved, tr.Channels[0].Name)
	assert.Equal(t, "1003", tr.To.Number)
	assert.Equal(t, 1, e.sim.Calls("callTransfer"))
	code, _, _ = e.do(t, "GET", callPath, "", "")
	assert.Equal(t, http.StatusNotFound, code, "the caller's leg has ended")
	tr = e.waitStatus(t, tr.ID, "in-progress", 2)
	assert.True(t, strings.HasPrefix(tr.Channels[1].Name, "PJSIP/1003-"))

	// Hang up: both legs; then the call is gone.
	code, _, b = e.do(t, "DELETE", "/v1/units/demo/calls/"+tr.ID, "", "")
	require.Equal(t, http.StatusOK, code, "hangup: %s", b)
	var done callJSON
	require.NoError(t, json.Unmarshal(b, &done))
	assert.Equal(t, "completed", done.Status)
	assert.Empty(t, e.sim.LiveCalls()[1:], "only the seeded call is left")
	for _, m := range []string{"GET", "DELETE"} {
		code, h, b = e.do(t, m, "/v1/units/demo/calls/"+tr.ID, "", "")
		assert.Equal(t, http.StatusNotFound, code, "%s after hangup", m)
		problem(t, h, b)
	}
	code, _, _ = e.do(t, "POST", "/v1/units/demo/calls/"+tr.ID+"/hold", "", "")
	assert.Equal(t, http.StatusNotFound, code)

	// History: one record for the call, its legs in order, typed, with recordings.
	var cdrs struct {
		Items []struct {
			Src         string   `json:"src"`
			Dst         string   `json:"dst"`
			Start       string   `json:"start"`
			Answer      *string  `json:"answer"`
			Duration    *int     `json:"duration"`
			Disposition string   `json:"disposition"`
			Status      string   `json:"status"`
			Recordfiles []string `json:"recordfiles"`
			Legs        []struct {
				Channel    string `json:"channel"`
				ActionType string `json:"action_type"`
				Dst        string `json:"dst"`
				Billsec    *int   `json:"billsec"`
			} `json:"legs"`
		} `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/cdrs?caller=1000", &cdrs))
	require.Len(t, cdrs.Items, 1)
	r := cdrs.Items[0]
	assert.Equal(t, "1000", r.Src)
	assert.Equal(t, "1001", r.Dst)
	assert.Equal(t, "ANSWERED", r.Disposition)
	assert.Equal(t, "completed", r.Status)
	_, err := time.Parse(time.RFC3339, r.Start)
	assert.NoError(t, err, "start is RFC 3339: %q", r.Start)
	require.NotNil(t, r.Duration)
	var actions []string
	for _, l := range r.Legs {
		actions = append(actions, l.ActionType+":"+l.Dst)
		assert.NotNil(t, l.Billsec, "billsec typed")
	}
	assert.Equal(t, []string{"DIAL:1001", "CALLBARGE:1000", "TRANSFER:1003"}, actions)
	require.Len(t, r.Recordfiles, 2, "one recording per answered leg")

	// The recording downloads as WAV with its length.
	resp, err := e.srv.Client().Get(e.srv.URL + "/v1/units/demo/recordings/" + r.Recordfiles[0])
	require.NoError(t, err)
	defer resp.Body.Close()
	wav, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %.200s", wav)
	assert.Equal(t, "audio/wav", resp.Header.Get("Content-Type"))
	assert.EqualValues(t, len(wav), resp.ContentLength)
	assert.Greater(t, len(wav), 44)
	assert.Equal(t, "RIFF", string(wav[:4]))
	assert.Equal(t, "WAVE", string(wav[8:12]))
}

func TestIdempotentDial(t *testing.T) {
	e := newEnv(t, withAnswerDelay(time.Minute))
	key := map[string]string{"Idempotency-Key": "8e03978e-40d5-43e8-bc93-6894a57f9324"}
	body := `{"from":"1000","to":{"type":"extension","number":"1001"}}`

	first := e.dial(t, body, key)
	code, h, b := e.doH(t, "POST", "/v1/units/demo/calls", key, body)
	require.Equal(t, http.StatusCreated, code, "retry: %s", b)
	var again callJSON
	require.NoError(t, json.Unmarshal(b, &again))
	assert.Equal(t, first.ID, again.ID, "the retry returns the first call")
	assert.Equal(t, "true", h.Get("Idempotent-Replayed"))
	assert.Equal(t, 1, e.sim.Calls("dialExtension"), "the unit dialled once")
	assert.Len(t, e.sim.LiveCalls(), 2, "the seeded call and ours")

	// The same key with another body is refused, and nothing is dialled.
	code, h, b = e.doH(t, "POST", "/v1/units/demo/calls", key, `{"from":"1000","to":{"type":"extension","number":"1003"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "body: %s", b)
	p := problem(t, h, b)
	assert.Equal(t, "header.Idempotency-Key", p.Errors[0].Location)
	assert.Equal(t, "urn:ucm-gateway:problem:idempotency-key-reused", p.Type)
	assert.Equal(t, 1, e.sim.Calls("dialExtension"))

	// Without a key, a second POST is a second call.
	second := e.dial(t, body, nil)
	assert.NotEqual(t, first.ID, second.ID)
	assert.Equal(t, 2, e.sim.Calls("dialExtension"))
}

func TestIdempotentDialWhileRunning(t *testing.T) {
	e := newEnv(t, withAnswerDelay(time.Minute))
	e.sim.SetLatency(150 * time.Millisecond) // a dial takes several UCM round trips: ~1 s
	key := map[string]string{"Idempotency-Key": "slow-1"}
	body := `{"from":"1000","to":{"type":"extension","number":"1001"}}`
	var wg sync.WaitGroup
	var firstCode int
	wg.Add(1)
	go func() {
		defer wg.Done()
		firstCode, _, _ = e.doH(t, "POST", "/v1/units/demo/calls", key, body)
	}()
	// The first request claims the key before it calls the unit: once the unit has seen its first
	// call, a retry is concurrent with a request in progress.
	for deadline := time.Now().Add(5 * time.Second); e.sim.TotalCalls() == 0; time.Sleep(5 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the first request never reached the unit")
	}
	code, h, b := e.doH(t, "POST", "/v1/units/demo/calls", key, body)
	assert.Equal(t, http.StatusConflict, code, "a retry while the first runs: %s", b)
	assert.Equal(t, "urn:ucm-gateway:problem:idempotency-key-in-use", problem(t, h, b).Type)
	wg.Wait()
	require.Equal(t, http.StatusCreated, firstCode)
	code, h, _ = e.doH(t, "POST", "/v1/units/demo/calls", key, body)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, "true", h.Get("Idempotent-Replayed"))
	assert.Equal(t, 1, e.sim.Calls("dialExtension"))
}

func TestBadCallInputNeverReachesTheUnit(t *testing.T) {
	const calls = "/v1/units/demo/calls"
	okID := callID("PJSIP/1000-0000002a")
	tests := []struct {
		name       string
		method     string
		path       string
		hdr        map[string]string
		body       string
		wantStatus int
		wantField  string
	}{
		{"no from", "POST", calls, nil, `{"to":{"type":"extension","number":"1001"}}`, 400, "body.from"},
		{"from not an extension number", "POST", calls, nil, `{"from":"10a0","to":{"type":"extension","number":"1001"}}`, 400, "body.from"},
		{"unknown destination type", "POST", calls, nil, `{"from":"1000","to":{"type":"fax","number":"1001"}}`, 400, "body.to.type"},
		{"undialable characters", "POST", calls, nil, `{"from":"1000","to":{"type":"external","number":"555-1234"}}`, 400, "body.to.number"},
		{"letters", "POST", calls, nil, `{"from":"1000","to":{"type":"external","number":"call me"}}`, 400, "body.to.number"},
		{"external symbols for an extension", "POST", calls, nil, `{"from":"1000","to":{"type":"extension","number":"+1001"}}`, 400, "body.to.number"},
		{"a one-digit queue", "POST", calls, nil, `{"from":"1000","to":{"type":"queue","number":"6"}}`, 400, "body.to.number"},
		{"calling itself", "POST", calls, nil, `{"from":"1000","to":{"type":"extension","number":"1000"}}`, 400, "body.to.number"},
		{"unknown field", "POST", calls, nil, `{"from":"1000","to":{"type":"extension","number":"1001"},"record":true}`, 400, "body.record"},
		{"idempotency key too long", "POST", calls, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}, `{"from":"1000","to":{"type":"extension","number":"1001"}}`, 400, "header.Idempotency-Key"},
		{"status not in the vocabulary", "GET", calls + "?status=talking", nil, "", 400, "query.status"},
		{"extension filter not a number", "GET", calls + "?extension=abc", nil, "", 400, "query.extension"},
		{"call id not base64url", "GET", calls + "/abc%2Bdef", nil, "", 400, "path.call"},
		{"call id not a channel", "GET", calls + "/" + callID("no channel here"), nil, "", 400, "path.call"},
		{"hangup with a forged id", "DELETE", calls + "/AAAAAAAA", nil, "", 400, "path.call"},
		{"transfer to an unknown type", "POST", calls + "/" + okID + "/transfer", nil, `{"to":{"type":"queue","number":"6500"}}`, 400, "body.to.type"},
		{"transfer to a short extension", "POST", calls + "/" + okID + "/transfer", nil, `{"to":{"type":"extension","number":"1"}}`, 400, "body.to.number"},
		{"barge in an unknown mode", "POST", calls + "/" + okID + "/barge", nil, `{"extension":"1003","mode":"shout"}`, 400, "body.mode"},
		{"cdrs end before start", "GET", "/v1/units/demo/cdrs?start_time=2025-01-02T00:00:00Z&end_time=2025-01-01T00:00:00Z", nil, "", 400, "query.end_time"},
		{"cdrs time not RFC 3339", "GET", "/v1/units/demo/cdrs?start_time=2025-01-02%2010:00", nil, "", 400, "query.start_time"},
		{"cdrs max below min", "GET", "/v1/units/demo/cdrs?min_duration=60&max_duration=10", nil, "", 400, "query.max_duration"},
		{"cdrs negative duration", "GET", "/v1/units/demo/cdrs?min_duration=-1", nil, "", 400, "query.min_duration"},
		{"cdrs caller with letters", "GET", "/v1/units/demo/cdrs?caller=bob", nil, "", 400, "query.caller"},
		{"cdrs forged page token", "GET", "/v1/units/demo/cdrs?page_token=abc", nil, "", 400, "query.page_token"},
		{"recording with ..", "GET", "/v1/units/demo/recordings/a..wav", nil, "", 400, "path.file"},
		{"recording path escape", "GET", "/v1/units/demo/recordings/..%2Fetc%2Fpasswd", nil, "", 400, "path.file"},
		{"recording name starting with a dot", "GET", "/v1/units/demo/recordings/.hidden", nil, "", 400, "path.file"},
	}
	// One gateway for every case: none of them may reach the unit, which each case checks.
	e := newEnv(t)
	unitCalls := func() int { return e.sim.Counters().Challenges + e.sim.TotalCalls() }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := unitCalls()
			code, h, body := e.doH(t, tc.method, tc.path, tc.hdr, tc.body)
			assert.Equal(t, tc.wantStatus, code, "%s %s = %d; want %d; body %s", tc.method, tc.path, code, tc.wantStatus, body)
			p := problem(t, h, body)
			var locs []string
			for _, fe := range p.Errors {
				locs = append(locs, fe.Location)
			}
			assert.Contains(t, locs, tc.wantField, "problem names the field: %s", body)
			assert.Equal(t, before, unitCalls(), "the unit was called for a request the gateway could refuse itself")
		})
	}
}

// TestDialRefusedBeforeDialling: requests that need the unit's data to judge are refused after
// reading it, and nothing is dialled.
func TestDialRefusedBeforeDialling(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantField  string
	}{
		{"caller does not exist", `{"from":"1009","to":{"type":"extension","number":"1001"}}`, 422, "body.from"},
		{"internal-only caller dialling out", `{"from":"1005","to":{"type":"external","number":"+15551234567"}}`, 422, "body.from"},
		{"callee extension does not exist", `{"from":"1000","to":{"type":"extension","number":"1099"}}`, 422, "body.to.number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			code, h, b := e.doH(t, "POST", "/v1/units/demo/calls", map[string]string{"Idempotency-Key": "k-" + strings.ReplaceAll(tc.name, " ", "-")}, tc.body)
			require.Equal(t, tc.wantStatus, code, "body: %s", b)
			p := problem(t, h, b)
			require.NotEmpty(t, p.Errors)
			assert.Equal(t, tc.wantField, p.Errors[0].Location)
			for _, a := range []string{"dialExtension", "dialOutbound"} {
				assert.Zero(t, e.sim.Calls(a), "%s sent", a)
			}
		})
	}
	// The internal-only extension may still call inside the unit.
	e := newEnv(t, withAnswerDelay(answerDelay))
	c := e.dial(t, `{"from":"1005","to":{"type":"extension","number":"1000"}}`, nil)
	assert.Equal(t, "ringing", c.Status)
}

func TestDialOtherDestinations(t *testing.T) {
	tests := []struct {
		body, action string
		bridged      bool
	}{
		{`{"from":"1000","to":{"type":"external","number":"+15557654321"}}`, "dialOutbound", true},
		{`{"from":"1000","to":{"type":"ivr","number":"7000"}}`, "dialIVR", false},
		{`{"from":"1000","to":{"type":"queue","number":"6500"}}`, "dialQueue", true},
		{`{"from":"1000","to":{"type":"ring_group","number":"6400"}}`, "dialRinggroup", true},
	}
	for _, tc := range tests {
		t.Run(tc.action, func(t *testing.T) {
			e := newEnv(t, withAnswerDelay(50*time.Millisecond))
			c := e.dial(t, tc.body, nil)
			assert.Equal(t, 1, e.sim.Calls(tc.action))
			want := 1
			if tc.bridged {
				want = 2
			}
			c = e.waitStatus(t, c.ID, "in-progress", want)
			if tc.bridged {
				assert.NotNil(t, c.AnsweredAt, "answered and bridged")
			}
		})
	}
}

func TestDialOfUnregisteredPhoneIsReported(t *testing.T) {
	e := newEnv(t)
	code, h, b := e.doH(t, "POST", "/v1/units/demo/calls", nil, `{"from":"1002","to":{"type":"extension","number":"1000"}}`)
	require.Equal(t, http.StatusConflict, code, "body: %s", b)
	p := problem(t, h, b)
	assert.Contains(t, p.Detail, "not registered")
	assert.Equal(t, "urn:ucm-gateway:problem:call-not-started", p.Type)
	assert.Equal(t, 1, e.sim.Calls("dialExtension"))
	var cdrs struct {
		Items []struct {
			Status string `json:"status"`
		} `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/cdrs?caller=1002", &cdrs))
	require.Len(t, cdrs.Items, 1)
	assert.Equal(t, "failed", cdrs.Items[0].Status)
}

func TestSeededCallIsListed(t *testing.T) {
	e := newEnv(t)
	var list struct {
		Items []callJSON `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls", &list))
	require.Len(t, list.Items, 1)
	c := list.Items[0]
	assert.Equal(t, "in-progress", c.Status)
	assert.Equal(t, "+15551234567", *c.From)
	assert.Equal(t, "1001", c.To.Number)
	assert.Equal(t, "extension", c.To.Type)
	assert.NotNil(t, c.CreatedAt, "from the channel's uniqueid")
	for path, want := range map[string]int{
		"/v1/units/demo/calls?extension=1001":                    1,
		"/v1/units/demo/calls?extension=1000":                    0,
		"/v1/units/demo/calls?status=ringing":                    0,
		"/v1/units/demo/calls?status=in-progress&extension=1001": 1,
	} {
		require.Equal(t, http.StatusOK, e.getJSON(t, path, &list))
		assert.Len(t, list.Items, want, path)
	}
	// A supervisor barges into the inbound call: the unit spies on 1001's channel, not the trunk's,
	// and asks the agent first when told to.
	code, _, b := e.do(t, "POST", "/v1/units/demo/calls/"+c.ID+"/barge", "application/json", `{"extension":"1003","mode":"barge","ask_agent_first":true}`)
	require.Equal(t, http.StatusNoContent, code, "body: %s", b)
	assert.Equal(t, []ucmsim.Barge{{Supervisor: "1003", Monitored: "1001", Mode: "B", Ask: "1"}}, e.sim.LiveCalls()[0].Barges)
	code, _, _ = e.do(t, "POST", "/v1/units/demo/calls/"+c.ID+"/barge", "application/json", `{"extension":"1099","mode":"listen"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, code, "an unknown barging extension")
	code, h, b := e.do(t, "POST", "/v1/units/demo/calls/"+c.ID+"/barge", "application/json", `{"extension":"1001","mode":"listen"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, code, "the agent cannot supervise its own call")
	assert.Equal(t, "body.extension", problem(t, h, b).Errors[0].Location)
	assert.Equal(t, 1, e.sim.Calls("callbarge"), "only the valid barge reached the unit")

	// An ended call's id is refused without acting.
	code, _, _ = e.do(t, "DELETE", "/v1/units/demo/calls/"+callID("PJSIP/1000-000000ff"), "", "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Zero(t, e.sim.Calls("Hangup"))
}

func TestTransferOfRingingCallIsRefused(t *testing.T) {
	e := newEnv(t, withAnswerDelay(time.Minute))
	c := e.dial(t, `{"from":"1000","to":{"type":"extension","number":"1001"}}`, nil)
	code, h, b := e.do(t, "POST", "/v1/units/demo/calls/"+c.ID+"/transfer", "application/json", `{"to":{"type":"extension","number":"1003"}}`)
	require.Equal(t, http.StatusConflict, code, "body: %s", b)
	problem(t, h, b)
	assert.Zero(t, e.sim.Calls("callTransfer"))
	// Hanging up a ringing call cancels it.
	code, _, b = e.do(t, "DELETE", "/v1/units/demo/calls/"+c.ID, "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(b), `"status":"canceled"`)
}

func TestCdrPagingAndSessionExpiry(t *testing.T) {
	e := newEnv(t, withAnswerDelay(time.Minute))
	for range 3 {
		c := e.dial(t, `{"from":"1000","to":{"type":"extension","number":"1001"}}`, nil)
		code, _, _ := e.do(t, "DELETE", "/v1/units/demo/calls/"+c.ID, "", "")
		require.Equal(t, http.StatusOK, code)
	}
	// The UCM drops the session: cdrapi answers -6 with the envelope, the pool logs in again once.
	e.sim.ExpireCookies()
	logins := e.sim.Counters().Logins
	var seen int
	path := "/v1/units/demo/cdrs?page_size=2&caller=1000"
	for pages := 0; path != ""; pages++ {
		require.Less(t, pages, 5, "paging does not end")
		code, h, b := e.do(t, "GET", path, "", "")
		require.Equal(t, http.StatusOK, code, "body: %s", b)
		var page struct {
			Items []struct {
				Status string `json:"status"`
			} `json:"items"`
			Next string `json:"next_page_token"`
		}
		require.NoError(t, json.Unmarshal(b, &page))
		for _, it := range page.Items {
			assert.Equal(t, "no-answer", it.Status, "hung up while ringing")
		}
		seen += len(page.Items)
		path = ""
		if page.Next != "" {
			link := h.Get("Link")
			require.NotEmpty(t, link)
			path = link[1:strings.Index(link, ">")]
			assert.Contains(t, path, "caller=1000", "the next link keeps the filters")
		}
	}
	assert.Equal(t, 3, seen)
	assert.Equal(t, logins+1, e.sim.Counters().Logins, "one re-login after -6")

	// A token is bound to its filters.
	_, _, b := e.do(t, "GET", "/v1/units/demo/cdrs?page_size=2&caller=1000", "", "")
	var first struct {
		Next string `json:"next_page_token"`
	}
	require.NoError(t, json.Unmarshal(b, &first))
	code, _, _ := e.do(t, "GET", "/v1/units/demo/cdrs?page_size=2&caller=1001&page_token="+first.Next, "", "")
	assert.Equal(t, http.StatusBadRequest, code)
}

func TestRecordingErrors(t *testing.T) {
	e := newEnv(t)
	code, h, b := e.do(t, "GET", "/v1/units/demo/recordings/auto-1-1000-1001.wav", "", "")
	require.Equal(t, http.StatusNotFound, code, "body: %s", b)
	assert.Equal(t, -16, *problem(t, h, b).UCMStatus, "the unit's JSON error becomes problem+json")

	// The seeded call's recording, fetched after the session expired: one re-login, then audio.
	e.sim.ExpireCookies()
	recs := e.sim.Recordings()
	require.Len(t, recs, 1)
	code, h, b = e.do(t, "GET", "/v1/units/demo/recordings/"+recs[0], "", "")
	require.Equal(t, http.StatusOK, code, "body: %.200s", b)
	assert.Equal(t, "audio/wav", h.Get("Content-Type"))
	assert.Equal(t, "RIFF", string(b[:4]))
	var unit struct {
		InFlight int `json:"in_flight"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo", &unit))
	assert.Zero(t, unit.InFlight, "the download gave its slot back")
}

// Two dials from the same extension at once each get their own call: the correlation prefers the
// new channel connected to the number dialled.
func TestConcurrentDialsFromOneExtension(t *testing.T) {
	e := newEnv(t, withAnswerDelay(time.Minute))
	var wg sync.WaitGroup
	codes, bodies := make([]int, 2), make([][]byte, 2)
	for i, callee := range []string{"1001", "1003"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, bodies[i] = e.doH(t, "POST", "/v1/units/demo/calls", nil, `{"from":"1000","to":{"type":"extension","number":"`+callee+`"}}`)
		}()
	}
	wg.Wait()
	got := make([]callJSON, 2)
	for i := range got {
		require.Equal(t, http.StatusCreated, codes[i], "body: %s", bodies[i])
		require.NoError(t, json.Unmarshal(bodies[i], &got[i]))
	}
	assert.NotEqual(t, got[0].ID, got[1].ID)
	for i, callee := range []string{"1001", "1003"} {
		require.NotNil(t, got[i].Channels[0].Connected)
		assert.Equal(t, callee, *got[i].Channels[0].Connected)
	}
}

// A client that times out and retries with the same key gets the call the first request placed:
// the first request runs to its end without the client.
func TestIdempotentDialSurvivesClientTimeout(t *testing.T) {
	e := newEnv(t, withAnswerDelay(time.Minute))
	e.sim.SetLatency(100 * time.Millisecond) // a dial takes ~0.7 s: several UCM round trips
	body := `{"from":"1000","to":{"type":"extension","number":"1001"}}`
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/units/demo/calls", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "impatient-1")
	req.Header.Set("Authorization", "Bearer "+adminKey)
	impatient := &http.Client{Timeout: 250 * time.Millisecond}
	_, err = impatient.Do(req)
	require.Error(t, err, "the client gave up")

	key := map[string]string{"Idempotency-Key": "impatient-1"}
	var code int
	var h http.Header
	var b []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if code, h, b = e.doH(t, "POST", "/v1/units/demo/calls", key, body); code != http.StatusConflict {
			break
		}
	}
	require.Equal(t, http.StatusCreated, code, "body: %s", b)
	assert.Equal(t, "true", h.Get("Idempotent-Replayed"))
	assert.Equal(t, 1, e.sim.Calls("dialExtension"))
}

// A dial the unit refused (an error status) certainly did not ring anyone: the key does not keep
// that outcome, and the retry dials.
// A dial the unit refused before acting (-47 no permission) is not remembered: the retry runs
// afresh. A dial that failed on the unit's side (-9) may already have rung the phone, so its key
// keeps the outcome and the retry gets the same answer without a second dial.
func TestRefusedDialIsNotRemembered(t *testing.T) {
	for _, tc := range []struct {
		status    int
		wantRetry int
		wantDials int
	}{
		{status: -47, wantRetry: http.StatusCreated, wantDials: 2},
		{status: -9, wantRetry: http.StatusBadGateway, wantDials: 1},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			e := newEnv(t, withAnswerDelay(time.Minute))
			key := map[string]string{"Idempotency-Key": "refused-1"}
			body := `{"from":"1000","to":{"type":"extension","number":"1001"}}`
			e.sim.SetActionError("dialExtension", tc.status)
			code, h, b := e.doH(t, "POST", "/v1/units/demo/calls", key, body)
			require.Equal(t, http.StatusBadGateway, code, "body: %s", b)
			assert.Equal(t, tc.status, *problem(t, h, b).UCMStatus)
			e.sim.SetActionError("dialExtension", 0)
			code, _, b = e.doH(t, "POST", "/v1/units/demo/calls", key, body)
			require.Equal(t, tc.wantRetry, code, "body: %s", b)
			assert.Equal(t, tc.wantDials, e.sim.Calls("dialExtension"))
		})
	}
}

// A call's fields describe the call, not the last thing done to it: answered_at stays when a
// supervisor barges in, created_at stays from the transfer's answer through ringing to the new
// bridge, and a ringing call read back keeps to.type.
func TestCallFieldsStayPut(t *testing.T) {
	e := newEnv(t, withAnswerDelay(answerDelay))
	c := e.dial(t, `{"from":"1000","to":{"type":"extension","number":"1001"}}`, nil)
	var ringing callJSON
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls/"+c.ID, &ringing))
	require.Equal(t, "ringing", ringing.Status)
	require.NotNil(t, ringing.To)
	assert.Equal(t, "extension", ringing.To.Type, "GET of a ringing call keeps to.type")
	var list struct {
		Items []callJSON `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls?status=ringing", &list))
	require.Len(t, list.Items, 1)
	assert.Equal(t, "extension", list.Items[0].To.Type, "and so does the list")

	c = e.waitStatus(t, c.ID, "in-progress", 2)
	require.NotNil(t, c.AnsweredAt)
	// Times have a resolution of one second: let one pass, so a field that moved shows it.
	time.Sleep(1100 * time.Millisecond)
	callPath := "/v1/units/demo/calls/" + c.ID
	code, _, b := e.do(t, "POST", callPath+"/barge", "application/json", `{"extension":"1003","mode":"listen"}`)
	require.Equal(t, http.StatusNoContent, code, "barge: %s", b)
	var barged callJSON
	require.Equal(t, http.StatusOK, e.getJSON(t, callPath, &barged))
	assert.Equal(t, *c.AnsweredAt, *barged.AnsweredAt, "a supervisor barging in does not answer the call again")
	assert.Equal(t, *c.CreatedAt, *barged.CreatedAt)

	code, _, b = e.do(t, "POST", callPath+"/transfer", "application/json", `{"to":{"type":"extension","number":"1005"}}`)
	require.Equal(t, http.StatusOK, code, "transfer: %s", b)
	var tr callJSON
	require.NoError(t, json.Unmarshal(b, &tr))
	require.NotNil(t, tr.CreatedAt)
	var waiting callJSON
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls/"+tr.ID, &waiting))
	assert.Equal(t, *tr.CreatedAt, *waiting.CreatedAt, "created_at while the transfer rings")
	assert.Equal(t, "extension", waiting.To.Type)
	bridged := e.waitStatus(t, tr.ID, "in-progress", 2)
	assert.Equal(t, *tr.CreatedAt, *bridged.CreatedAt, "created_at once the transfer is answered")
}
