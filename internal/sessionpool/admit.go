package sessionpool

import (
	"context"
	"errors"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// Admission: before a request may call a unit it passes, in this order, the unit's own pause
// (it said "too frequent"), the breaker (it failed repeatedly), and the bulkhead (a slot among
// MaxInFlight, waited for at most SlotWait). Each refusal is immediate or bounded, names its
// reason and says when to try again; none of them sends anything to the unit.

// ticket is an admitted request: it holds a slot, and possibly the breaker's probe.
type ticket struct {
	u     *unit
	probe bool // the first call's outcome decides the half-open breaker
}

// report tells the breaker what a call said about the unit.
func (t *ticket) report(err error) {
	t.u.breaker.report(t.probe, healthOf(err), err)
	t.probe = false
}

// release gives the slot back; a probe that never called the unit (the login was refused, the
// client left) says nothing, and the next request probes instead.
func (t *ticket) release() {
	if t.probe {
		t.u.breaker.report(true, outcomeNeutral, nil)
	}
	t.u.releaseSlot()
}

func (u *unit) admit(ctx context.Context) (*ticket, error) {
	if err := u.paused(); err != nil {
		return nil, err
	}
	if wait, cause, ok := u.breaker.peek(); !ok {
		return nil, u.breakerRefusal(wait, cause)
	}
	if err := u.acquire(ctx); err != nil {
		return nil, err
	}
	probe, wait, cause, ok := u.breaker.allow()
	if !ok {
		u.releaseSlot()
		return nil, u.breakerRefusal(wait, cause)
	}
	return &ticket{u: u, probe: probe}, nil
}

func (u *unit) breakerRefusal(wait time.Duration, cause error) error {
	return &UnavailableError{Unit: u.cfg.ID, Kind: RefusedBreakerOpen, Reason: "circuit breaker open after repeated failures to reach the unit",
		RetryAfter: wait, Cause: cause}
}

// acquire takes one of the unit's slots, waiting at most SlotWait (and never past the request's
// deadline). A full bulkhead means the unit is slow or stalled: answering 503 at once serves the
// client better than queueing it behind calls that may run for a whole call timeout.
func (u *unit) acquire(ctx context.Context) error {
	select {
	case u.slots <- struct{}{}:
		u.opts.Metrics.SetInFlight(u.label, u.inFlight.Add(1), 1)
		return nil
	default:
	}
	wait := time.NewTimer(u.opts.SlotWait)
	defer wait.Stop()
	select {
	case u.slots <- struct{}{}:
		u.opts.Metrics.SetInFlight(u.label, u.inFlight.Add(1), 1)
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return ctx.Err()
		}
	case <-wait.C:
	}
	return &UnavailableError{Unit: u.cfg.ID, Kind: RefusedOverloaded,
		Reason:     "every connection slot to the unit stayed busy (the unit is slow or not answering)",
		RetryAfter: max(time.Second, u.opts.SlotWait)}
}

func (u *unit) releaseSlot() {
	u.opts.Metrics.SetInFlight(u.label, u.inFlight.Add(-1), -1)
	<-u.slots
}

// pauseFor is how long the unit asked to be left alone, by its status: -45 and -46 "retry after
// 15 s", -57 "retry after 60 s" (FACTS.md); 0 for anything else.
func pauseFor(err error) time.Duration {
	switch {
	case errors.Is(err, ucm.StatusTooFrequentLong):
		return 60 * time.Second
	case errors.Is(err, ucm.StatusTooFrequent), errors.Is(err, ucm.StatusTooFrequent2):
		return 15 * time.Second
	}
	return 0
}

// notePause gives the unit the pause it asked for: until it passes, nothing is sent to it, not
// even a login or a keep-alive. Retrying a unit that says "too frequent" keeps it saying so.
func (u *unit) notePause(err error) {
	d := pauseFor(err)
	if d == 0 {
		return
	}
	until := time.Now().Add(d)
	u.mu.Lock()
	defer u.mu.Unlock()
	if until.After(u.pausedUntil) {
		u.pausedUntil, u.pauseCause = until, err
		u.opts.Logger.Warn("unit asked the gateway to slow down: no calls to it until the pause ends", "unit", u.cfg.ID, "pause", d.String(), "err", err)
	}
}

// paused refuses a request while the unit's pause lasts.
func (u *unit) paused() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.pausedLocked(time.Now())
}

func (u *unit) pausedLocked(now time.Time) error {
	if !now.Before(u.pausedUntil) {
		return nil
	}
	return &UnavailableError{Unit: u.cfg.ID, Kind: RefusedPaused, Reason: "the unit asked the gateway to slow down (too frequent requests)",
		RetryAfter: u.pausedUntil.Sub(now), Cause: u.pauseCause}
}
