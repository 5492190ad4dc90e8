package events

import (
	"context"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// Poller is the source for units without an events user: it reads the channel lists and the
// extension states every Interval while the hub has subscribers, and diffs them into the same
// events the WebSocket source gives. One per unit, whatever the number of subscribers; its reads
// go through the session pool, so they share the unit's session and coalesce with REST reads.
type Poller struct {
	o        SourceOptions
	interval time.Duration
}

// NewPoller makes a poll source; interval 0 means 2 s.
func NewPoller(o SourceOptions, interval time.Duration) *Poller {
	o.setDefaults()
	if interval <= 0 {
		interval = 2 * time.Second
	}
	return &Poller{o: o, interval: interval}
}

// Kind is "poll".
func (p *Poller) Kind() string { return string(api.UnitStateEventDataSourcePoll) }

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context, emit Emit) {
	w := newWatch(ctx, &p.o, api.UnitStateEventDataSourcePoll, emit)
	defer w.cdrs.wait()
	m := p.o.Metrics
	m.SetSourceState(p.o.Unit, p.Kind(), "polling")
	defer m.SetSourceState(p.o.Unit, p.Kind(), "")
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		// Extensions first: the calls' destinations are typed from them.
		err := w.syncExtensions(ctx)
		if err == nil {
			err = w.syncCalls(ctx)
		}
		m.EventsReceived.WithLabelValues(p.o.Unit, "poll").Inc()
		if err != nil {
			m.EventSourceRetries.WithLabelValues(p.o.Unit, p.Kind()).Inc()
			m.SetSourceState(p.o.Unit, p.Kind(), stateMetric(stateOf(err)))
			w.failed(ctx, err)
		} else {
			m.SetSourceState(p.o.Unit, p.Kind(), "polling")
			w.setState(api.UnitStateEventDataStateReady, "")
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// stateMetric is the source-state metric value for a failed reading.
func stateMetric(st api.UnitStateEventDataState) string {
	if st == api.UnitStateEventDataStateLoginStopped {
		return "login_stopped"
	}
	return "failing"
}

var _ Source = (*Poller)(nil)
