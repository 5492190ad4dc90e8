package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// eventSources are the two ways the gateway learns what happens on a unit; every test in this
// table runs against both, so they must give the same events for the same calls.
var eventSources = []struct {
	name string
	make func(sourceEnv) events.Source
}{
	{"poll", func(se sourceEnv) events.Source { return events.NewPoller(se.opts, 50*time.Millisecond) }},
	{"websocket", func(se sourceEnv) events.Source { return wsSource(se, simWebPassword) }},
}

func wsSource(se sourceEnv, password string) *events.WebSocket {
	url, err := ucm.EventsURL(se.simURL)
	if err != nil {
		panic(err)
	}
	return events.NewWebSocket(se.opts, events.WebSocketOptions{URL: url, TLS: ucm.ReadyTLS(se.tls), Username: simWebUser, Password: password,
		Heartbeat: 200 * time.Millisecond, Debounce: 20 * time.Millisecond, BackoffBase: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
}

// newEventsEnv is a gateway with live events over the given source; the source lingers, so a
// client that reconnects finds the events it missed.
func newEventsEnv(t *testing.T, src func(sourceEnv) events.Source, a access, opts ...envOpt) *env {
	t.Helper()
	a.events = src
	if a.hub.Linger == 0 {
		a.hub.Linger = time.Minute
	}
	e := newAccessEnv(t, a, opts...)
	e.sim.SetCallAnswerDelay(300 * time.Millisecond)
	return e
}

// ready opens a stream and waits until the unit's source watches it (its first unit.state).
// A filtered stream is opened once an unfiltered one has seen the source start.
func (e *env) readyStream(t *testing.T, path string, headers ...string) *sseClient {
	t.Helper()
	if strings.Contains(path, "types=") {
		e.readyStream(t, path[:strings.IndexByte(path, '?')], headers...).close()
		return e.stream(t, path, headers...)
	}
	c := e.stream(t, path, headers...)
	c.until(t, events.TypeUnitState, 10*time.Second)
	return c
}

// dialExt dials from one extension to another and returns the call's id.
func (e *env) dialExt(t *testing.T, from, to string) string {
	t.Helper()
	return e.dial(t, fmt.Sprintf(`{"from":%q,"to":{"type":"extension","number":%q}}`, from, to), nil).ID
}

func TestEventsOfADial(t *testing.T) {
	for _, src := range eventSources {
		t.Run(src.name, func(t *testing.T) {
			e := newEventsEnv(t, src.make, access{})
			s := e.readyStream(t, "/v1/units/demo/events?types=call.*,cdr.created")
			id := e.dialExt(t, "1000", "1001")

			got := s.until(t, events.TypeCallAnswered, 10*time.Second)
			answeredID := mustInt(t, got[len(got)-1].ID)
			require.Equal(t, []string{events.TypeCallRinging, events.TypeCallAnswered}, types(got))
			ringing := got[0].call(t)
			assert.Equal(t, id, ringing.Call.ID, "call.ringing carries the REST call id")
			assert.Equal(t, api.CallEventDataDirectionInternal, ringing.Direction)
			answered := got[1].call(t)
			assert.Equal(t, id, answered.Call.ID)
			assert.Equal(t, api.CallStatusInProgress, answered.Call.Status)

			// The event's call is what GET …/calls/{call} answers.
			var rest api.Call
			require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls/"+id, &rest))
			restJSON, _ := json.Marshal(rest)
			evJSON, _ := json.Marshal(answered.Call)
			assert.JSONEq(t, string(restJSON), string(evJSON))

			code, _, body := e.do(t, http.MethodDelete, "/v1/units/demo/calls/"+id, "", "")
			require.Equal(t, http.StatusOK, code, "%s", body)
			got = s.until(t, events.TypeCdrCreated, 10*time.Second)
			require.Equal(t, []string{events.TypeCallEnded, events.TypeCdrCreated}, types(got))
			ended := got[0].call(t)
			assert.Equal(t, id, ended.Call.ID)
			assert.Equal(t, api.CallStatusCompleted, ended.Call.Status)
			require.NotNil(t, ended.Duration)
			require.NotNil(t, ended.TalkTime)

			var cdr struct {
				Data api.CdrCreatedEventData `json:"data"`
			}
			require.NoError(t, json.Unmarshal([]byte(got[1].Data), &cdr))
			assert.Equal(t, id, cdr.Data.CallID)
			require.NotNil(t, cdr.Data.Cdr.Disposition)
			assert.Equal(t, api.CdrDispositionAnswered, *cdr.Data.Cdr.Disposition)

			// Ids grow with every event.
			assert.Greater(t, mustInt(t, got[1].ID), mustInt(t, got[0].ID))
			assert.Greater(t, mustInt(t, got[0].ID), answeredID)
		})
	}
}

func mustInt(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err, "id %q", s)
	return n
}

func TestEventsFanOutCostsOneSource(t *testing.T) {
	for _, src := range eventSources {
		t.Run(src.name, func(t *testing.T) {
			e := newEventsEnv(t, src.make, access{})
			// Dial only once the source watches the unit: a dial before its first reading is
			// part of that reading, not news (the race detector and a loaded machine make that
			// first reading slow enough to lose the race).
			e.readyStream(t, "/v1/units/demo/events").close()
			const clients = 100
			streams := make([]*sseClient, clients)
			var wg sync.WaitGroup
			for i := range streams {
				wg.Add(1)
				go func() {
					defer wg.Done()
					streams[i] = e.stream(t, "/v1/units/demo/events?types=call.*")
				}()
			}
			wg.Wait()
			require.Equal(t, clients, e.live.Hub("demo").Subscribers())
			id := e.dialExt(t, "1000", "1001")
			for _, s := range streams {
				m := s.until(t, events.TypeCallRinging, 10*time.Second)
				assert.Equal(t, id, m[len(m)-1].call(t).Call.ID)
			}
			assert.Equal(t, 1, strings.Count(e.logs.String(), `"msg":"event source started"`), "one source for every subscriber")
			if src.name == "websocket" {
				assert.Equal(t, 1, e.sim.WebSocketConns(), "one socket for every subscriber")
				assert.Equal(t, 1, e.sim.Counters().WSLogins)
			}
			if src.name == "poll" {
				// One poll loop: about one channel-list reading per interval, however many clients.
				before := e.sim.Calls("listUnBridgedChannels")
				time.Sleep(500 * time.Millisecond)
				rounds := e.sim.Calls("listUnBridgedChannels") - before
				assert.LessOrEqual(t, rounds, 14, "500ms at a 50ms interval is at most ~10 readings (plus the dial's own), not one per client")
			}
			for _, s := range streams {
				s.close()
			}
			// The last subscriber leaving stops the source once the linger passes.
			require.Eventually(t, func() bool { return e.live.Hub("demo").Subscribers() == 0 }, 5*time.Second, 10*time.Millisecond)
		})
	}
}

func TestEventsResumeWithLastEventID(t *testing.T) {
	for _, src := range eventSources {
		t.Run(src.name, func(t *testing.T) {
			e := newEventsEnv(t, src.make, access{})
			keep := e.readyStream(t, "/v1/units/demo/events") // keeps the source running meanwhile
			s := e.stream(t, "/v1/units/demo/events")
			id := e.dialExt(t, "1000", "1001")
			ringing := s.until(t, events.TypeCallRinging, 10*time.Second)
			last := ringing[len(ringing)-1].ID
			s.close()

			// While the client is away the call is answered and hung up.
			all := keep.until(t, events.TypeCallAnswered, 10*time.Second)
			code, _, _ := e.do(t, http.MethodDelete, "/v1/units/demo/calls/"+id, "", "")
			require.Equal(t, http.StatusOK, code)
			all = append(all, keep.until(t, events.TypeCdrCreated, 10*time.Second)...)
			var missed []string
			for _, m := range all {
				if mustInt(t, m.ID) > mustInt(t, last) {
					missed = append(missed, m.ID+" "+m.Event)
				}
			}
			require.NotEmpty(t, missed)

			back := e.stream(t, "/v1/units/demo/events", "Last-Event-ID", last)
			var got []string
			for range missed {
				m := back.next(t, 5*time.Second)
				got = append(got, m.ID+" "+m.Event)
			}
			assert.Equal(t, missed, got, "exactly the events it missed, in order")

			// A resume point the buffer no longer holds gets a sync event first.
			old := e.stream(t, "/v1/units/demo/events", "Last-Event-ID", "12")
			m := old.next(t, 5*time.Second)
			assert.Equal(t, events.TypeSync, m.Event)
			assert.Equal(t, all[len(all)-1].ID, m.ID, "sync resumes from the newest event")
		})
	}
}

func TestEventsAccess(t *testing.T) {
	other, otherHash := mustGenerateKey()
	noRead, noReadHash := mustGenerateKey()
	e := newEventsEnv(t, eventSources[0].make, access{
		extraUnits: []string{"branch"},
		keys: []auth.Key{
			{Name: "branch-only", Hashes: []string{otherHash}, Scopes: []auth.Scope{auth.ScopeRead}, Units: []string{"branch"}},
			{Name: "calls-only", Hashes: []string{noReadHash}, Scopes: []auth.Scope{auth.ScopeCalls}, Units: []string{auth.AllUnits}},
		},
	})
	cases := []struct {
		name, key, path string
		want            int
	}{
		{"other unit's stream", other, "/v1/units/demo/events", http.StatusNotFound},
		{"other unit named", other, "/v1/events?unit=demo", http.StatusNotFound},
		{"no read scope", noRead, "/v1/units/demo/events", http.StatusForbidden},
		{"no key", "", "/v1/events", http.StatusUnauthorized},
		{"unknown type", adminKey, "/v1/units/demo/events?types=call.rang", http.StatusBadRequest},
		{"bad Last-Event-ID", adminKey, "/v1/units/demo/events", http.StatusBadRequest},
		{"unknown unit", adminKey, "/v1/events?unit=nope", http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.name == "bad Last-Event-ID" {
				hdr = []string{"Last-Event-ID", "yesterday"}
			}
			code, h, body := e.doAs(t, c.key, http.MethodGet, c.path, "", "", hdr...)
			require.Equal(t, c.want, code, "GET %s = %d; want %d (%s)", c.path, code, c.want, body)
			p := problem(t, h, body)
			if c.want == http.StatusBadRequest {
				require.NotEmpty(t, p.Errors)
				assert.Contains(t, []string{"query.types", "header.Last-Event-ID"}, p.Errors[0].Location)
			}
		})
	}

	// A key for branch only, following every unit it may see, gets branch's events and none of demo's.
	e.warm(t, "demo", "branch")
	s := e.readyStream(t, "/v1/events", "Authorization", "Bearer "+other)
	watchDemo := e.readyStream(t, "/v1/units/demo/events")
	e.dialExt(t, "1000", "1001")
	watchDemo.until(t, events.TypeCallRinging, 10*time.Second)
	// What the branch-only stream carries in the same time (every unit's source reads every
	// 50 ms, so demo's call would be on it by now) is branch's alone.
	for _, m := range s.within(300 * time.Millisecond) {
		assert.Equal(t, "branch", m.decode(t).Unit, "a key without demo saw its event %s", m.Data)
	}
}

