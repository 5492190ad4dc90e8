package sessionpool

import (
	"context"
	"fmt"
)

// unitSet is the pool's units at one moment; Update replaces it whole, so a lookup never sees
// half a reload and a request in flight keeps the unit it started on.
type unitSet struct {
	units map[string]*unit
	order []string
}

func (s *unitSet) list() []*unit {
	out := make([]*unit, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.units[id])
	}
	return out
}

// Changes says what Update did with each unit id.
type Changes struct {
	Added, Removed, Changed, Unchanged []string
}

// Update replaces the configured units (a configuration reload). A unit whose settings are the
// same (URL, user, password, and the same Client, which the caller keeps for a unit whose TLS
// settings did not change) keeps its session, breaker and counters; a changed unit starts
// afresh, as a new one does; a removed or changed unit's old session is logged out in the
// background (not in a fleet, where the session is the other replicas' too). Requests already
// running finish on the unit they started with.
func (p *Pool) Update(units []UnitConfig) (Changes, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.set.Load()
	next := &unitSet{units: make(map[string]*unit, len(units))}
	var ch Changes
	var retired []*unit
	for _, cfg := range units {
		if _, dup := next.units[cfg.ID]; dup {
			return Changes{}, fmt.Errorf("sessionpool: unit %q configured twice", cfg.ID)
		}
		prev, had := old.units[cfg.ID]
		switch {
		case had && sameUnit(prev.cfg, cfg):
			next.units[cfg.ID] = prev
			ch.Unchanged = append(ch.Unchanged, cfg.ID)
		case had:
			next.units[cfg.ID] = newUnit(p.run, cfg, &p.opts, &p.work)
			ch.Changed = append(ch.Changed, cfg.ID)
			retired = append(retired, prev)
		default:
			next.units[cfg.ID] = newUnit(p.run, cfg, &p.opts, &p.work)
			ch.Added = append(ch.Added, cfg.ID)
		}
		next.order = append(next.order, cfg.ID)
	}
	for _, id := range old.order {
		if _, kept := next.units[id]; !kept {
			ch.Removed = append(ch.Removed, id)
			retired = append(retired, old.units[id])
			p.opts.Metrics.ForgetUnit(id)
		}
	}
	p.set.Store(next)
	for _, u := range retired {
		p.work.Go(func() { u.logout(context.WithoutCancel(p.run)) })
	}
	return ch, nil
}

func sameUnit(a, b UnitConfig) bool {
	return a.URL == b.URL && a.Username == b.Username && a.Password == b.Password && a.Client == b.Client && a.Private == b.Private
}
