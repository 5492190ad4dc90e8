package ucmsim

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"strings"
	"time"
)

// challenge answers {"action":"challenge","user":…,"version":…} with a
// 16-digit random challenge, remembered as that user's latest one.
func (u *UCM) challenge(p map[string]any) reply {
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.liftExpiredBan(now)
	if u.banned(now) {
		return u.bannedReply(now)
	}
	user, _ := paramString(p["user"])
	if user == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	ch := randDigits(16, false)
	// Only the real API user can ever log in; do not let arbitrary
	// user names grow the table.
	if user == u.cfg.Username {
		u.challenges[user] = ch
	}
	u.counters.Challenges++
	return ok(map[string]any{"challenge": ch})
}

// login checks token == md5(challenge+password) for the user's latest
// challenge, which is consumed by the attempt whatever its outcome.
func (u *UCM) login(p map[string]any) reply {
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.liftExpiredBan(now)
	if u.banned(now) {
		u.counters.FailedLogins++
		return u.bannedReply(now)
	}
	user, _ := paramString(p["user"])
	if user == "" {
		u.counters.FailedLogins++
		return failMsg(StatusInvalidParams, "Invalid parameters!")
	}
	if user != u.cfg.Username {
		return u.loginFailed(now, StatusNoSuchUser)
	}
	ch, had := u.challenges[user]
	delete(u.challenges, user)
	token, _ := paramString(p["token"])
	if !had || token != md5hex(ch+u.cfg.Password) {
		return u.loginFailed(now, StatusWrongPassword)
	}
	u.failed = 0
	u.pruneCookies(now)
	cookie := "sid" + randDigits(10, true) + "-" + randDigits(10, true)
	u.cookies[cookie] = now
	u.counters.Logins++
	return ok(map[string]any{"cookie": cookie})
}

// logout kills the given cookie.
func (u *UCM) logout(p map[string]any) reply {
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.useCookie(p, now) {
		return fail(StatusCookieError)
	}
	c, _ := paramString(p["cookie"])
	delete(u.cookies, c)
	u.counters.Logouts++
	return ok(nil)
}

// loginFailed counts a failed API login. Called with u.mu held.
func (u *UCM) loginFailed(now time.Time, status int) reply {
	u.counters.FailedLogins++
	return u.failedAttempt(now, status)
}

// failedAttempt counts a failed attempt, API or WebSocket (FACTS.md: both
// count toward the same ban), and bans the client when attempts run out:
// the reply says how many remain, or -68 on the attempt that exhausts them.
// Outstanding challenges of both are forgotten with the ban. Called with
// u.mu held.
func (u *UCM) failedAttempt(now time.Time, status int) reply {
	u.failed++
	left := u.cfg.MaxLoginAttempts - u.failed
	if left <= 0 {
		u.bannedUntil = now.Add(u.cfg.BanDuration)
		u.challenges = make(map[string]string)
		for s := range u.sockets {
			s.challenge, s.challengeUser = "", ""
		}
		return reply{
			Response: map[string]any{"remain_time": ceilSeconds(u.cfg.BanDuration)},
			Status:   StatusLoginRestriction,
		}
	}
	return reply{Response: map[string]any{"remain_num": left}, Status: status}
}

func (u *UCM) banned(now time.Time) bool {
	return !u.bannedUntil.IsZero() && now.Before(u.bannedUntil)
}

// liftExpiredBan ends a ban whose time is over; attempts start afresh.
func (u *UCM) liftExpiredBan(now time.Time) {
	if !u.bannedUntil.IsZero() && !now.Before(u.bannedUntil) {
		u.bannedUntil = time.Time{}
		u.failed = 0
	}
}

func (u *UCM) bannedReply(now time.Time) reply {
	return reply{
		Response: map[string]any{"remain_time": ceilSeconds(u.bannedUntil.Sub(now))},
		Status:   StatusLoginForbidden,
	}
}

// useCookie reports whether the request's cookie is live, refreshing its
// idle timer; a cookie idle for CookieIdleTimeout or longer is deleted.
// Called with u.mu held.
func (u *UCM) useCookie(p map[string]any, now time.Time) bool {
	c, isStr := p["cookie"].(string)
	if !isStr || c == "" {
		return false
	}
	last, live := u.cookies[c]
	if !live {
		return false
	}
	if now.Sub(last) >= u.cfg.CookieIdleTimeout {
		delete(u.cookies, c)
		return false
	}
	u.cookies[c] = now
	return true
}

// pruneCookies drops every expired cookie so the table stays bounded.
func (u *UCM) pruneCookies(now time.Time) {
	for c, last := range u.cookies {
		if now.Sub(last) >= u.cfg.CookieIdleTimeout {
			delete(u.cookies, c)
		}
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// randDigits returns n random decimal digits from crypto/rand; with
// noLeadingZero the first digit is 1-9 (cookie parts look like numbers).
func randDigits(n int, noLeadingZero bool) string {
	var b strings.Builder
	ten := big.NewInt(10)
	for i := 0; i < n; i++ {
		d, err := rand.Int(rand.Reader, ten)
		if err != nil {
			panic("ucmsim: crypto/rand failed: " + err.Error())
		}
		v := d.Int64()
		if i == 0 && noLeadingZero && v == 0 {
			i-- // draw the first digit again
			continue
		}
		b.WriteByte(byte('0' + v))
	}
	return b.String()
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}
