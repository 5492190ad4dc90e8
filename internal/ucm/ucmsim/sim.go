// Package ucmsim is an in-memory simulator of the HTTPS JSON API of a
// Grandstream UCM6xxx IP-PBX.
//
// It exists so that the gateway's UCM client can be tested (and demonstrated
// with --demo) without real hardware. It is an independent implementation of
// the vendor guide and of the facts gathered about real units
// (shared/ucm-api/FACTS.md); it deliberately imports nothing else from this
// repository, so that it checks the client instead of mirroring it.
//
// Every reply is HTTP 200 with a {"response":{…},"status":N} envelope,
// negative statuses meaning errors, exactly as a real unit answers. The only
// exceptions are the transport-level ones a real unit also produces: 404/405
// for other paths and methods, and the HTML "403 Forbidden" page a
// blacklisted client sees (see FailNextHTML). cdrapi, queueapi and recapi,
// as on real units, answer without the envelope when they succeed (bare
// JSON, audio).
//
// The live-events WebSocket (FACTS.md, "Live events") is at /websockify on
// the same server (ws.go, wsproto.go, events.go).
//
// The simulator never starts goroutines on its own and reads the clock only
// through time.Now, so its /api can run inside a testing/synctest bubble;
// expiry of cookies, bans, background applies, call progress and scheduled
// inbound calls is evaluated lazily on use. The only goroutines are those
// of an open WebSocket (its handler and its reader), which end with it.
package ucmsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"sync"
	"time"
)

// Status codes the simulator answers with. They are the codes real units use
// (FACTS.md, "Error codes"); they are exported so tests can name them instead
// of repeating magic numbers.
const (
	StatusOK               = 0   // success
	StatusInvalidParams    = -1  // invalid parameters, unknown parameter, unknown action
	StatusCookieError      = -6  // cookie missing, unknown or expired; on the WebSocket: not logged in
	StatusSystemError      = -9  // abnormal system error; on the WebSocket: a subscribe naming an unknown event
	StatusInvalidValue     = -15 // a parameter has a value outside the documented range
	StatusNoSuchItem       = -16 // the extension / user / channel does not exist
	StatusUnsupported      = -19 // an HTTPS-API action sent on the WebSocket
	StatusWrongPassword    = -37 // wrong account or password (token)
	StatusItemExists       = -44 // item already added
	StatusNoPermission     = -47 // no permission: acceptCall/refuseCall without Call Control
	StatusLoginRestriction = -68 // this failed login exhausted the attempts: client banned
	StatusLoginForbidden   = -70 // client is banned; login refused
	StatusNoSuchUser       = -71 // API username does not exist
)

// Config sets up a simulated unit. Zero values mean the documented defaults,
// so Config{} is a usable unit with the factory-like API account.
type Config struct {
	// Username is the API user of the HTTPS API settings page. Default "api".
	Username string
	// Password is that user's password. Default "ucm-demo-password".
	Password string
	// CookieIdleTimeout is how long an unused cookie stays valid (the guide's
	// "Cookie times out in 10 minutes"). Default 10 minutes.
	CookieIdleTimeout time.Duration
	// MaxLoginAttempts is the number of failed logins before the client is
	// blacklisted. Default 5.
	MaxLoginAttempts int
	// BanDuration is how long the blacklist lasts. Default 30 minutes.
	BanDuration time.Duration
	// ApplyDuration is how long applyChanges takes (over 8 s has been seen on
	// real units). Default 0.
	ApplyDuration time.Duration
	// Seed loads the demo extensions 1000-1005 so a fresh unit looks in use.
	Seed bool
	// CallAnswerDelay is how long a dialled call rings before it is answered
	// and bridged. Default 3 seconds; tests make it tiny.
	CallAnswerDelay time.Duration

	// WebUsers are the web (GUI) users, username -> password, that may log
	// in on the WebSocket; they are separate from the API user (FACTS.md),
	// who cannot log in there unless listed. nil means the default
	// {"admin": "ucm-demo-web-password"}; an empty map means nobody.
	WebUsers map[string]string
	// WSIdleTimeout is how long a WebSocket may stay without a frame from
	// the client before the unit drops it (FACTS.md: about 25 s). Default
	// 25 seconds; tests make it short.
	WSIdleTimeout time.Duration
	// CallControl is the API user's "Call Control" option: inbound calls
	// wait for acceptCall / refuseCall / transferNumberInbound (inbound.go).
	CallControl bool
	// CallControlTimeout is how long an inbound call waits for Call Control
	// before it is accepted by itself. Default 10 seconds (FACTS.md).
	CallControlTimeout time.Duration
	// InboundCallEvery, when positive, starts an inbound call from the first
	// SIP trunk to a registered extension at every multiple of it after New
	// (lazily, like everything else), so a demo shows inbound events. Each
	// such caller hangs up one interval after calling. Default 0: off.
	InboundCallEvery time.Duration
	// TimeZone is the zone the unit's clock is set to. Units write times
	// (CDRs, channel lists) as local wall-clock time without a zone, and read
	// cdrapi's time filters the same way (FACTS.md). Default UTC.
	TimeZone *time.Location
}

