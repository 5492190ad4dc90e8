package events

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// SourceOptions are what both sources share; zero values take the documented defaults.
type SourceOptions struct {
	Unit     string
	Upstream Upstream
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
	// QueueRefresh is how often the list of call queues is re-read (5m).
	QueueRefresh time.Duration
	// CdrDelays are the pauses before each look for an ended call's record: the unit writes it
	// shortly after the call (1s, 2s, 4s, 8s, 16s, 30s).
	CdrDelays []time.Duration
	// Location is the unit's time zone, for CDR time filters (UTC).
	Location *time.Location
	Now      func() time.Time
}

func (o *SourceOptions) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New("test")
	}
	if o.QueueRefresh <= 0 {
		o.QueueRefresh = 5 * time.Minute
	}
	if o.CdrDelays == nil {
		o.CdrDelays = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second}
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// watch is one run of a source: the tracker, the unit state last reported, the queue numbers,
// and the CDR lookups of ended calls. It lives for one Run.
type watch struct {
	o      *SourceOptions
	kind   api.UnitStateEventDataSource
	r      reader
	t      *tracker
	emit   Emit
	state  api.UnitStateEventDataState
	queues []string
	qAt    time.Time
	cdrs   *cdrLookups
}

func newWatch(ctx context.Context, o *SourceOptions, kind api.UnitStateEventDataSource, emit Emit) *watch {
	w := &watch{o: o, kind: kind, r: reader{unit: o.Unit, up: o.Upstream}, t: newTracker(o.Now, o.Location), emit: emit}
	w.cdrs = startCdrLookups(ctx, w)
	return w
}

// syncCalls reads the channel lists (and, now and then, the queue list) and emits what changed.
func (w *watch) syncCalls(ctx context.Context) error {
	if w.qAt.IsZero() || w.o.Now().Sub(w.qAt) >= w.o.QueueRefresh {
		q, err := w.r.queues(ctx)
		if err != nil {
			return err
		}
		w.queues, w.qAt = q, w.o.Now()
	}
	ch, err := w.r.channels(ctx)
	if err != nil {
		return err
	}
	first := !w.t.seen
	for _, c := range w.t.observeCalls(w.o.Unit, ch) {
		w.emit(c.typ, c.data)
		if c.typ == TypeCallEnded {
			w.cdrs.add(c.data.(api.CallEventData).Call)
		}
	}
	for _, c := range w.t.observeQueues(waiting(w.queues, ch), first) {
		w.emit(c.typ, c.data)
	}
	return nil
}

// syncExtensions reads every extension's state and emits what changed.
func (w *watch) syncExtensions(ctx context.Context) error {
	states, err := w.r.extensions(ctx)
	if err != nil {
		return err
	}
	for _, c := range w.t.observeExtensions(states, true) {
		w.emit(c.typ, c.data)
	}
	return nil
}

// setState emits unit.state when the gateway's view of the unit changes.
func (w *watch) setState(st api.UnitStateEventDataState, detail string) {
	if st == w.state {
		return
	}
	w.state = st
	d := api.UnitStateEventData{State: st, Source: w.kind}
	if detail != "" {
		d.Detail = &detail
	}
	w.emit(TypeUnitState, d)
}

// failed reports a failed reading as a unit state, unless the run is ending.
func (w *watch) failed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	st := stateOf(err)
	if st != w.state { // once per change, not once per failed poll
		w.o.Logger.Warn("event source could not read the unit", "unit", w.o.Unit, "source", string(w.kind), "state", string(st), "err", err)
	}
	w.setState(st, err.Error())
}

// stateOf classifies why the unit could not be read. Error texts carry no credential: the
// UCM client's errors name actions and statuses, never parameters.
func stateOf(err error) api.UnitStateEventDataState {
	var (
		ue   *ucm.Error
		stop *sessionpool.LoginStoppedError
		unav *sessionpool.UnavailableError
	)
	switch {
	case errors.As(err, &stop), errors.As(err, &ue) && (ue.Action == "login" || ue.Action == "challenge") && ucm.StopsLogins(err):
		return api.UnitStateEventDataStateLoginStopped
	case errors.As(err, &unav) && (unav.Kind == sessionpool.RefusedPaused || unav.Kind == sessionpool.RefusedBackingOff),
		errors.Is(err, ucm.StatusTooFrequent), errors.Is(err, ucm.StatusTooFrequent2), errors.Is(err, ucm.StatusTooFrequentLong):
		return api.UnitStateEventDataStateBackingOff
	case errors.As(err, &unav) && unav.Kind == sessionpool.RefusedOverloaded:
		return api.UnitStateEventDataStateFailing // the unit is up but every slot is busy
	case errors.Is(err, ucm.ErrTransport), errors.Is(err, ucm.ErrTimeout), errors.As(err, &unav):
		return api.UnitStateEventDataStateUnreachable // unreachable, a TLS failure, or the breaker open
	}
	return api.UnitStateEventDataStateFailing
}