func TestEventsMultiUnitCursor(t *testing.T) {
	e := newEventsEnv(t, eventSources[0].make, access{extraUnits: []string{"branch"}})
	e.warm(t, "demo", "branch")
	s := e.stream(t, "/v1/events?unit=demo&unit=branch")
	got := s.until(t, events.TypeUnitState, 10*time.Second)
	got = append(got, s.until(t, events.TypeUnitState, 10*time.Second)...)
	cursor := got[len(got)-1].ID
	assert.Regexp(t, `^(demo|branch):\d+,(demo|branch):\d+$`, cursor, "the id names a position per unit")
	s.close()
	e.dialExt(t, "1000", "1001")
	back := e.stream(t, "/v1/events?unit=demo&unit=branch", "Last-Event-ID", cursor)
	m := back.until(t, events.TypeCallRinging, 10*time.Second)
	for _, before := range m {
		assert.NotEqual(t, events.TypeUnitState, before.Event, "the units' first events came before the cursor: not replayed")
	}
}

func TestEventsStreamOutlivesWriteTimeoutAndEndsOnShutdown(t *testing.T) {
	e := newEventsEnv(t, eventSources[0].make, access{sseHeartbeat: 50 * time.Millisecond, writeTimeout: 200 * time.Millisecond})
	s := e.readyStream(t, "/v1/units/demo/events")
	select {
	case <-time.After(600 * time.Millisecond):
	case <-s.done:
		t.Fatal("the stream was cut")
	}
	select {
	case c := <-s.comments:
		assert.Equal(t, "heartbeat", c)
	case <-time.After(time.Second):
		t.Fatal("no heartbeat")
	}
	require.NoError(t, e.live.Close(t.Context()))
	assert.True(t, s.ended(5*time.Second), "the stream ends when the gateway shuts down")
}

