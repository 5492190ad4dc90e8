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

// UnavailableError: the pool refuses to call the unit right now (it is backing off after failed
// logins, its breaker is open, or every slot stayed busy until the deadline). RetryAfter is a hint
// for the client; this maps to 503.
type UnavailableError struct {
	Unit       string
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
