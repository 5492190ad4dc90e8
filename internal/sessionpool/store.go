package sessionpool

import (
	"context"
	"time"
)

// SessionStore is where the replicas of a fleet share each unit's session, so that the fleet
// holds one session per unit as a single gateway does: the cookie, the login lock that makes N
// replicas on a cold unit log in once, the login stop (wrong password, ban) that keeps every
// replica from spending another attempt, and the keep-alive turn. nil (Options.Sessions unset)
// is a single replica: everything stays in the unit's own fields, as it always has.
//
// Any error means the store cannot be used now (shared.ErrUnavailable): the pool then carries on
// with this replica's own state, because a unit answering its clients matters more than the
// fleet sharing one cookie (a few replicas logging in on their own costs the unit a session
// each, never a failed attempt: a stop found locally still stops).
type SessionStore interface {
	// Cookie returns the unit's shared cookie and how long it has left before the UCM forgets
	// it, or "" when there is none.
	Cookie(ctx context.Context, unit string) (cookie string, left time.Duration, err error)
	// PutCookie shares a fresh cookie for ttl.
	PutCookie(ctx context.Context, unit, cookie string, ttl time.Duration) error
	// TouchCookie restarts the shared cookie's ttl if it is still cookie (a call on it just
	// restarted the UCM's idle timer).
	TouchCookie(ctx context.Context, unit, cookie string, ttl time.Duration) error
	// DropCookie deletes the shared cookie only if it is still cookie: a replica that saw an old
	// cookie rejected must not throw away the one another replica just logged in with.
	DropCookie(ctx context.Context, unit, cookie string) error
	// LockLogin takes the unit's login lock for ttl, or reports ok=false while another replica
	// holds it. release(0) frees it; release(d) keeps it d longer (a back-off: no replica logs
	// in meanwhile); either only while this replica still holds it.
	LockLogin(ctx context.Context, unit string, ttl time.Duration) (release func(hold time.Duration), ok bool, err error)
	// Stop records that logins to the unit are stopped, with why (opaque to the store);
	// Stopped returns it (nil when logins are allowed); ClearStop lifts it for the fleet.
	Stop(ctx context.Context, unit string, why []byte) error
	Stopped(ctx context.Context, unit string) ([]byte, error)
	ClearStop(ctx context.Context, unit string) error
	// KeepAliveTurn claims the unit's keep-alive for ttl: true for exactly one replica per
	// period, so the fleet pings each unit once, not once per replica.
	KeepAliveTurn(ctx context.Context, unit string, ttl time.Duration) (bool, error)
}
