package ucmsim

import (
	"context"
	"fmt"
	"time"
)

// systemStatus is getSystemStatus (Table 5) with the guide's field names.
func (u *UCM) systemStatus() reply {
	now := time.Now()
	up := now.Sub(u.started)
	return ok(map[string]any{
		// idle-time sums the idle time of the cores, so it outgrows up-time
		// (the guide's sample shows 14:32:44 idle for 07:33:15 up).
		"idle-time":     clock(up * 19 / 10),
		"part-number":   "9670003220A",
		"serial-number": "20EZ9K3M10A2C417",
		"system-time":   now.Format("2006-01-02 15:04:05 UTC-07:00"),
		"up-time":       clock(up),
	})
}

// clock formats d like the unit: hours:minutes:seconds, hours unbounded.
func clock(d time.Duration) string {
	s := int(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// systemGeneralStatus is getSystemGeneralStatus (Table 6).
func systemGeneralStatus() reply {
	return ok(map[string]any{
		"base-version":   "1.0.27.10",
		"boot-version":   "1.0.27.1",
		"core-version":   "1.0.27.1",
		"gswave-version": "1.0.27.10",
		"lang-version":   "1.0.27.10",
		"product-model":  "UCM6302 V1.3A",
		"prog-version":   "1.0.27.10",
		"rcvr-version":   "1.0.27.1",
	})
}

// applyChanges takes ApplyDuration, then clears the pending flag unless
// another write came in meanwhile. A client that gives up does not stop
// the apply: it still completes at its time (settled lazily).
func (u *UCM) applyChanges(ctx context.Context) (reply, bool) {
	u.mu.Lock()
	now := time.Now()
	u.settleApply(now)
	if u.applyErr != 0 {
		st := u.applyErr
		u.mu.Unlock()
		return fail(st), true
	}
	gen := u.writeGen
	d := u.cfg.ApplyDuration
	u.applyRunning, u.applyUntil, u.applyGen = true, now.Add(d), gen
	u.mu.Unlock()

	if !sleepCtx(ctx, d) {
		return reply{}, false
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	if u.writeGen == gen {
		u.pending = false
	}
	if u.applyRunning && u.applyGen == gen {
		u.applyRunning = false
	}
	return ok(nil), true
}

// settleApply completes an apply whose client went away once its time is
// over. Called with u.mu held.
func (u *UCM) settleApply(now time.Time) {
	if u.applyRunning && !now.Before(u.applyUntil) {
		u.applyRunning = false
		if u.writeGen == u.applyGen {
			u.pending = false
		}
	}
}
