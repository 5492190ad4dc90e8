package ucmsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testWebUser     = "supervisor"
	testWebPassword = "Web-Pa55word"
)

// wsConfig is a seeded unit with one web user and quick calls.
func wsConfig() Config {
	return Config{Seed: true, WebUsers: map[string]string{testWebUser: testWebPassword},
		CallAnswerDelay: 200 * time.Millisecond}
}

// wsClient is a test's end of a WebSocket to the simulator, over real TLS.
type wsClient struct {
	t      *testing.T
	c      *websocket.Conn
	seq    int
	events [][]any // notify batches read while waiting for a response
}

// dialWS opens a WebSocket to srv trusting only its certificate.
func dialWS(t *testing.T, srv *Server) *wsClient {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(srv.CertPEM()))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	url := "wss://" + strings.TrimPrefix(srv.URL(), "https://") + "/websockify"
	c, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)
	if res.Body != nil {
		_ = res.Body.Close()
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &wsClient{t: t, c: c}
}

// read returns the next frame, decoded keeping numbers as json.Number.
func (w *wsClient) read() (typ string, message any) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.t.Context(), 10*time.Second)
	defer cancel()
	mt, data, err := w.c.Read(ctx)
	require.NoError(w.t, err)
	require.Equal(w.t, websocket.MessageText, mt)
	var f struct {
		Type    string `json:"type"`
		Message any    `json:"message"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	require.NoError(w.t, dec.Decode(&f), "%s", data)
	return f.Type, f.Message
}

// sendRaw writes one text frame as is.
func (w *wsClient) sendRaw(frame string) {
	w.t.Helper()
	require.NoError(w.t, w.c.Write(w.t.Context(), websocket.MessageText, []byte(frame)))
}

// response reads frames up to the next response, keeping the notify
// batches it passes for nextEvents.
func (w *wsClient) response() map[string]any {
	w.t.Helper()
	for {
		typ, msg := w.read()
		if typ == "response" {
			return msg.(map[string]any)
		}
		require.Equal(w.t, "request", typ)
		w.events = append(w.events, msg.([]any))
	}
}

// do sends a request with a fresh transactionid and returns its response
// message and status.
func (w *wsClient) do(action string, kv ...any) (map[string]any, int) {
	w.t.Helper()
	w.seq++
	tid := fmt.Sprintf("t%d", w.seq)
	msg := map[string]any{"transactionid": tid, "action": action}
	for i := 0; i+1 < len(kv); i += 2 {
		msg[kv[i].(string)] = kv[i+1]
	}
	b, err := json.Marshal(map[string]any{"type": "request", "message": msg})
	require.NoError(w.t, err)
	w.sendRaw(string(b))
	r := w.response()
	require.Equal(w.t, tid, r["transactionid"], "%v", r)
	return r, num(r["status"])
}

// login runs challenge and login for user with password.
func (w *wsClient) login(user, password string) (map[string]any, int) {
	w.t.Helper()
	r, st := w.do("challenge", "username", user, "version", "1")
	if st != StatusOK {
		return r, st
	}
	return w.do("login", "username", user, "token", md5hex(r["challenge"].(string)+password))
}

// subscribed logs in as the test web user and subscribes to names.
func (w *wsClient) subscribed(names ...string) *wsClient {
	w.t.Helper()
	_, st := w.login(testWebUser, testWebPassword)
	require.Equal(w.t, StatusOK, st)
	list := make([]any, len(names))
	for i, n := range names {
		list[i] = n
	}
	_, st = w.do("subscribe", "eventnames", list)
	require.Equal(w.t, StatusOK, st)
	return w
}

// nextEvents returns the next notify batch as eventname -> eventbody.
func (w *wsClient) nextEvents() map[string][]map[string]any {
	w.t.Helper()
	var batch []any
	if len(w.events) > 0 {
		batch, w.events = w.events[0], w.events[1:]
	} else {
		typ, msg := w.read()
		require.Equal(w.t, "request", typ, "%v", msg)
		batch = msg.([]any)
	}
	out := map[string][]map[string]any{}
	for _, raw := range batch {
		n := raw.(map[string]any)
		require.Equal(w.t, "notify", n["action"])
		name := n["eventname"].(string)
		require.NotContains(w.t, out, name, "one notify item per event name in a batch")
		for _, it := range n["eventbody"].([]any) {
			out[name] = append(out[name], it.(map[string]any))
		}
	}
	return out
}

// quiet checks that no event is pending: a heartbeat's response comes
// after the events of every change made before it.
func (w *wsClient) quiet() {
	w.t.Helper()
	_, st := w.do("heartbeat")
	require.Equal(w.t, StatusOK, st)
	require.Empty(w.t, w.events, "no event expected")
}

func TestWebSocketHandshake(t *testing.T) {
	u, srv, post := startHTTPS(t, wsConfig())
	w := dialWS(t, srv)

	r, st := w.do("challenge", "username", testWebUser, "version", "1")
	require.Equal(t, StatusOK, st, "%v", r)
	assert.Regexp(t, `^\d{16}$`, r["challenge"])
	r, st = w.do("login", "username", testWebUser, "token", md5hex(r["challenge"].(string)+testWebPassword))
	require.Equal(t, StatusOK, st, "%v", r)
	cookie, _ := r["cookie"].(string)
	assert.Regexp(t, `^sid\d+-\d+$`, cookie)

	_, st = w.do("subscribe", "eventnames", []any{"ActiveCallStatus", "ExtensionStatus"})
	assert.Equal(t, StatusOK, st)
	_, st = w.do("subscribe", "eventnames", []any{"PbxStatus", "TrunkStatus", "CallQueueStatus", "PresenceStatus",
		"VoiceMailStatus", "ResourceUsageStatus", "InterfaceStatus", "EquipmentCapacityStatus"})
	assert.Equal(t, StatusOK, st, "every documented name")
	_, st = w.do("heartbeat")
	assert.Equal(t, StatusOK, st)

	_, st = call(t, post, "getSystemStatus", "cookie", cookie)
	assert.Equal(t, StatusCookieError, st, "the socket's cookie is not an API cookie")

	c := u.Counters()
	assert.Equal(t, 1, c.WSChallenges)
	assert.Equal(t, 1, c.WSLogins)
	assert.Equal(t, 1, c.WSHeartbeats)
	assert.Zero(t, c.WSFailedLogins)
	assert.Zero(t, c.Challenges+c.Logins, "API counters untouched")
	assert.Equal(t, 1, u.WebSocketConns())
}

func TestWebSocketDefaultWebUser(t *testing.T) {
	_, srv, _ := startHTTPS(t, Config{})
	w := dialWS(t, srv)
	_, st := w.login("admin", "ucm-demo-web-password")
	assert.Equal(t, StatusOK, st)
}

func TestWebSocketRefusesBadRequests(t *testing.T) {
	u, srv, post := startHTTPS(t, wsConfig())
	w := dialWS(t, srv)

	frames := []struct {
		name, frame string
		wantTID     any
	}{
		{"not JSON", `hello`, nil},
		{"not a request", `{"type":"response","message":{"transactionid":"x1","status":0}}`, "x1"},
		{"message not an object", `{"type":"request","message":[{"action":"heartbeat"}]}`, nil},
		{"no transactionid", `{"type":"request","message":{"action":"challenge","username":"supervisor"}}`, nil},
		{"numeric transactionid", `{"type":"request","message":{"transactionid":7,"action":"challenge","username":"supervisor"}}`, nil},
		{"no action", `{"type":"request","message":{"transactionid":"x2"}}`, "x2"},
		{"API parameter name for the user", `{"type":"request","message":{"transactionid":"x3","action":"challenge","user":"supervisor"}}`, "x3"},
	}
	for _, tc := range frames {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.sendRaw(tc.frame)
			r := w.response()
			assert.Equal(t, StatusInvalidParams, num(r["status"]), "%v", r)
			assert.Equal(t, tc.wantTID, r["transactionid"])
		})
	}
	w.t = t

	// Before login everything but challenge and login is a missing session.
	for _, action := range []string{"subscribe", "heartbeat", "getSystemStatus", "logout"} {
		_, st := w.do(action, "eventnames", []any{"ActiveCallStatus"})
		assert.Equal(t, StatusCookieError, st, action)
	}
	_, st := w.do("login", "username", testWebUser, "token", "00")
	assert.Equal(t, StatusWrongPassword, st, "a login without a challenge is a wrong token")

	// After login, HTTPS-API actions (and anything else) are unsupported,
	// and nothing is done.
	_, st = w.login(testWebUser, testWebPassword)
	require.Equal(t, StatusOK, st)
	calls := len(u.LiveCalls())
	for _, action := range []string{"getSystemStatus", "listAccount", "dialExtension", "Hangup", "logout", "noSuchAction"} {
		_, st := w.do(action, "caller", "1000", "callee", "1003", "channel", "PJSIP/1000-00000001")
		assert.Equal(t, StatusUnsupported, st, action)
	}
	assert.Len(t, u.LiveCalls(), calls, "the dial on the socket did nothing")

	subs := []struct {
		name       string
		eventnames any
		want       int
	}{
		{"unknown name fails the whole subscribe", []any{"ExtensionStatus", "NoSuchStatus"}, StatusSystemError},
		{"names are case-sensitive", []any{"activecallstatus"}, StatusSystemError},
		{"empty list", []any{}, StatusInvalidParams},
		{"a string, not a list", "ActiveCallStatus", StatusInvalidParams},
		{"a number in the list", []any{"ActiveCallStatus", 3}, StatusInvalidParams},
	}
	for _, tc := range subs {
		_, st := w.do("subscribe", "eventnames", tc.eventnames)
		assert.Equal(t, tc.want, st, tc.name)
	}
	// The failed subscribes subscribed nothing: a change sends no event.
	_, st = call(t, post, "dialExtension", "cookie", login(t, post, testPassword), "caller", "1000", "callee", "1003")
	require.Equal(t, StatusOK, st)
	w.quiet()
}

func TestWebSocketLoginFailuresShareTheAPIBan(t *testing.T) {
	cfg := wsConfig()
	cfg.MaxLoginAttempts = 5
	u, srv, post := startHTTPS(t, cfg)
	w := dialWS(t, srv)

	// A success resets the count, whichever door it came through.
	_, st := w.login(testWebUser, "wrong")
	require.Equal(t, StatusWrongPassword, st)
	_, st = w.login(testWebUser, testWebPassword)
	require.Equal(t, StatusOK, st)

	apiBad := func() (map[string]any, int) {
		r, _ := call(t, post, "challenge", "user", "api")
		return call(t, post, "login", "user", "api", "token", md5hex(r["challenge"].(string)+"wrong"))
	}
	steps := []struct {
		name       string
		try        func() (map[string]any, int)
		wantStatus int
		wantRemain int
	}{
		{"wrong web password", func() (map[string]any, int) { return w.login(testWebUser, "wrong") }, StatusWrongPassword, 4},
		{"the API user is no web user", func() (map[string]any, int) { return w.login("api", testPassword) }, StatusNoSuchUser, 3},
		{"API login", apiBad, StatusWrongPassword, 2},
		{"unknown web user", func() (map[string]any, int) { return w.login("nobody", "x") }, StatusNoSuchUser, 1},
	}
	for _, s := range steps {
		before := u.Counters()
		r, st := s.try()
		assert.Equal(t, s.wantStatus, st, s.name)
		assert.Equal(t, s.wantRemain, num(r["remain_num"]), "%s: exactly one attempt used", s.name)
		after := u.Counters()
		assert.Equal(t, 1, after.WSFailedLogins+after.FailedLogins-before.WSFailedLogins-before.FailedLogins, s.name)
	}
	r, st := w.login(testWebUser, "wrong")
	assert.Equal(t, StatusLoginRestriction, st, "the attempt that exhausts them")
	assert.Equal(t, 1800, num(r["remain_time"]))

	r, st = w.do("challenge", "username", testWebUser)
	assert.Equal(t, StatusLoginForbidden, st)
	assert.InDelta(t, 1800, num(r["remain_time"]), 2)
	_, st = w.do("login", "username", testWebUser, "token", "00")
	assert.Equal(t, StatusLoginForbidden, st)
	_, st = call(t, post, "challenge", "user", "api")
	assert.Equal(t, StatusLoginForbidden, st, "the API is banned too")

	u.LiftBan()
	_, st = w.login(testWebUser, testWebPassword)
	assert.Equal(t, StatusOK, st)
	login(t, post, testPassword)
	c := u.Counters()
	assert.Equal(t, 6, c.WSFailedLogins, "4 wrong logins, 1 exhausting, 1 banned")
	assert.Equal(t, 2, c.WSLogins)
}

func TestWebSocketIdleTimeout(t *testing.T) {
	cfg := wsConfig()
	cfg.WSIdleTimeout = 300 * time.Millisecond
	u, srv, _ := startHTTPS(t, cfg)
	w := dialWS(t, srv)
	w.subscribed(EventActiveCallStatus)

	// Heartbeats at a third of the timeout keep the socket well past it.
	deadline := time.Now().Add(4 * cfg.WSIdleTimeout)
	for time.Now().Before(deadline) {
		time.Sleep(cfg.WSIdleTimeout / 3)
		_, st := w.do("heartbeat")
		require.Equal(t, StatusOK, st)
	}
	assert.Equal(t, 1, u.WebSocketConns())

	// Silence: the unit drops the socket.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, _, err := w.c.Read(ctx)
	require.Error(t, err)
	assert.NoError(t, ctx.Err(), "dropped by the unit, not by the test's timeout")
	assert.Eventually(t, func() bool { return u.WebSocketConns() == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestDropWebSockets(t *testing.T) {
	u, srv, _ := startHTTPS(t, wsConfig())
	a := dialWS(t, srv).subscribed(EventActiveCallStatus)
	b := dialWS(t, srv)
	_, st := b.do("challenge", "username", testWebUser)
	require.Equal(t, StatusOK, st)
	require.Equal(t, 2, u.WebSocketConns())

	u.DropWebSockets()
	assert.Zero(t, u.WebSocketConns())
	for _, w := range []*wsClient{a, b} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, _, err := w.c.Read(ctx)
		assert.Error(t, err)
		var ce websocket.CloseError
		assert.NotErrorAs(t, err, &ce, "no close frame, as with a network cut")
		assert.NoError(t, ctx.Err())
		cancel()
	}

	// The unit takes new sockets at once.
	c := dialWS(t, srv).subscribed(EventActiveCallStatus)
	c.quiet()
	assert.Equal(t, 1, u.WebSocketConns())
}

func TestBinaryFrameDropsTheSocket(t *testing.T) {
	u, srv, _ := startHTTPS(t, wsConfig())
	w := dialWS(t, srv)
	require.NoError(t, w.c.Write(t.Context(), websocket.MessageBinary, []byte(`{"type":"request"}`)))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, _, err := w.c.Read(ctx)
	require.Error(t, err)
	assert.NoError(t, ctx.Err())
	assert.Eventually(t, func() bool { return u.WebSocketConns() == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestWebSocketNeedsTheUpgrade(t *testing.T) {
	_, srv, _ := startHTTPS(t, wsConfig())
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(srv.CertPEM()))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	res, err := hc.Get(srv.URL() + "/websockify")
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.GreaterOrEqual(t, res.StatusCode, 400, "a plain GET is no handshake")
}