// defaultWebUsers is the web user of Config{}.
func defaultWebUsers() map[string]string { return map[string]string{"admin": "ucm-demo-web-password"} }

// UCM is one simulated unit. It is an http.Handler for the /api endpoint and
// is safe for concurrent use.
type UCM struct {
	mu      sync.Mutex
	cfg     Config
	started time.Time

	// sessions and login protection (auth.go)
	challenges  map[string]string    // user -> latest unused challenge
	cookies     map[string]time.Time // cookie -> last use
	failed      int                  // failed logins since the last success
	bannedUntil time.Time

	// test knobs (knobs.go)
	latency    time.Duration
	failN      int
	failStatus int
	failHTML   int
	applyErr   int
	failAction map[string]int // action -> status it fails with (SetActionError)
	faults     faults         // stalls, cut-off replies, rate limiting (faults.go)

	// configuration state (extensions.go, system.go)
	accounts     map[string]*account
	trunkSeq     int                    // last trunk index handed out (trunks.go)
	sipTrunks    map[int]map[string]any // trunk_index -> getSIPTrunk's "trunk"
	analogTrunks map[int]map[string]any // trunk_index -> getAnalogTrunk's "analogtrunk"
	slaTrunks    map[int]map[string]any // trunk_index -> SLA settings of an analog trunk

	digitalTrunks []map[string]any // read-only (seed_trunks.go)
	// queues, agents, routes, IVRs, paging, extension groups (callcenter.go)
	cc           callCenter
	pending      bool
	writeGen     uint64    // bumped on every configuration write
	applyUntil   time.Time // an apply in progress finishes at this time
	applyGen     uint64    // writeGen when that apply started
	applyRunning bool

	counters Counters

	// live calls, call records and recordings (calls.go, cdr.go)
	calls       []*liveCall
	callSeq     int
	chanSeq     int
	chans       map[string]*chanMeta // live channel -> what it reports beyond its call
	inboundDone int                  // scheduled inbound calls started (inbound.go)
	cdrs        []cdrRecord
	recordings  map[string]int // file name -> seconds

	// live events (ws.go, events.go)
	sockets   map[*wsConn]struct{}
	lastState *eventState // what the sockets were last told; nil with no socket open
	wsStalled bool        // StallWebSockets: sockets read but never answer
}

