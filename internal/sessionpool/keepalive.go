package sessionpool

import (
	"context"
	"sync"
	"time"
)

// keepAlive refreshes sessions of units in use before the UCM's idle timeout drops them, so a
// request after a quiet spell does not pay for a login. Units nobody used for a whole idle period
// are left to lapse: keeping sessions open on PBXs nobody is using only holds the unit's resources.
//
// Units are refreshed side by side, so one hung unit cannot hold the others' refresh past their
// timeout, and under the pool's own context, so Close does not wait for a hung unit.
func (p *Pool) keepAlive(ctx context.Context) {
	defer close(p.done)
	t := time.NewTicker(p.opts.IdleTimeout / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Only the units due get a goroutine: with thousands of units configured, one per
			// unit at every round was tens of megabytes of stacks for a check most of them fail.
			var wg sync.WaitGroup
			for _, u := range p.set.Load().list() {
				if u.dueForRefresh() {
					wg.Go(func() { u.refresh(ctx) })
				}
			}
			wg.Wait()
		}
	}
}

// dueForRefresh reports whether the unit's cookie has been quiet for half the idle timeout and a
// client used the unit within the last idle timeout. A cookie the unit has already dropped is
// forgotten on the way, and so are the unit's expired list replies.
func (u *unit) dueForRefresh() bool {
	u.forgetWindow(time.Now())
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	if u.cookie != "" && now.Sub(u.lastCall) >= u.opts.IdleTimeout {
		// The unit has dropped this idle session: show the unit as cold now rather than at the next
		// request, and do not send the dead cookie in a logout at shutdown.
		u.cookie = ""
		u.setState(StateCold)
	}
	return u.cookie != "" && u.stopped == nil &&
		now.Sub(u.lastUsed) < u.opts.IdleTimeout &&
		now.Sub(u.lastCall) >= u.opts.IdleTimeout/2
}

// refresh pings the unit with the cheapest read (getSystemStatus), through the normal path, so a
// dead cookie is replaced as for any request.
func (u *unit) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, u.opts.RequestTimeout)
	defer cancel()
	if s := u.store; s != nil {
		// One replica pings per period; the others find the cookie's time restarted in the store.
		if mine, err := s.KeepAliveTurn(ctx, u.cfg.ID, u.opts.IdleTimeout/2); err == nil && !mine {
			return
		}
	}
	if _, err := u.exchange(ctx, "getSystemStatus", nil); err != nil {
		u.opts.Logger.Warn("session keep-alive failed", "unit", u.cfg.ID, "err", err)
	}
}
