package sessionpool

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// State is a unit's session state as clients and metrics see it.
type State string

// The session states.
const (
	StateCold        State = "cold"        // no session yet (or it lapsed while idle)
	StateReady       State = "ready"       // a cookie is held and was accepted recently
	StateAuthFailed  State = "auth_failed" // the unit refused our credentials: logins stopped
	StateUnreachable State = "unreachable" // the last login could not reach the unit
	StateBackingOff  State = "backing_off" // the unit asked us to slow down, or failed transiently
)

// unit is one UCM's shared session and the protections around it.
type unit struct {
	cfg  UnitConfig
	opts *Options
	run  context.Context // the pool's: ends at Close, and with it logins and shared reads
	work *tasks

	label         string // the unit label of its metrics: its id, or the summary's (metrics.per_unit)
	mu            sync.Mutex
	cookie        string
	lastCall      time.Time // last reply on the current cookie: the UCM's idle timer restarts then
	lastUsed      time.Time // last client request: decides whether keep-alive is worth it
	state         State
	lastLogin     time.Time
	lastErr       error
	lastErrStatus int
	logins        int64
	loginFailures int64
	stopped       error        // non-nil: logins stopped until Reset
	failures      int          // consecutive transient login failures
	retryAt       time.Time    // no login before this
	pausedUntil   time.Time    // the unit asked for a pause (-45/-46/-57): no calls before this
	pauseCause    error        // the reply that asked for it
	contacted     bool         // the first login's outcome has been logged
	lastTouch     time.Time    // the shared cookie's time was last restarted (shared_session.go)
	store         SessionStore // the fleet's sessions; nil: this replica's alone
	stopUnshared  []byte       // a login stop found here that Redis has not got yet

	loginFlight singleflight.Group
	flightMu    sync.Mutex
	flights     map[string]*flight // shared reads in progress (coalesce.go)
	writes      atomic.Uint64      // bumped after every write; part of the coalescing key
	fresh       freshness          // list replies served again within Options.ListFreshness (fresh.go)
	slots       chan struct{}
	inFlight    atomic.Int64
	breaker     *breaker
}

func newUnit(run context.Context, cfg UnitConfig, opts *Options, work *tasks) *unit {
	u := &unit{cfg: cfg, label: opts.Metrics.Unit(cfg.ID), opts: opts, run: run, work: work, state: StateCold,
		slots: make(chan struct{}, opts.MaxInFlight), flights: map[string]*flight{}}
	if !cfg.Private {
		u.store = opts.Sessions
	}
	u.breaker = newBreaker(opts.BreakerFailures, opts.BreakerOpen, opts.BreakerOpenMax, func(from, to breakerState) {
		opts.Logger.Warn("unit breaker changed state", "unit", cfg.ID, "from", from.String(), "to", to.String())
		opts.Metrics.SetBreakerState(u.label, float64(to))
	})
	opts.Metrics.MoveSessionState(u.label, "", string(StateCold))
	opts.Metrics.SetBreakerState(u.label, 0)
	// Counters start at 0 for every configured unit, so rate() and increase() see the first event
	// and dashboards show the unit before anything happens to it.
	opts.Metrics.Logins.WithLabelValues(u.label, "success")
	opts.Metrics.Logins.WithLabelValues(u.label, "failure")
	opts.Metrics.Coalesced.WithLabelValues(u.label)
	opts.Metrics.InFlight.WithLabelValues(u.label)
	for _, r := range Refusals {
		opts.Metrics.Refusals.WithLabelValues(u.label, string(r))
	}
	return u
}

func (u *unit) touch() {
	u.mu.Lock()
	u.lastUsed = time.Now()
	u.mu.Unlock()
}

// setState must be called with mu held.
func (u *unit) setState(s State) {
	if u.state != s {
		u.opts.Metrics.MoveSessionState(u.label, string(u.state), string(s))
		u.state = s
	}
}

// requestTimeout bounds a whole request for action; callTimeout each of its calls.
func (u *unit) requestTimeout(action string) time.Duration {
	if d, ok := u.opts.ActionTimeouts[action]; ok && d > 0 {
		return d
	}
	return u.opts.RequestTimeout
}

func (u *unit) callTimeout(action string) time.Duration {
	if d, ok := u.opts.ActionTimeouts[action]; ok && d > 0 {
		return d
	}
	return u.opts.CallTimeout
}

