package ucmsim

import (
	"bytes"
	"encoding/json"
	"maps"
	"time"
)

// The WebSocket protocol (FACTS.md, "Live events"). A client frame is
// {"type":"request","message":{"transactionid":"t1","action":…,…}}; the
// unit answers {"type":"response","message":{"transactionid":"t1",
// "status":N,…}}, the reply's fields beside status. Actions: challenge
// {username, version}, login {username, token = md5(challenge+password)},
// subscribe {eventnames:[…]}, heartbeat. The users are the web users
// (Config.WebUsers), not the API user, and failed logins count toward the
// same ban as the API's (auth.go).
//
// Chosen where FACTS.md is silent, strictly:
//   - every request needs a non-empty string transactionid, and a frame that
//     is not such a request (bad JSON, another type, a message that is not an
//     object) answers -1; the transactionid is echoed when there is one;
//   - anything but challenge and login before a successful login answers -6:
//     FACTS.md gives -6 as what a missing session gets on the API, and the
//     session here is bound to the socket (-5 "need authentication" exists
//     in the code table but is nowhere seen in use);
//   - after login, any other action (every HTTPS-API action, logout, an
//     unknown name) answers -19 "unsupported"; a missing action -1;
//   - the challenge belongs to the socket and is consumed by the next login
//     attempt whatever its outcome, as on the API; a login without one is a
//     wrong token (-37);
//   - the login cookie is the socket's alone: it is not valid on /api;
//   - subscribe needs a non-empty array of strings (-1 otherwise); one
//     unknown name fails the whole request with -9 and subscribes nothing
//     (FACTS.md); a later subscribe adds to the earlier ones (there is no
//     documented unsubscribe).

// wsRequest handles one client text frame and returns the response frame.
func (u *UCM) wsRequest(s *wsConn, data []byte) []byte {
	var f struct {
		Type    string         `json:"type"`
		Message map[string]any `json:"message"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil || f.Type != "request" || f.Message == nil {
		tid := ""
		if f.Message != nil {
			tid, _ = f.Message["transactionid"].(string)
		}
		return wsResponse(tid, failMsg(StatusInvalidParams, "Invalid parameters!"))
	}
	p := f.Message
	tid, _ := p["transactionid"].(string)
	action, _ := p["action"].(string)
	now := time.Now()

	u.mu.Lock()
	defer u.mu.Unlock()
	var rep reply
	switch {
	case tid == "" || action == "":
		rep = failMsg(StatusInvalidParams, "Invalid parameters!")
	case action == "challenge":
		rep = u.wsChallenge(s, p, now)
	case action == "login":
		rep = u.wsLogin(s, p, now)
	case s.user == "":
		rep = fail(StatusCookieError)
	case action == "subscribe":
		rep = wsSubscribe(s, p)
	case action == "heartbeat":
		u.counters.WSHeartbeats++
		rep = ok(nil)
	default:
		rep = fail(StatusUnsupported)
	}
	return wsResponse(tid, rep)
}

// wsResponse wraps a reply as a response frame: its fields, status and the
// transactionid (left out when the request had none) side by side.
func wsResponse(tid string, rep reply) []byte {
	msg := maps.Clone(rep.Response)
	if msg == nil {
		msg = map[string]any{}
	}
	msg["status"] = rep.Status
	if tid != "" {
		msg["transactionid"] = tid
	}
	return encodeFrame("response", msg)
}

// wsChallenge hands the socket a 16-digit challenge for username. As on
// the API, any name gets one (the unit does not reveal which users exist)
// and a banned client gets -70. Called with u.mu held.
func (u *UCM) wsChallenge(s *wsConn, p map[string]any, now time.Time) reply {
	u.liftExpiredBan(now)
	if u.banned(now) {
		return u.bannedReply(now)
	}
	user, _ := paramString(p["username"])
	if user == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	s.challenge, s.challengeUser = randDigits(16, false), user
	u.counters.WSChallenges++
	return ok(map[string]any{"challenge": s.challenge})
}

// wsLogin checks token == md5(challenge+password) of a web user. Failures
// (-71 unknown user, -37 wrong token) cost one attempt of the shared ban.
// Called with u.mu held.
func (u *UCM) wsLogin(s *wsConn, p map[string]any, now time.Time) reply {
	u.liftExpiredBan(now)
	if u.banned(now) {
		u.counters.WSFailedLogins++
		return u.bannedReply(now)
	}
	user, _ := paramString(p["username"])
	if user == "" {
		u.counters.WSFailedLogins++
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	password, known := u.cfg.WebUsers[user]
	ch, chUser := s.challenge, s.challengeUser
	s.challenge, s.challengeUser = "", ""
	if !known {
		u.counters.WSFailedLogins++
		return u.failedAttempt(now, StatusNoSuchUser)
	}
	token, _ := paramString(p["token"])
	if ch == "" || chUser != user || token != md5hex(ch+password) {
		u.counters.WSFailedLogins++
		return u.failedAttempt(now, StatusWrongPassword)
	}
	u.failed = 0
	s.user = user
	u.counters.WSLogins++
	return ok(map[string]any{"cookie": "sid" + randDigits(10, true) + "-" + randDigits(10, true)})
}

// wsSubscribe adds the named events to the socket's subscriptions.
func wsSubscribe(s *wsConn, p map[string]any) reply {
	list, isList := p["eventnames"].([]any)
	if !isList || len(list) == 0 {
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	names := make([]string, 0, len(list))
	for _, v := range list {
		name, isStr := v.(string)
		if !isStr {
			return failMsg(StatusInvalidParams, "Invalid parameters!")
		}
		names = append(names, name)
	}
	for _, name := range names {
		if !knownEvent(name) {
			return fail(StatusSystemError)
		}
	}
	for _, name := range names {
		s.subs[name] = true
	}
	return ok(nil)
}
