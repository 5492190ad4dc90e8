package sessionpool

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// session returns the unit's cookie, logging in first if there is none. Concurrent callers share
// one login; a caller whose context ends stops waiting but the login goes on for the others.
func (u *unit) session(ctx context.Context) (string, error) {
	if cookie, err, ok := u.current(); ok {
		return cookie, err
	}
	ch := u.loginFlight.DoChan("login", u.login)
	select {
	case r := <-ch:
		cookie, _ := r.Val.(string)
		return cookie, r.Err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// current answers without a login when it can: a live cookie, or a reason not to log in at all.
func (u *unit) current() (cookie string, err error, ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	if u.cookie != "" {
		if now.Sub(u.lastCall) < u.opts.IdleTimeout {
			return u.cookie, nil, true
		}
		// Unused for longer than the UCM keeps it: it is dead there, so skip the wasted -6.
		u.cookie = ""
		u.setState(StateCold)
	}
	if u.stopped != nil {
		return "", &LoginStoppedError{Unit: u.cfg.ID, Cause: u.stopped}, true
	}
	if now.Before(u.retryAt) {
		return "", &UnavailableError{Unit: u.cfg.ID, Reason: "backing off after a failed login", RetryAfter: u.retryAt.Sub(now), Cause: errors.New(u.lastErr)}, true
	}
	return "", nil, false
}

// login runs one handshake under a context detached from every caller.
func (u *unit) login() (any, error) {
	// A caller may have seen no cookie just before the previous flight finished: don't log in twice.
	if cookie, err, ok := u.current(); ok {
		return cookie, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), u.opts.RequestTimeout)
	defer cancel()
	start := time.Now()
	cookie, err := u.cfg.Client.Login(ctx, u.cfg.Username, u.cfg.Password)
	u.record(ctx, "login", start, err)

	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	if err == nil {
		u.cookie, u.lastCall, u.lastLogin = cookie, now, now
		u.failures, u.retryAt = 0, time.Time{}
		u.logins++
		u.setState(StateReady)
		u.opts.Metrics.Logins.WithLabelValues(u.cfg.ID, "success").Inc()
		u.opts.Logger.Info("logged in to unit", "unit", u.cfg.ID)
		return cookie, nil
	}
	u.loginFailures++
	u.opts.Metrics.Logins.WithLabelValues(u.cfg.ID, "failure").Inc()
	u.lastErr = err.Error()
	u.lastErrStatus = 0
	if s, ok := ucm.StatusOf(err); ok {
		u.lastErrStatus = int(s)
	}
	if stopsLogins(err) {
		u.stopped = err
		u.setState(StateAuthFailed)
		u.opts.Logger.Error("unit refused the gateway's credentials: logins to it are stopped until an operator resets it",
			"unit", u.cfg.ID, "err", err)
		return "", &LoginStoppedError{Unit: u.cfg.ID, Cause: err}
	}
	u.failures++
	delay := u.backoff(err)
	u.retryAt = now.Add(delay)
	if errors.Is(err, ucm.ErrTransport) {
		u.setState(StateUnreachable)
	} else {
		u.setState(StateBackingOff)
	}
	u.opts.Logger.Warn("login to unit failed; backing off", "unit", u.cfg.ID, "err", err, "retry_in", delay.String())
	return "", &UnavailableError{Unit: u.cfg.ID, Reason: "login failed", RetryAfter: delay, Cause: err}
}

// stopsLogins reports whether another login could cost the unit a login attempt. Only failures
// known to be harmless to retry (transport trouble, the unit being busy) let logins continue;
// anything else the unit said about our login stops them, to be safe.
func stopsLogins(err error) bool {
	var ue *ucm.Error
	if !errors.As(err, &ue) {
		return false // transport, timeout, not-JSON: the unit never judged our credentials
	}
	if ue.RemainNum != nil || ue.RemainTime != nil {
		return true
	}
	switch ue.Status {
	case ucm.StatusConnectionClosed, ucm.StatusSystemTimeout, ucm.StatusSystemError,
		ucm.StatusTooFrequent, ucm.StatusTooFrequent2, ucm.StatusTooFrequentLong, ucm.StatusTaskRunning:
		return false
	}
	return true
}

// backoff is exponential with "equal jitter" (half fixed, half random), so many gateways
// restarting together do not log in in lock-step; a unit that asked for a pause gets at least it.
// Must be called with mu held.
func (u *unit) backoff(err error) time.Duration {
	d := u.opts.BackoffBase
	for i := 1; i < u.failures && d < u.opts.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, u.opts.BackoffMax)
	d = d/2 + time.Duration(u.opts.Jitter()*float64(d/2))
	switch {
	case errors.Is(err, ucm.StatusTooFrequentLong):
		d = max(d, 60*time.Second)
	case errors.Is(err, ucm.StatusTooFrequent), errors.Is(err, ucm.StatusTooFrequent2):
		d = max(d, 15*time.Second)
	}
	return d
}

// outcome is the metric label for a call's result.
func outcome(err error) string {
	var ue *ucm.Error
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ue):
		return "status_" + strconv.Itoa(int(ue.Status))
	case errors.Is(err, ucm.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ucm.ErrNotJSON):
		return "not_json"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "transport"
	}
}