// exchange is one request to the unit: admission (the unit's pause, the breaker, a slot), then
// the session and the call. On a rejected cookie it logs in once and retries (the unit did
// nothing with a call it refused); a read that failed in transport is tried once more. A write
// is never repeated, and a write whose answer was lost says so.
func (u *unit) exchange(ctx context.Context, action string, params map[string]any) (json.RawMessage, error) {
	t, err := u.admit(ctx)
	if err != nil {
		return nil, err
	}
	defer t.release()
	raw, err := u.attempt(ctx, t, action, params)
	if isRead(action) && retryable(action, err) && ctx.Err() == nil && u.breaker.closed() {
		u.opts.Logger.Debug("read failed in transport; trying once more", "unit", u.cfg.ID, "action", action, "err", err)
		raw, err = u.attempt(ctx, t, action, params)
	}
	if !isRead(action) && outcomeUnknown(action, err) {
		return nil, &OutcomeUnknownError{Unit: u.cfg.ID, Action: action, Cause: err}
	}
	return raw, err
}

// attempt is the session and one call, with the single re-login and retry after a -6 or -5.
func (u *unit) attempt(ctx context.Context, t *ticket, action string, params map[string]any) (json.RawMessage, error) {
	cookie, err := u.session(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := u.call(ctx, t, action, cookie, params)
	if errors.Is(err, ucm.StatusCookie) || errors.Is(err, ucm.StatusNeedAuth) {
		u.invalidate(cookie)
		if cookie, err = u.session(ctx); err != nil {
			return nil, err
		}
		raw, err = u.call(ctx, t, action, cookie, params)
	}
	return raw, err
}

// retryable: a read that failed to reach the unit for a reason other than time (a connection
// reset, a keep-alive connection the unit dropped) may be tried once more. A timeout may not: the
// unit is slow, and asking again only adds to its load. Only the action's own failure counts: a
// failed login is the back-off's business.
func retryable(action string, err error) bool {
	var te *ucm.TransportError
	return errors.As(err, &te) && te.Action == action && !te.Timeout
}

// outcomeUnknown: the action itself may have reached the unit, and no answer came back. A login
// that failed before the action was sent leaves nothing unknown.
func outcomeUnknown(action string, err error) bool {
	var te *ucm.TransportError
	return errors.As(err, &te) && te.Action == action && !te.NotSent
}

// call sends one action with its own deadline, records its outcome and tells the breaker.
func (u *unit) call(ctx context.Context, t *ticket, action, cookie string, params map[string]any) (json.RawMessage, error) {
	cctx, cancel := context.WithTimeout(ctx, u.callTimeout(action))
	defer cancel()
	start := time.Now()
	raw, err := u.cfg.Client.Call(cctx, action, cookie, params)
	u.record(ctx, action, start, err)
	t.report(err)
	u.notePause(err)
	// Any reply on this cookie except a rejection restarts the unit's idle timer, errors included.
	var ue *ucm.Error
	if err == nil || (errors.As(err, &ue) && ue.Status != ucm.StatusCookie && ue.Status != ucm.StatusNeedAuth) {
		u.mu.Lock()
		if u.cookie == cookie {
			u.lastCall = time.Now()
		}
		u.mu.Unlock()
		u.touchShared(cookie)
	}
	return raw, err
}

func (u *unit) record(ctx context.Context, action string, start time.Time, err error) {
	d := time.Since(start)
	o := outcomeLabel(err)
	u.opts.Metrics.UCMCalls.WithLabelValues(u.label, action, o).Inc()
	u.opts.Metrics.UCMCallDuration.WithLabelValues(u.label, action).Observe(d.Seconds())
	u.opts.OnCall(ctx, CallInfo{Unit: u.cfg.ID, Action: action, Outcome: o, Duration: d})
}

// countRefusal counts a request the pool refused without calling the unit.
func (u *unit) countRefusal(err error) {
	var unav *UnavailableError
	if errors.As(err, &unav) && unav.Kind != "" {
		u.opts.Metrics.Refusals.WithLabelValues(u.label, string(unav.Kind)).Inc()
	}
}

// invalidate drops the cookie only if it is still the current one: a request that carried an
// older cookie must not throw away the session another request just established.
func (u *unit) invalidate(cookie string) {
	u.mu.Lock()
	if u.cookie == cookie && cookie != "" {
		u.cookie = ""
		u.setState(StateCold)
	}
	u.mu.Unlock()
	u.dropShared(cookie)
}

func (u *unit) logout(ctx context.Context) {
	if u.store != nil {
		// The session is the fleet's: the other replicas go on using it, and it lapses on the
		// unit when the last one stops.
		return
	}
	u.mu.Lock()
	cookie := u.cookie
	u.cookie = ""
	u.setState(StateCold)
	u.mu.Unlock()
	if cookie == "" {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, u.opts.CallTimeout)
	defer cancel()
	start := time.Now()
	err := u.cfg.Client.Logout(lctx, cookie)
	u.record(ctx, "logout", start, err)
	if err != nil {
		u.opts.Logger.Warn("logout failed", "unit", u.cfg.ID, "err", err)
		return
	}
	u.opts.Logger.Info("logged out", "unit", u.cfg.ID)
}
