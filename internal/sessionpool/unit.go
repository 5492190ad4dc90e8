package sessionpool

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
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

	mu            sync.Mutex
	cookie        string
	lastCall      time.Time // last reply on the current cookie: the UCM's idle timer restarts then
	lastUsed      time.Time // last client request: decides whether keep-alive is worth it
	state         State
	lastLogin     time.Time
	lastErr       string
	lastErrStatus int
	logins        int64
	loginFailures int64
	stopped       error     // non-nil: logins stopped until Reset
	failures      int       // consecutive transient login failures
	retryAt       time.Time // no login before this

	loginFlight singleflight.Group
	readFlight  singleflight.Group
	writes      atomic.Uint64 // bumped after every write; part of the coalescing key
	slots       chan struct{}
	inFlight    atomic.Int64
	breaker     *gobreaker.CircuitBreaker[json.RawMessage]
}

func newUnit(cfg UnitConfig, opts *Options) *unit {
	u := &unit{cfg: cfg, opts: opts, state: StateCold, slots: make(chan struct{}, opts.MaxInFlight)}
	u.breaker = gobreaker.NewCircuitBreaker[json.RawMessage](gobreaker.Settings{
		Name:        cfg.ID,
		MaxRequests: 1,
		Timeout:     opts.BreakerOpen,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= opts.BreakerFailures },
		// The unit answered (even with an error status): it is up.
		IsSuccessful: func(err error) bool {
			var ue *ucm.Error
			return err == nil || errors.As(err, &ue)
		},
		// Our own refusals and a client hanging up say nothing about the unit's health.
		IsExcluded: func(err error) bool {
			var stop *LoginStoppedError
			var unav *UnavailableError
			return errors.Is(err, context.Canceled) || errors.As(err, &stop) || errors.As(err, &unav)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			opts.Logger.Warn("unit breaker changed state", "unit", name, "from", from.String(), "to", to.String())
			opts.Metrics.BreakerState.WithLabelValues(name).Set(float64(breakerGauge(to)))
		},
	})
	opts.Metrics.SetSessionState(cfg.ID, string(StateCold))
	opts.Metrics.BreakerState.WithLabelValues(cfg.ID).Set(0)
	// Counters start at 0 for every configured unit, so rate() and increase() see the first event
	// and dashboards show the unit before anything happens to it.
	opts.Metrics.Logins.WithLabelValues(cfg.ID, "success")
	opts.Metrics.Logins.WithLabelValues(cfg.ID, "failure")
	opts.Metrics.Coalesced.WithLabelValues(cfg.ID)
	opts.Metrics.InFlight.WithLabelValues(cfg.ID)
	return u
}

func breakerGauge(s gobreaker.State) int {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}

func (u *unit) touch() {
	u.mu.Lock()
	u.lastUsed = time.Now()
	u.mu.Unlock()
}

// setState must be called with mu held.
func (u *unit) setState(s State) {
	if u.state != s {
		u.state = s
		u.opts.Metrics.SetSessionState(u.cfg.ID, string(s))
	}
}

func (u *unit) timeout(action string) time.Duration {
	if d, ok := u.opts.ActionTimeouts[action]; ok && d > 0 {
		return d
	}
	return u.opts.RequestTimeout
}

