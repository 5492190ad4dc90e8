package sessionpool

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// lockPoll is how often a replica waiting on another's login looks for the shared cookie.
const lockPoll = 25 * time.Millisecond

// sharedLogin is login for a fleet: take the cookie another replica shares, or wait while one
// logs in, or log in under the fleet's lock and share the result. done=false means the store
// is unavailable and the caller logs in on its own.
func (u *unit) sharedLogin() (cookie string, err error, done bool) {
	s := u.opts.Sessions
	ctx, cancel := context.WithTimeout(u.run, u.opts.RequestTimeout)
	defer cancel()
	for {
		if err, stopped, ok := u.sharedStop(ctx); !ok {
			return "", nil, false
		} else if stopped {
			return "", err, true
		}
		c, left, err := s.Cookie(ctx, u.cfg.ID)
		if err != nil {
			return "", nil, false
		}
		if c != "" {
			u.adopt(c, left)
			return c, nil, true
		}
		// The lock outlives one handshake, so a replica that dies mid-login frees the unit soon.
		release, ok, err := s.LockLogin(ctx, u.cfg.ID, u.opts.CallTimeout+time.Second)
		if err != nil {
			return "", nil, false
		}
		if ok {
			cookie, err := u.loginUnderLock(ctx, release)
			return cookie, err, true
		}
		select {
		case <-ctx.Done():
			if u.run.Err() != nil {
				return "", u.run.Err(), true
			}
			return "", &UnavailableError{Unit: u.cfg.ID, Kind: RefusedBackingOff, Reason: "another replica's login to the unit has not finished",
				RetryAfter: time.Second}, true
		case <-time.After(lockPoll):
		}
	}
}

// loginUnderLock logs in while this replica holds the fleet's lock, shares the outcome, and
// releases the lock (or holds it for the back-off after a transient failure, so no replica
// retries sooner).
func (u *unit) loginUnderLock(ctx context.Context, release func(time.Duration)) (string, error) {
	s := u.opts.Sessions
	// Another replica may have shared a cookie between our look and our lock.
	if c, left, err := s.Cookie(ctx, u.cfg.ID); err == nil && c != "" {
		release(0)
		u.adopt(c, left)
		return c, nil
	}
	cookie, err := u.handshake()
	switch {
	case err == nil:
		if perr := s.PutCookie(ctx, u.cfg.ID, cookie, u.opts.IdleTimeout); perr != nil {
			u.opts.Logger.Warn("could not share the unit's new session; other replicas log in on their own", "unit", u.cfg.ID, "err", perr)
		}
		release(0)
	case stopsLogins(err):
		why, _ := json.Marshal(stopRecordOf(err))
		if serr := s.Stop(ctx, u.cfg.ID, why); serr != nil {
			u.opts.Logger.Warn("could not share the login stop; other replicas learn it from the unit", "unit", u.cfg.ID, "err", serr)
		}
		release(0)
	default:
		u.mu.Lock()
		hold := time.Until(u.retryAt)
		u.mu.Unlock()
		release(max(hold, 0))
	}
	return cookie, err
}

// sharedStop reads the fleet's login stop into this unit: set, it stops logins here too; lifted
// (an operator reset on any replica), it lifts this replica's own. ok=false: store unavailable.
func (u *unit) sharedStop(ctx context.Context) (err error, stopped, ok bool) {
	why, serr := u.opts.Sessions.Stopped(ctx, u.cfg.ID)
	if serr != nil {
		return nil, false, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if why == nil {
		if u.stopped != nil {
			u.stopped, u.failures, u.retryAt = nil, 0, time.Time{}
			u.setState(StateCold)
			u.opts.Logger.Info("unit reset on another replica: logins allowed again", "unit", u.cfg.ID)
		}
		return nil, false, true
	}
	if u.stopped == nil {
		var rec stopRecord
		_ = json.Unmarshal(why, &rec)
		u.stopped = rec.err()
		u.lastErr = u.stopped
		u.lastErrStatus = rec.Status
		u.setState(StateAuthFailed)
		u.opts.Logger.Error("another replica found the unit refusing the gateway's credentials: logins to it are stopped until an operator resets it",
			"unit", u.cfg.ID, "err", u.stopped)
	}
	return &LoginStoppedError{Unit: u.cfg.ID, Cause: u.stopped}, true, true
}

// adopt takes a cookie another replica shares. Its remaining time tells when it was last used.
func (u *unit) adopt(cookie string, left time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	u.cookie, u.lastCall = cookie, now.Add(-(u.opts.IdleTimeout - min(left, u.opts.IdleTimeout)))
	u.lastTouch = now
	u.failures, u.retryAt = 0, time.Time{}
	u.setState(StateReady)
}

// touchShared restarts the shared cookie's time after a call on it, at most every quarter of
// the idle timeout per replica (not a round trip per request), in the background.
func (u *unit) touchShared(cookie string) {
	if u.opts.Sessions == nil {
		return
	}
	u.mu.Lock()
	now := time.Now()
	due := u.cookie == cookie && now.Sub(u.lastTouch) >= u.opts.IdleTimeout/4
	if due {
		u.lastTouch = now
	}
	u.mu.Unlock()
	if !due {
		return
	}
	u.work.Go(func() {
		ctx, cancel := context.WithTimeout(u.run, u.opts.CallTimeout)
		defer cancel()
		_ = u.opts.Sessions.TouchCookie(ctx, u.cfg.ID, cookie, u.opts.IdleTimeout)
	})
}

// dropShared forgets a cookie the unit rejected, for the fleet, if it is still the shared one.
func (u *unit) dropShared(cookie string) {
	if u.opts.Sessions == nil || cookie == "" {
		return
	}
	ctx, cancel := context.WithTimeout(u.run, u.opts.CallTimeout)
	defer cancel()
	_ = u.opts.Sessions.DropCookie(ctx, u.cfg.ID, cookie)
}

// stopRecord is a login stop as the fleet shares it: the UCM's answer, which holds no secret.
type stopRecord struct {
	Status     int    `json:"status"`
	Action     string `json:"action"`
	Message    string `json:"message,omitempty"`
	RemainNum  *int   `json:"remain_num,omitempty"`
	RemainTime *int   `json:"remain_time,omitempty"`
}

func stopRecordOf(err error) stopRecord {
	var ue *ucm.Error
	if !errors.As(err, &ue) {
		return stopRecord{Message: "login refused"}
	}
	return stopRecord{Status: int(ue.Status), Action: ue.Action, Message: ue.Message, RemainNum: ue.RemainNum, RemainTime: ue.RemainTime}
}

func (r stopRecord) err() error {
	return &ucm.Error{Status: ucm.Status(r.Status), Action: r.Action, Message: r.Message, RemainNum: r.RemainNum, RemainTime: r.RemainTime}
}