// New returns a simulated unit configured by cfg (zero fields take the
// defaults documented on Config). It starts nothing in the background.
func New(cfg Config) *UCM {
	if cfg.Username == "" {
		cfg.Username = "api"
	}
	if cfg.Password == "" {
		cfg.Password = "ucm-demo-password"
	}
	if cfg.CookieIdleTimeout <= 0 {
		cfg.CookieIdleTimeout = 10 * time.Minute
	}
	if cfg.MaxLoginAttempts <= 0 {
		cfg.MaxLoginAttempts = 5
	}
	if cfg.BanDuration <= 0 {
		cfg.BanDuration = 30 * time.Minute
	}
	if cfg.ApplyDuration < 0 {
		cfg.ApplyDuration = 0
	}
	if cfg.CallAnswerDelay <= 0 {
		cfg.CallAnswerDelay = 3 * time.Second
	}
	if cfg.WebUsers == nil {
		cfg.WebUsers = defaultWebUsers()
	} else {
		cfg.WebUsers = maps.Clone(cfg.WebUsers)
	}
	if cfg.WSIdleTimeout <= 0 {
		cfg.WSIdleTimeout = 25 * time.Second
	}
	if cfg.CallControlTimeout <= 0 {
		cfg.CallControlTimeout = 10 * time.Second
	}
	if cfg.TimeZone == nil {
		cfg.TimeZone = time.UTC
	}
	u := &UCM{
		cfg:          cfg,
		started:      time.Now(),
		challenges:   make(map[string]string),
		cookies:      make(map[string]time.Time),
		accounts:     make(map[string]*account),
		sipTrunks:    make(map[int]map[string]any),
		analogTrunks: make(map[int]map[string]any),
		slaTrunks:    make(map[int]map[string]any),
		cc:           newCallCenter(),
		counters:     Counters{Calls: make(map[string]int)},
		recordings:   make(map[string]int),
		chanSeq:      0x29,
		chans:        make(map[string]*chanMeta),
		sockets:      make(map[*wsConn]struct{}),
	}
	if cfg.Seed {
		u.loadSeed()
		u.loadTrunkSeed()
		u.loadCallCenterSeed()
		u.seedCalls()
	}
	return u
}

// reply is the envelope every JSON answer uses.
type reply struct {
	Response map[string]any `json:"response"`
	Status   int            `json:"status"`
}

func ok(resp map[string]any) reply {
	if resp == nil {
		resp = map[string]any{}
	}
	return reply{Response: resp, Status: StatusOK}
}

func fail(status int) reply { return reply{Response: map[string]any{}, Status: status} }

func failMsg(status int, msg string) reply {
	return reply{Response: map[string]any{"error_msg": msg}, Status: status}
}

// forbiddenHTML is what a blacklisted client receives instead of JSON.
const forbiddenHTML = "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n" +
	"<center><h1>403 Forbidden</h1></center>\r\n</body>\r\n</html>\r\n"

// maxBody bounds the request body; real requests are a few hundred bytes.
const maxBody = 1 << 20

// ServeHTTP is the unit's /api endpoint: POST only (405 otherwise), JSON
// envelope in and out; and its /websockify WebSocket (ws.go). Other paths
// are 404.
func (u *UCM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/websockify" {
		u.serveWebSocket(w, r)
		return
	}
	if r.URL.Path != "/api" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	defer u.enter(r.Context())()
	u.mu.Lock()
	latency := u.latency
	u.mu.Unlock()
	if !sleepCtx(r.Context(), latency) {
		drop(w)
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	params, perr := parseRequest(body)
	action, _ := params["action"].(string)

	u.mu.Lock()
	if perr == nil && err == nil {
		u.counters.Calls[action]++
	}
	if u.failHTML > 0 {
		u.failHTML--
		u.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, forbiddenHTML)
		return
	}
	u.mu.Unlock()
	w, proceed := u.injectFaults(w, r)
	if !proceed {
		return
	}

	var rep reply
	switch {
	case err != nil || perr != nil:
		rep = failMsg(StatusInvalidParams, "Invalid parameters!")
	case action == "cdrapi" || action == "recapi":
		u.serveRaw(w, action, params)
		return
	case action == "queueapi":
		u.serveQueueAPI(w, params)
		return
	default:
		var done bool
		rep, done = u.handle(r.Context(), action, params)
		if !done {
			return // client went away during a slow action
		}
	}
	writeJSON(w, rep)
}

