package sessionpool

import (
	"context"
	"time"
)

// UnitStatus is what an operator needs to see about one unit's session.
type UnitStatus struct {
	ID              string
	URL             string
	State           State
	LastLogin       time.Time // zero before the first login
	LastError       string
	LastErrorStatus int // UCM status of the last login failure, 0 when none or not a UCM status
	Logins          int64
	LoginFailures   int64
	InFlight        int
	MaxInFlight     int       // the bulkhead: calls in flight to the unit at most
	Breaker         string    // closed, half_open, open
	BreakerRetryAt  time.Time // while the breaker is open: when its next probe may go; zero otherwise
	PausedUntil     time.Time // the unit asked for a pause (-45/-46/-57): no calls before this; zero when none
	RetryAt         time.Time
}

// Units lists every unit's status in configuration order.
func (p *Pool) Units() []UnitStatus {
	out := make([]UnitStatus, 0, len(p.order))
	for _, id := range p.order {
		out = append(out, p.units[id].status())
	}
	return out
}

// Unit returns one unit's status.
func (p *Pool) Unit(id string) (UnitStatus, error) {
	u, ok := p.units[id]
	if !ok {
		return UnitStatus{}, ErrUnknownUnit
	}
	return u.status(), nil
}

// Reset lets the pool log in to the unit again after an operator fixed what made it stop (the
// credentials, the unit's whitelist or ban). It does not lift a ban on the UCM itself.
func (p *Pool) Reset(id string) (UnitStatus, error) {
	u, ok := p.units[id]
	if !ok {
		return UnitStatus{}, ErrUnknownUnit
	}
	u.mu.Lock()
	u.stopped = nil
	u.failures = 0
	u.retryAt = time.Time{}
	if u.cookie == "" {
		u.setState(StateCold)
	}
	u.mu.Unlock()
	if s := u.opts.Sessions; s != nil {
		ctx, cancel := context.WithTimeout(u.run, u.opts.CallTimeout)
		err := s.ClearStop(ctx, id)
		cancel()
		if err != nil {
			u.opts.Logger.Warn("unit reset on this replica only: the shared state is unavailable, so other replicas keep their stop until it returns and the reset is repeated",
				"unit", id, "err", err)
			return u.status(), nil
		}
	}
	u.opts.Logger.Info("unit reset by operator: logins allowed again", "unit", id)
	return u.status(), nil
}

func (u *unit) status() UnitStatus {
	br, probeAt := u.breaker.status()
	u.mu.Lock()
	defer u.mu.Unlock()
	st := UnitStatus{
		ID: u.cfg.ID, URL: u.cfg.URL, State: u.state, LastLogin: u.lastLogin,
		LastErrorStatus: u.lastErrStatus,
		Logins:          u.logins, LoginFailures: u.loginFailures,
		InFlight: int(u.inFlight.Load()), MaxInFlight: u.opts.MaxInFlight,
		Breaker: br.String(), BreakerRetryAt: probeAt, RetryAt: u.retryAt,
	}
	if u.lastErr != nil {
		st.LastError = u.lastErr.Error()
	}
	if time.Now().Before(u.pausedUntil) {
		st.PausedUntil = u.pausedUntil
	}
	return st
}
