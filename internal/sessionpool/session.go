package sessionpool

import (
	"context"
	"errors"
	"log/slog"
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
	// In a fleet the stop may have been lifted on another replica: login looks (sharedStop).
	if u.stopped != nil && u.store == nil {
		return "", &LoginStoppedError{Unit: u.cfg.ID, Cause: u.stopped}, true
	}
	if err := u.pausedLocked(now); err != nil {
		return "", err, true
	}
	if now.Before(u.retryAt) {
		return "", &UnavailableError{Unit: u.cfg.ID, Kind: RefusedBackingOff, Reason: "backing off after a failed login",
			RetryAfter: u.retryAt.Sub(now), Cause: u.lastErr}, true
	}
	return "", nil, false
}

// login runs one handshake under a context detached from every caller (but not from the pool:
// Close ends it). In a fleet it first looks for the session the replicas share (sharedLogin).
func (u *unit) login() (any, error) {
	// A caller may have seen no cookie just before the previous flight finished: don't log in twice.
	if cookie, err, ok := u.current(); ok {
		return cookie, err
	}
	if u.store != nil {
		if cookie, err, done := u.sharedLogin(); done {
			return cookie, err
		}
		// The store is unavailable. Logging in alone would race the other replicas' challenges
		// (the unit keeps one per user, and a lost race is a failed attempt toward a ban), so
		// wait for it; a stop this replica knows is still the better answer.
		u.mu.Lock()
		stopped := u.stopped
		u.mu.Unlock()
		if stopped != nil {
			return "", &LoginStoppedError{Unit: u.cfg.ID, Cause: stopped}
		}
		return "", &UnavailableError{Unit: u.cfg.ID, Kind: RefusedSharedState, RetryAfter: 2 * time.Second,
			Reason: "the unit needs a login and the replicas' shared state (Redis) is unavailable; a replica logging in on its own could cost the unit's login attempts"}
	}
	return u.handshake()
}

// handshake is one challenge and login, and what its outcome means for the unit.
func (u *unit) handshake() (string, error) {
	ctx, cancel := context.WithTimeout(u.run, u.opts.CallTimeout)
	defer cancel()
	start := time.Now()
	cookie, err := u.cfg.Client.Login(ctx, u.cfg.Username, u.cfg.Password)
	u.record(ctx, "login", start, err)
	if errors.Is(err, context.Canceled) && u.run.Err() != nil {
		return "", err // the pool is closing: this says nothing about the unit
	}
	u.notePause(err)

	u.mu.Lock()
	defer u.mu.Unlock()
	u.logFirstContactLocked(err)
	now := time.Now()
	if err == nil {
		u.cookie, u.lastCall, u.lastLogin, u.lastTouch = cookie, now, now, now
		u.failures, u.retryAt = 0, time.Time{}
		u.logins++
		u.setState(StateReady)
		u.opts.Metrics.Logins.WithLabelValues(u.label, "success").Inc()
		u.opts.Logger.Info("logged in to unit", "unit", u.cfg.ID)
		return cookie, nil
	}
	u.loginFailures++
	u.opts.Metrics.Logins.WithLabelValues(u.label, "failure").Inc()
	u.lastErr = err
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
	u.opts.Logger.Warn("login to unit failed; backing off", append(tlsAttrs(err), "unit", u.cfg.ID, "err", err, "retry_in", delay.String())...)
	if paused := u.pausedLocked(now); paused != nil {
		return "", paused
	}
	return "", &UnavailableError{Unit: u.cfg.ID, Kind: RefusedBackingOff, Reason: "login failed", RetryAfter: delay, Cause: err}
}

// logFirstContactLocked logs, once per unit, how the first attempt to reach it went: at start an
// operator sees at a glance which units work and what is wrong with the others.
func (u *unit) logFirstContactLocked(err error) {
	if u.contacted {
		return
	}
	u.contacted = true
	attrs := []any{"unit", u.cfg.ID, "url", u.cfg.URL, "outcome", contactOutcome(err)}
	if err == nil {
		u.opts.Logger.Info("first contact with unit", attrs...)
		return
	}
	attrs = append(append(attrs, tlsAttrs(err)...), "err", err)
	u.opts.Logger.Warn("first contact with unit failed", attrs...)
}

// contactOutcome names a login's outcome for the first-contact line.
func contactOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ucm.ErrTLS):
		return "tls_error"
	case errors.Is(err, ucm.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ucm.ErrTransport):
		return "unreachable"
	case errors.Is(err, ucm.ErrNotJSON):
		return "not_the_api"
	case pauseFor(err) > 0:
		return "rate_limited"
	case stopsLogins(err):
		return "credentials_refused"
	}
	return "unit_error"
}

// tlsAttrs are the log attributes of a TLS failure: the certificate's SHA-256 is what
// tls.pin_sha256 takes, so the operator can pin it from the log line.
func tlsAttrs(err error) []any {
	var te *ucm.TLSError
	if !errors.As(err, &te) {
		return nil
	}
	attrs := []any{slog.String("tls_problem", te.Reason)}
	if te.CertSHA256 != "" {
		attrs = append(attrs, slog.String("cert_sha256", te.CertSHA256))
	}
	return attrs
}

// stopsLogins: see ucm.StopsLogins (the events socket's login follows the same rule).
func stopsLogins(err error) bool { return ucm.StopsLogins(err) }

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
	return max(d, pauseFor(err))
}

// outcomeLabel is the metric label for a call's result.
func outcomeLabel(err error) string {
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