// coalesced lets identical concurrent reads share one call. The shared call runs detached from any
// one caller's cancellation, so the first caller giving up does not fail the rest.
func (u *unit) coalesced(ctx context.Context, action string, params map[string]any) (json.RawMessage, error) {
	key, err := json.Marshal(params) // map keys marshal sorted: equal params, equal key
	if err != nil {
		return u.exchange(ctx, action, params)
	}
	shared := context.WithoutCancel(ctx)
	flight := strconv.FormatUint(u.writes.Load(), 10) + "\x00" + action + "\x00" + string(key)
	// singleflight reports Shared to every caller of a shared flight, the one that made the call
	// included; only the others were answered by someone else's call.
	var leader bool // written by this caller's own fn, which finishes before its result is sent
	ch := u.readFlight.DoChan(flight, func() (any, error) {
		leader = true
		return u.exchange(shared, action, params)
	})
	select {
	case r := <-ch:
		if r.Shared && !leader {
			u.opts.Metrics.Coalesced.WithLabelValues(u.cfg.ID).Inc()
		}
		raw, _ := r.Val.(json.RawMessage)
		return raw, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// exchange is one request to the unit: a slot, the breaker, the session, the call, and on a
// rejected cookie one fresh login and one retry.
func (u *unit) exchange(ctx context.Context, action string, params map[string]any) (json.RawMessage, error) {
	if err := u.acquire(ctx); err != nil {
		return nil, err
	}
	defer u.release()
	raw, err := u.breaker.Execute(func() (json.RawMessage, error) {
		cookie, err := u.session(ctx)
		if err != nil {
			return nil, err
		}
		raw, err := u.call(ctx, action, cookie, params)
		if errors.Is(err, ucm.StatusCookie) || errors.Is(err, ucm.StatusNeedAuth) {
			u.invalidate(cookie)
			if cookie, err = u.session(ctx); err != nil {
				return nil, err
			}
			raw, err = u.call(ctx, action, cookie, params)
		}
		return raw, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return nil, &UnavailableError{Unit: u.cfg.ID, Reason: "circuit breaker open after repeated failures to reach the unit", RetryAfter: u.opts.BreakerOpen}
	}
	return raw, err
}

func (u *unit) acquire(ctx context.Context) error {
	wait := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		wait, cancel = context.WithTimeout(ctx, u.opts.RequestTimeout)
		defer cancel()
	}
	select {
	case u.slots <- struct{}{}:
		u.opts.Metrics.InFlight.WithLabelValues(u.cfg.ID).Set(float64(u.inFlight.Add(1)))
		return nil
	case <-wait.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return ctx.Err()
		}
		return &UnavailableError{Unit: u.cfg.ID, Reason: "every connection slot to the unit stayed busy until the deadline", RetryAfter: time.Second}
	}
}

func (u *unit) release() {
	u.opts.Metrics.InFlight.WithLabelValues(u.cfg.ID).Set(float64(u.inFlight.Add(-1)))
	<-u.slots
}

// call sends one action with its own deadline and records its outcome.
func (u *unit) call(ctx context.Context, action, cookie string, params map[string]any) (json.RawMessage, error) {
	cctx, cancel := context.WithTimeout(ctx, u.timeout(action))
	defer cancel()
	start := time.Now()
	raw, err := u.cfg.Client.Call(cctx, action, cookie, params)
	u.record(ctx, action, start, err)
	// Any reply on this cookie except a rejection restarts the unit's idle timer, errors included.
	var ue *ucm.Error
	if err == nil || (errors.As(err, &ue) && ue.Status != ucm.StatusCookie && ue.Status != ucm.StatusNeedAuth) {
		u.mu.Lock()
		if u.cookie == cookie {
			u.lastCall = time.Now()
		}
		u.mu.Unlock()
	}
	return raw, err
}

func (u *unit) record(ctx context.Context, action string, start time.Time, err error) {
	d := time.Since(start)
	o := outcome(err)
	u.opts.Metrics.UCMCalls.WithLabelValues(u.cfg.ID, action, o).Inc()
	u.opts.Metrics.UCMCallDuration.WithLabelValues(u.cfg.ID, action).Observe(d.Seconds())
	u.opts.OnCall(ctx, CallInfo{Unit: u.cfg.ID, Action: action, Outcome: o, Duration: d})
}

// invalidate drops the cookie only if it is still the current one: a request that carried an
// older cookie must not throw away the session another request just established.
func (u *unit) invalidate(cookie string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cookie == cookie && cookie != "" {
		u.cookie = ""
		u.setState(StateCold)
	}
}

func (u *unit) logout(ctx context.Context) {
	u.mu.Lock()
	cookie := u.cookie
	u.cookie = ""
	u.setState(StateCold)
	u.mu.Unlock()
	if cookie == "" {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, u.opts.RequestTimeout)
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
