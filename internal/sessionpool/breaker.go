package sessionpool

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// breakerState is the circuit breaker's state, as status and metrics show it.
type breakerState int

const (
	breakerClosed   breakerState = iota // calls go through
	breakerHalfOpen                     // one trial call (the probe) may go through
	breakerOpen                         // calls fail fast until the open period ends
)

func (s breakerState) String() string {
	switch s {
	case breakerHalfOpen:
		return "half_open"
	case breakerOpen:
		return "open"
	}
	return "closed"
}

// outcome is what a call says about the unit's health.
type outcome int

const (
	outcomeNeutral outcome = iota // says nothing: the caller left, or no call was made
	outcomeUp                     // the unit answered, even with an error status
	outcomeDown                   // transport failure, timeout, or a reply that is not the API
)

// healthOf classifies a call's error for the breaker. The UCM's own error statuses (-16, -15,
// -45…) prove the unit is up; a client hanging up proves nothing.
func healthOf(err error) outcome {
	var ue *ucm.Error
	switch {
	case err == nil, errors.As(err, &ue):
		return outcomeUp
	case errors.Is(err, context.Canceled):
		return outcomeNeutral
	case errors.Is(err, ucm.ErrTransport), errors.Is(err, ucm.ErrNotJSON), errors.Is(err, context.DeadlineExceeded):
		return outcomeDown
	}
	return outcomeNeutral
}

// breaker is one unit's circuit breaker. It opens after a run of consecutive failed calls and
// fails fast while open; when the open period ends it lets one probe through: success closes
// it, failure opens it again for twice as long (up to a cap), so a unit that stays down costs
// one probe every few seconds and a unit that comes back is served again within the cap.
//
// It is our own rather than sony/gobreaker's because that breaker's open period is fixed and it
// does not say when it will next let a call through, which Retry-After needs.
type breaker struct {
	threshold int
	base, max time.Duration
	onChange  func(from, to breakerState)

	mu       sync.Mutex
	state    breakerState
	failures int           // consecutive failures while closed
	openFor  time.Duration // the current (or last) open period
	until    time.Time     // end of the open period
	probing  bool          // a probe is in flight (half-open)
	cause    error         // the failure that opened it, for the client and the operator
}

func newBreaker(threshold int, base, max time.Duration, onChange func(from, to breakerState)) *breaker {
	return &breaker{threshold: threshold, base: base, max: max, onChange: onChange}
}

// setLocked changes state and reports it; must be called with mu held.
func (b *breaker) setLocked(s breakerState) {
	if b.state != s {
		from := b.state
		b.state = s
		b.onChange(from, s)
	}
}

// tickLocked moves an open breaker whose period is over to half-open.
func (b *breaker) tickLocked(now time.Time) {
	if b.state == breakerOpen && !now.Before(b.until) {
		b.setLocked(breakerHalfOpen)
	}
}

// refusal says how long to wait and why while calls are refused; ok is false when they are.
func (b *breaker) refusalLocked(now time.Time) (wait time.Duration, cause error, ok bool) {
	switch {
	case b.state == breakerOpen:
		return b.until.Sub(now), b.cause, false
	case b.state == breakerHalfOpen && b.probing:
		// The probe will tell within one call; a second is a fair hint.
		return time.Second, b.cause, false
	}
	return 0, nil, true
}

// peek reports whether a call would be refused, without claiming the probe: a request checks it
// before it waits for a slot, so that an open breaker costs no wait at all.
func (b *breaker) peek() (wait time.Duration, cause error, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tickLocked(now)
	return b.refusalLocked(now)
}

// allow admits a call; probe is true when it is the half-open breaker's one trial call, whose
// outcome must be reported.
func (b *breaker) allow() (probe bool, wait time.Duration, cause error, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tickLocked(now)
	if wait, cause, ok := b.refusalLocked(now); !ok {
		return false, wait, cause, false
	}
	if b.state == breakerHalfOpen {
		b.probing = true
		return true, 0, nil, true
	}
	return false, 0, nil, true
}

// closed reports whether the breaker is closed, for a retry, which must never be a second probe.
func (b *breaker) closed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state == breakerClosed
}

// report records a call's outcome; probe says whether it was the probe.
func (b *breaker) report(probe bool, o outcome, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	switch o {
	case outcomeUp:
		b.failures, b.openFor, b.cause = 0, 0, nil
		b.setLocked(breakerClosed)
	case outcomeDown:
		b.cause = err
		switch {
		case probe || b.state == breakerHalfOpen:
			b.openFor = min(max(2*b.openFor, b.base), b.max)
			b.openLocked()
		case b.state == breakerClosed:
			b.failures++
			if b.failures >= b.threshold {
				b.openFor = b.base
				b.openLocked()
			}
		}
		// Open already: a call admitted before it opened says nothing new.
	}
}

func (b *breaker) openLocked() {
	b.failures = 0
	b.until = time.Now().Add(b.openFor)
	b.setLocked(breakerOpen)
}

// status is the state and, while open, when the next probe may go.
func (b *breaker) status() (breakerState, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked(time.Now())
	if b.state == breakerOpen {
		return b.state, b.until
	}
	return b.state, time.Time{}
}