// warm logs in to each unit in turn: the harness's extra units share one simulated API user, and
// the simulator (like a unit) lets one challenge at a time stand per user.
func (e *env) warm(t *testing.T, units ...string) {
	t.Helper()
	for _, u := range units {
		require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/"+u+"/system/status", nil), "warm %s", u)
	}
}

func TestEventsSocketDropIsResynchronised(t *testing.T) {
	var src *events.WebSocket
	e := newEventsEnv(t, func(se sourceEnv) events.Source {
		src = wsSource(se, simWebPassword)
		// Reconnects after a drop come 0.5–1 s later: long enough to change calls meanwhile.
		*src = *events.NewWebSocket(se.opts, events.WebSocketOptions{URL: mustEventsURL(se.simURL), TLS: ucm.ReadyTLS(se.tls),
			Username: simWebUser, Password: simWebPassword, Heartbeat: time.Second, Debounce: 20 * time.Millisecond, BackoffBase: 4 * time.Second})
		return src
	}, access{})
	s := e.readyStream(t, "/v1/units/demo/events?types=call.*,unit.state")
	first := e.dialExt(t, "1000", "1001")
	s.until(t, events.TypeCallAnswered, 10*time.Second)

	e.sim.DropWebSockets()
	// While the socket is down, the first call ends and another starts.
	code, _, _ := e.do(t, http.MethodDelete, "/v1/units/demo/calls/"+first, "", "")
	require.Equal(t, http.StatusOK, code)
	second := e.dialExt(t, "1003", "1005")

	got := s.until(t, events.TypeCallRinging, 10*time.Second)
	var ended, ringing bool
	for _, m := range got {
		switch m.Event {
		case events.TypeCallEnded:
			ended = ended || m.call(t).Call.ID == first
		case events.TypeCallRinging:
			ringing = m.call(t).Call.ID == second
		}
	}
	assert.True(t, ended, "the call that ended while the socket was down is ended: %v", types(got))
	assert.True(t, ringing, "the call that started while it was down is reported")
	assert.Equal(t, 2, e.sim.Counters().WSLogins, "one reconnect")
	assert.Equal(t, 1, e.sim.WebSocketConns())
}

