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
			var wg sync.WaitGroup
			for _, id := range p.order {
				wg.Go(func() { p.units[id].refreshIfDue(ctx) })
			}
			wg.Wait()
		}
	}
}

// refreshIfDue pings the unit when its cookie has been quiet for half the idle timeout and a client
// used the unit within the last idle timeout. The ping is the cheapest read (getSystemStatus) and
// goes through the normal path, so a dead cookie is replaced as for any request.
func (u *unit) refreshIfDue(ctx context.Context) {
	u.forgetWindow(time.Now())
	u.mu.Lock()
	now := time.Now()
	if u.cookie != "" && now.Sub(u.lastCall) >= u.opts.IdleTimeout {
		// The unit has dropped this idle session: show the unit as cold now rather than at the next
		// request, and do not send the dead cookie in a logout at shutdown.
		u.cookie = ""
		u.setState(StateCold)
	}
	due := u.cookie != "" && u.stopped == nil &&
		now.Sub(u.lastUsed) < u.opts.IdleTimeout &&
		now.Sub(u.lastCall) >= u.opts.IdleTimeout/2
	u.mu.Unlock()
	if !due {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, u.opts.RequestTimeout)
	defer cancel()
	if _, err := u.exchange(ctx, "getSystemStatus", nil); err != nil {
		u.opts.Logger.Warn("session keep-alive failed", "unit", u.cfg.ID, "err", err)
	}
}
