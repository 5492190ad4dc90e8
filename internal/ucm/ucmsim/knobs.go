package ucmsim

import (
	"crypto/rand"
	"math/big"
	"strings"
	"time"
)

// Knobs let tests put the unit into the awkward states real hardware gets
// into. All are safe for concurrent use.

// SetLatency makes every request wait d before it is handled, to test
// client timeouts; a request whose context ends meanwhile gets no reply.
func (u *UCM) SetLatency(d time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.latency = d
}

// FailNext makes the next n authenticated calls (every action except
// challenge, login and logout, once their cookie has been accepted) reply
// with status, to test the client's handling of unit-side errors.
func (u *UCM) FailNext(n int, status int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.failN, u.failStatus = max(n, 0), status
}

// FailNextHTML makes the next n requests of any action get the HTML
// "403 Forbidden" page (HTTP 403, text/html) a blacklisted IP sees, to test
// that the client does not assume JSON.
func (u *UCM) FailNextHTML(n int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.failHTML = max(n, 0)
}

// ForgetCookies simulates a reboot: every cookie becomes invalid (-6) and
// outstanding challenges are forgotten.
func (u *UCM) ForgetCookies() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.cookies = make(map[string]time.Time)
	u.challenges = make(map[string]string)
}

// ExpireCookies makes every cookie invalid (-6), as if all had sat idle past
// the timeout, without waiting for it.
func (u *UCM) ExpireCookies() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.cookies = make(map[string]time.Time)
}

// LiftBan is the admin removing the client from the blacklist: the ban ends
// and the failed-attempt count starts afresh.
func (u *UCM) LiftBan() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.bannedUntil = time.Time{}
	u.failed = 0
}

// SetPassword changes the API user's password, as the admin would on the
// API settings page; live cookies stay valid.
func (u *UCM) SetPassword(p string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.cfg.Password = p
}

// SetApplyError makes applyChanges fail with status (e.g. -69 conference in
// progress, -98 digital calls active) until it is set back to 0.
func (u *UCM) SetApplyError(status int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.applyErr = status
}

// SetActionError makes every call of action (once its cookie is accepted)
// fail with status until it is set back to 0, to test how the client
// handles one action failing while the others work.
func (u *UCM) SetActionError(action string, status int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failAction == nil {
		u.failAction = make(map[string]int)
	}
	u.failAction[action] = status
}

// Counters is a snapshot of what the unit has received, so tests can assert
// how the client behaved (logins deduplicated, no retry storms…).
type Counters struct {
	// Challenges counts challenges handed out.
	Challenges int
	// Logins counts successful logins (cookies issued).
	Logins int
	// FailedLogins counts login requests that issued no cookie, including
	// those refused during a ban.
	FailedLogins int
	// Logouts counts successful logouts.
	Logouts int
	// WSChallenges counts challenges handed out on WebSockets.
	WSChallenges int
	// WSLogins counts successful WebSocket logins.
	WSLogins int
	// WSFailedLogins counts WebSocket login requests that failed, including
	// those refused during a ban.
	WSFailedLogins int
	// WSHeartbeats counts heartbeats answered with status 0.
	WSHeartbeats int
	// Calls counts every /api request received per action name, including
	// challenge, login and logout and requests that failed (not WebSocket
	// frames).
	Calls map[string]int
	// PeakInFlight is the most requests the unit was serving at once (since
	// ResetPeak), stalled and slow ones included.
	PeakInFlight int
	// Abandoned counts requests whose client went away before the unit
	// answered (a timeout or a cancellation on the client's side).
	Abandoned int
}

// Counters returns a snapshot of the counters.
func (u *UCM) Counters() Counters {
	u.mu.Lock()
	defer u.mu.Unlock()
	c := u.counters
	c.Calls = make(map[string]int, len(u.counters.Calls))
	for k, v := range u.counters.Calls {
		c.Calls[k] = v
	}
	return c
}

// Calls returns how many requests for action were received.
func (u *UCM) Calls(action string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.counters.Calls[action]
}

// TotalCalls returns the number of requests received for every action except
// challenge, login and logout: the load the client put on the unit.
func (u *UCM) TotalCalls() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for a, c := range u.counters.Calls {
		switch a {
		case "challenge", "login", "logout":
		default:
			n += c
		}
	}
	return n
}

// PendingApply reports whether configuration writes await applyChanges.
func (u *UCM) PendingApply() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.settleApply(time.Now())
	return u.pending
}

// Extension returns a deep copy of the stored record of ext, so tests can
// assert what a write stored and with which JSON types. It is the
// "extension" object getSIPAccount returns, plus the keys
// "sip_presence_settings", "voicemail" and "cti_feature_privilege" holding
// getSIPAccount's other objects.
func (u *UCM) Extension(ext string) (map[string]any, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	a, found := u.accounts[ext]
	if !found {
		return nil, false
	}
	rec := cloneMap(a.ext)
	rec["sip_presence_settings"] = cloneValue(a.presence)
	rec["voicemail"] = cloneMap(a.voicemail)
	rec["cti_feature_privilege"] = cloneMap(a.cti)
	return rec, true
}

// randAlnum returns n random letters and digits (generated SIP passwords).
func randAlnum(n int) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	var b strings.Builder
	limit := big.NewInt(int64(len(alphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, limit)
		if err != nil {
			panic("ucmsim: crypto/rand failed: " + err.Error())
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}