func mustEventsURL(base string) string {
	u, err := ucm.EventsURL(base)
	if err != nil {
		panic(err)
	}
	return u
}

func TestEventsWrongEventsPasswordCostsOneAttempt(t *testing.T) {
	var src *events.WebSocket
	e := newEventsEnv(t, func(se sourceEnv) events.Source {
		src = wsSource(se, "not-the-web-password")
		return src
	}, access{})
	s := e.stream(t, "/v1/units/demo/events?types=unit.state")
	m := s.next(t, 10*time.Second)
	var st struct {
		Data api.UnitStateEventData `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(m.Data), &st))
	assert.Equal(t, api.UnitStateEventDataStateLoginStopped, st.Data.State)
	assert.Equal(t, api.UnitStateEventDataSourceWebsocket, st.Data.Source)
	time.Sleep(500 * time.Millisecond) // ten back-offs' worth: no further attempt may come
	assert.Equal(t, 1, e.sim.Counters().WSFailedLogins, "a refused login is never retried by itself")
	require.Error(t, src.Stopped())

	src.Reset() // an operator's reset allows exactly one new attempt
	require.Eventually(t, func() bool { return e.sim.Counters().WSFailedLogins == 2 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, 2, e.sim.Counters().WSFailedLogins)
}

func TestInboundCallControl(t *testing.T) {
	for _, src := range eventSources {
		t.Run(src.name, func(t *testing.T) {
			e := newEventsEnv(t, src.make, access{})
			e.sim.SetCallControl(true)
			s := e.readyStream(t, "/v1/units/demo/events?types=call.*")
			inbound := func() api.CallEventData {
				_, err := e.sim.StartInboundCall(inboundTrunk(t, e), "+15557654321", "1001")
				require.NoError(t, err)
				got := s.until(t, events.TypeCallRinging, 10*time.Second)
				d := got[len(got)-1].call(t)
				require.Equal(t, api.CallEventDataDirectionInbound, d.Direction)
				require.True(t, d.Trunk.IsSpecified() && !d.Trunk.IsNull(), "the trunk is named")
				return d
			}
			post := func(path, body string) (int, Problem) {
				ctype := ""
				if body != "" {
					ctype = "application/json"
				}
				code, h, b := e.do(t, http.MethodPost, path, ctype, body)
				var p Problem
				if code >= 400 {
					p = problem(t, h, b)
				}
				return code, p
			}

			c := inbound()
			code, _ := post("/v1/units/demo/calls/"+c.Call.ID+"/accept", "")
			require.Equal(t, http.StatusOK, code)
			s.until(t, events.TypeCallAnswered, 10*time.Second)
			// Now answered: it is no longer a ringing inbound call.
			code, p := post("/v1/units/demo/calls/"+c.Call.ID+"/refuse", "")
			assert.Equal(t, http.StatusConflict, code)
			assert.Equal(t, "urn:ucm-gateway:problem:call-not-ringing-inbound", p.Type)

			c = inbound()
			code, _ = post("/v1/units/demo/calls/"+c.Call.ID+"/refuse", "")
			require.Equal(t, http.StatusNoContent, code)
			got := s.until(t, events.TypeCallEnded, 10*time.Second)
			assert.Equal(t, c.Call.ID, got[len(got)-1].call(t).Call.ID)

			c = inbound()
			code, _ = post("/v1/units/demo/calls/"+c.Call.ID+"/transfer", `{"to":{"type":"extension","number":"1003"}}`)
			require.Equal(t, http.StatusOK, code)
			require.Eventually(t, func() bool {
				var now api.Call
				return e.getJSON(t, "/v1/units/demo/calls/"+c.Call.ID, &now) == http.StatusOK && now.To != nil && now.To.Number == "1003"
			}, 5*time.Second, 20*time.Millisecond, "the inbound call now rings 1003")
			assert.Equal(t, 1, e.sim.Calls("transferNumberInbound"))

			// An internal call is not inbound: refused before the unit is asked.
			id := e.dialExt(t, "1000", "1005")
			before := e.sim.Calls("acceptCall")
			code, p = post("/v1/units/demo/calls/"+id+"/accept", "")
			assert.Equal(t, http.StatusConflict, code)
			assert.Equal(t, "urn:ucm-gateway:problem:call-not-ringing-inbound", p.Type)
			assert.Equal(t, before, e.sim.Calls("acceptCall"), "nothing was sent to the unit")
		})
	}
}

// inboundTrunk is the name of a SIP trunk of the simulated unit.
func inboundTrunk(t *testing.T, e *env) string {
	t.Helper()
	var list struct {
		Items []struct {
			TrunkName string `json:"trunk_name"`
		} `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/trunks/sip", &list))
	require.NotEmpty(t, list.Items)
	return list.Items[0].TrunkName
}

func TestEventsCarryNoSecrets(t *testing.T) {
	e := newEventsEnv(t, eventSources[1].make, access{})
	s := e.readyStream(t, "/v1/units/demo/events")
	id := e.dialExt(t, "1000", "1001")
	var seen []string
	for _, m := range s.until(t, events.TypeCallAnswered, 10*time.Second) {
		seen = append(seen, m.Data)
	}
	e.do(t, http.MethodDelete, "/v1/units/demo/calls/"+id, "", "")
	for _, m := range s.until(t, events.TypeCdrCreated, 10*time.Second) {
		seen = append(seen, m.Data)
	}
	_, _, metricsBody := e.do(t, http.MethodGet, "/metrics", "", "")
	for where, text := range map[string]string{"events": strings.Join(seen, "\n"), "logs": e.logs.String(), "metrics": string(metricsBody)} {
		for _, secret := range []string{simPassword, simWebPassword, adminKey} {
			assert.False(t, strings.Contains(text, secret), "%s carry a secret", where)
		}
		assert.NotRegexp(t, `sid\d+-\d+`, text, "%s carry a cookie", where)
	}
	assert.Contains(t, string(metricsBody), `ucm_gateway_event_source_state{source="websocket",state="connected",unit="demo"} 1`)
	assert.Contains(t, string(metricsBody), `ucm_gateway_events_emitted_total{type="call.ringing",unit="demo"} 1`)
	assert.Contains(t, string(metricsBody), `ucm_gateway_event_subscribers{unit="demo"} 1`)
}

func TestEventsUnitState(t *testing.T) {
	e := newEventsEnv(t, eventSources[0].make, access{})
	s := e.readyStream(t, "/v1/units/demo/events?types=unit.state")
	state := func() api.UnitStateEventData {
		var ev struct {
			Data api.UnitStateEventData `json:"data"`
		}
		m := s.next(t, 10*time.Second)
		require.Equal(t, events.TypeUnitState, m.Event)
		require.NoError(t, json.Unmarshal([]byte(m.Data), &ev))
		return ev.Data
	}
	assert.Equal(t, api.UnitStateEventDataStateReady, state().State, "a new stream starts with the unit's state")
	e.sim.SetActionError("listUnBridgedChannels", -9)
	st := state()
	assert.Equal(t, api.UnitStateEventDataStateFailing, st.State)
	require.NotNil(t, st.Detail)
	assert.Contains(t, *st.Detail, "listUnBridgedChannels")
	e.sim.SetActionError("listUnBridgedChannels", 0)
	assert.Equal(t, api.UnitStateEventDataStateReady, state().State, "and ready again once readings work")
	assert.Equal(t, 1, strings.Count(e.logs.String(), `"msg":"event source could not read the unit"`), "one warning per change, not per failed poll")
}

func TestEventsStalledSocketIsReplaced(t *testing.T) {
	e := newEventsEnv(t, eventSources[1].make, access{}) // heartbeat 200ms: silent for 600ms is stalled
	s := e.readyStream(t, "/v1/units/demo/events?types=call.*,unit.state")
	require.Equal(t, events.TypeUnitState, s.next(t, 5*time.Second).Event, "the stream starts with the unit's state")
	e.sim.StallWebSockets(true)
	id := e.dialExt(t, "1000", "1001") // the hung socket does not say
	got := s.until(t, events.TypeUnitState, 10*time.Second)
	assert.Empty(t, only(got, events.TypeCallRinging), "nothing came through the stalled socket")
	e.sim.StallWebSockets(false)
	got = s.until(t, events.TypeCallRinging, 10*time.Second)
	assert.Equal(t, id, got[len(got)-1].call(t).Call.ID, "the new socket's resync reports the call")
	require.Eventually(t, func() bool { return e.sim.WebSocketConns() == 1 }, 5*time.Second, 10*time.Millisecond, "the hung socket was closed, not left open beside the new one")
	assert.GreaterOrEqual(t, e.sim.Counters().WSLogins, 2)
}

// The event socket logs in with the web user, the channel lists come through the API user: when
// only the API user is refused, the socket stays (one events login), the stream says why, and the
// lists are tried again on the same socket.
func TestEventsSocketKeptWhileTheAPIIsRefused(t *testing.T) {
	e := newEventsEnv(t, eventSources[1].make, access{}, withGatewayPassword("not-the-api-password"))
	s := e.stream(t, "/v1/units/demo/events?types=unit.state")
	var st struct {
		Data api.UnitStateEventData `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(s.next(t, 10*time.Second).Data), &st))
	assert.Equal(t, api.UnitStateEventDataStateLoginStopped, st.Data.State, "the API user's login is refused: %+v", st.Data)
	time.Sleep(1500 * time.Millisecond) // a retry of the lists on the same socket
	c := e.sim.Counters()
	assert.Equal(t, 1, c.WSLogins, "one events login, not one per retry")
	assert.Equal(t, 1, c.FailedLogins, "and one refused API login: the pool's login stop holds")
}

func TestEventsQueueWaiting(t *testing.T) {
	for _, src := range eventSources {
		t.Run(src.name, func(t *testing.T) {
			e := newEventsEnv(t, src.make, access{})
			s := e.readyStream(t, "/v1/units/demo/events?types=queue.waiting")
			channel, err := e.sim.AddQueueCaller("6501", "+15550003333", time.Now())
			require.NoError(t, err)
			var ev struct {
				Data api.QueueWaitingEventData `json:"data"`
			}
			require.NoError(t, json.Unmarshal([]byte(s.next(t, 10*time.Second).Data), &ev))
			assert.Equal(t, api.QueueWaitingEventData{Queue: "6501", Waiting: 1, Previous: ptr(0)}, ev.Data)
			var waiting struct {
				Items []api.WaitingCaller `json:"items"`
			}
			require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/queues/6501/waiting", &waiting))
			require.Len(t, waiting.Items, 1, "the event and GET …/waiting agree")
			assert.Equal(t, channel, waiting.Items[0].Channel)
		})
	}
}
