package sessionpool

import (
	"errors"
	"fmt"
	"time"
)

// ErrUnknownUnit: the unit id is not in the configuration.
var ErrUnknownUnit = errors.New("unknown unit")

// LoginStoppedError: the unit refused the gateway's credentials (or banned it), so the pool stopped
// logging in to protect the unit's remaining attempts. Only an operator's reset or a configuration
// change starts logins again. The client is not to blame: this maps to 502.
type LoginStoppedError struct {
	Unit  string
	Cause error
}

func (e *LoginStoppedError) Error() string {
	return fmt.Sprintf("unit %s: logins stopped after the unit refused the gateway's credentials (%v); fix the configuration and reset the unit", e.Unit, e.Cause)
}

func (e *LoginStoppedError) Unwrap() error { return e.Cause }

// Refusal says why the pool did not call a unit.
type Refusal string

// The reasons the pool refuses a request without calling the unit.
const (
	// RefusedOverloaded: every slot of the unit's bulkhead stayed busy for the whole slot wait.
	RefusedOverloaded Refusal = "overloaded"
	// RefusedBreakerOpen: calls to the unit failed repeatedly; the breaker fails fast until its
	// next probe.
	RefusedBreakerOpen Refusal = "breaker_open"
	// RefusedPaused: the unit answered "too frequent" (-45, -46, -57) and is given its pause.
	RefusedPaused Refusal = "paused"
	// RefusedBackingOff: a login failed for a reason that may pass; the next one waits.
	RefusedBackingOff Refusal = "backing_off"
	// RefusedSharedState: the unit needs a login and the fleet's shared state (Redis) is down.
	// Replicas logging in on their own would race each other's challenges (a unit keeps one
	// challenge per user), which the unit counts as failed attempts toward a ban, so a cold
	// unit waits for Redis; a replica that holds a session goes on using it.
	RefusedSharedState Refusal = "shared_state_down"
)

// Refusals lists every Refusal, for metrics that start at zero.
var Refusals = []Refusal{RefusedOverloaded, RefusedBreakerOpen, RefusedPaused, RefusedBackingOff, RefusedSharedState}

// UnavailableError: the pool refuses to call the unit right now, and nothing reached the unit
// for this request. Kind says why; RetryAfter is when trying again makes sense; Cause is the
// failure behind it (the login error, the call that opened the breaker, the unit's -45).
type UnavailableError struct {
	Unit       string
	Kind       Refusal
	Reason     string
	RetryAfter time.Duration
	Cause      error
}

func (e *UnavailableError) Error() string {
	msg := fmt.Sprintf("unit %s unavailable: %s", e.Unit, e.Reason)
	if e.Cause != nil {
		msg += fmt.Sprintf(" (%v)", e.Cause)
	}
	return msg
}

func (e *UnavailableError) Unwrap() error { return e.Cause }

// OutcomeUnknownError: a write reached the unit (or may have) and its answer never came: a
// timeout after sending, or the connection broke while the unit answered. The unit may or may
// not have done it, so the pool never retries it, and the client must check before it does.
type OutcomeUnknownError struct {
	Unit   string
	Action string
	Cause  error
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("unit %s: %s was sent but its answer was lost; it may or may not have been done (%v)", e.Unit, e.Action, e.Cause)
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Cause }