// parseRequest decodes {"request":{…}} keeping numbers as json.Number.
func parseRequest(body []byte) (map[string]any, error) {
	var env struct {
		Request map[string]any `json:"request"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return nil, err
	}
	if env.Request == nil {
		return nil, errNoRequest
	}
	if _, ok := env.Request["action"].(string); !ok {
		return nil, errNoRequest
	}
	return env.Request, nil
}

type simError string

func (e simError) Error() string { return string(e) }

const errNoRequest = simError("missing request or action")

func writeJSON(w http.ResponseWriter, rep reply) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(rep)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// sleepCtx waits d unless ctx ends first; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// handle runs one parsed request. done is false when the client gave up
// during a slow action and no reply should be written.
func (u *UCM) handle(ctx context.Context, action string, p map[string]any) (rep reply, done bool) {
	switch action {
	case "challenge":
		return u.challenge(p), true
	case "login":
		return u.login(p), true
	case "logout":
		return u.logout(p), true
	}

	u.mu.Lock()
	if st := u.authorize(p, time.Now()); st != StatusOK {
		u.mu.Unlock()
		return fail(st), true
	}
	if st := u.failAction[action]; st != StatusOK {
		u.mu.Unlock()
		return fail(st), true
	}
	if action == "applyChanges" {
		u.mu.Unlock()
		return u.applyChanges(ctx)
	}
	defer func() {
		u.publish() // whatever the action changed reaches the WebSockets
		u.mu.Unlock()
	}()
	switch action {
	case "getSystemStatus":
		return u.systemStatus(), true
	case "getSystemGeneralStatus":
		return systemGeneralStatus(), true
	case "listAccount":
		return u.listAccount(p), true
	case "getSIPAccount":
		return u.getSIPAccount(p), true
	case "addSIPAccountAndUser":
		return u.addSIPAccount(p), true
	case "updateSIPAccount":
		return u.updateSIPAccount(p), true
	case "deleteUser":
		return u.deleteUser(p), true
	case "dialExtension", "dialOutbound", "dialIVR", "dialQueue", "dialRinggroup":
		return u.dial(action, p), true
	case "listBridgedChannels":
		return u.listBridged(), true
	case "listUnBridgedChannels":
		return u.listUnbridged(), true
	case "Hangup", "hangup": // FACTS.md: some firmware accepts the lowercase name
		return u.hangup(p), true
	case "hold", "unhold", "mute", "Unmute":
		return u.setFlag(action, p), true
	case "callTransfer", "transferNumberInbound", "transferNumberOutbound":
		return u.transfer(action, p), true
	case "Callbarge", "callbarge": // peers send the lowercase name
		return u.callbarge(p), true
	case "acceptCall", "refuseCall":
		return u.callControl(action, p), true
	}
	if rep, known := u.handleMore(action, p); known {
		return rep, true
	}
	return failMsg(StatusInvalidParams, "Invalid parameters! unknown action: "+action), true
}

// handleMore dispatches the actions beyond extensions and system status:
// trunks, Wave, and the call center and routing objects. Called with u.mu
// held.
func (u *UCM) handleMore(action string, p map[string]any) (reply, bool) {
	handlers := map[string]func(map[string]any) reply{
		"listVoIPTrunk": u.listVoIPTrunk, "addSIPTrunk": u.addSIPTrunk, "getSIPTrunk": u.getSIPTrunk,
		"updateSIPTrunk": u.updateSIPTrunk, "deleteSIPTrunk": u.deleteSIPTrunk,
		"listAnalogTrunk": u.listAnalogTrunk, "addAnalogTrunk": u.addAnalogTrunk,
		"getAnalogTrunk": u.getAnalogTrunk, "updateAnalogTrunk": u.updateAnalogTrunk,
		"deleteAnalogTrunk": u.deleteAnalogTrunk, "addSLATrunk": u.addSLATrunk,
		"updateSLATrunk": u.updateSLATrunk, "listDigitalTrunk": u.listDigitalTrunk,
		"getSIPAccountQR": u.getSIPAccountQR, "cleanTerminalChatInformation": u.cleanTerminalChatInformation,
	}
	h, known := handlers[action]
	if !known {
		return u.handleCallCenter(action, p)
	}
	return h(p), true
}

// authorize checks the cookie of an ordinary action, refreshing it, then
// consumes an injected failure (FailNext). Called with u.mu held.
func (u *UCM) authorize(p map[string]any, now time.Time) int {
	if !u.useCookie(p, now) {
		return StatusCookieError
	}
	if u.failN > 0 {
		u.failN--
		return u.failStatus
	}
	return StatusOK
}
