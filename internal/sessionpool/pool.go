// Package sessionpool keeps one authenticated UCM session per unit and shares it among every
// request: logins are lazy, single-flight and cancel-safe; a rejected cookie is replaced once and
// the request retried; units in use are kept warm; credentials the unit refuses stop all further
// logins so the gateway never spends the unit's remaining attempts and gets its own IP banned.
package sessionpool

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
)

// Caller is the UCM protocol as the pool uses it; *ucm.Client satisfies it.
type Caller interface {
	Call(ctx context.Context, action, cookie string, params map[string]any) (json.RawMessage, error)
	Login(ctx context.Context, user, password string) (string, error)
	Logout(ctx context.Context, cookie string) error
	// Open sends an action and returns the raw HTTP reply (cdrapi, recapi); the caller closes it.
	Open(ctx context.Context, action, cookie string, params map[string]any) (*http.Response, error)
}

// UnitConfig is one unit as the pool needs it.
type UnitConfig struct {
	ID       string
	URL      string // shown in status only
	Username string
	Password string
	Client   Caller
	// Private keeps the unit's session out of Options.Sessions: the unit is this replica's own
	// (the --demo simulator runs inside each replica), so no other replica can use its cookie.
	Private bool
}

// CallInfo describes one finished UCM call, for request logs.
type CallInfo struct {
	Unit     string
	Action   string
	Outcome  string // as in the ucm_gateway_ucm_calls_total outcome label
	Duration time.Duration
}

// Options tune the pool; zero values take the defaults documented on each field.
type Options struct {
	IdleTimeout time.Duration // the UCM's cookie lifetime (10m); keep-alive runs well before it
	// RequestTimeout bounds one request to a unit from start to end (15s): the wait for a slot,
	// a login, the call, and its one retry all fit in it, so a client never waits longer.
	RequestTimeout time.Duration
	// CallTimeout bounds each single UCM call: challenge+login, or one action (10s; at most
	// RequestTimeout). A call that runs out is a timeout, and counts against the breaker.
	CallTimeout time.Duration
	// ActionTimeouts give slow actions (applyChanges) a longer deadline, for the request and for
	// its call alike.
	ActionTimeouts map[string]time.Duration
	// ListFreshness is the freshness window of list reads (fresh.go): an identical list read
	// that starts within it of a reply gets that reply without a call, unless a write came in
	// between. 0 (the default here; the configuration's default is 1s) disables it.
	ListFreshness time.Duration
	// MaxInFlight is the bulkhead: calls in flight to one unit at once (8). The UCM is a small
	// appliance, and a unit that stalls holds at most this many of the gateway's requests.
	MaxInFlight int
	// SlotWait is how long a request waits for a free slot before it is refused as overloaded
	// (2s): short, so a stalled unit answers its clients fast instead of queueing them.
	SlotWait        time.Duration
	BackoffBase     time.Duration // first back-off after a transient login failure (1s)
	BackoffMax      time.Duration // cap of the login back-off (8s), so a unit that is back is used soon
	BreakerFailures int           // consecutive failed calls (transport, timeout, not the API) that open the breaker (5)
	BreakerOpen     time.Duration // first open period of the breaker (2s); it doubles while probes fail
	BreakerOpenMax  time.Duration // cap of the open period (8s): a unit that is back is probed within it
	Logger          *slog.Logger
	Metrics         *metrics.Metrics
	OnCall          func(ctx context.Context, info CallInfo) // called after every UCM call on the request's context
	Jitter          func() float64                           // [0,1) source for back-off jitter (math/rand/v2)
	// Sessions shares the units' sessions with the other replicas of a fleet (store.go); nil
	// keeps them in this replica alone.
	Sessions SessionStore
}

func (o *Options) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.IdleTimeout, 10*time.Minute)
	def(&o.RequestTimeout, 15*time.Second)
	def(&o.CallTimeout, 10*time.Second)
	o.CallTimeout = min(o.CallTimeout, o.RequestTimeout)
	def(&o.SlotWait, 2*time.Second)
	def(&o.BackoffBase, time.Second)
	def(&o.BackoffMax, 8*time.Second)
	def(&o.BreakerOpen, 2*time.Second)
	def(&o.BreakerOpenMax, 8*time.Second)
	o.BreakerOpenMax = max(o.BreakerOpenMax, o.BreakerOpen)
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 8
	}
	if o.BreakerFailures <= 0 {
		o.BreakerFailures = 5
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New("test")
	}
	if o.OnCall == nil {
		o.OnCall = func(context.Context, CallInfo) {}
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
}

// Pool owns the sessions of every configured unit.
type Pool struct {
	opts Options
	set  atomic.Pointer[unitSet] // swapped whole by Update; a request keeps the unit it looked up
	run  context.Context
	mu   sync.Mutex // serialises Update

	stop      context.CancelFunc // ends the keep-alive loop, logins, shared reads and first contacts
	done      chan struct{}
	work      tasks // goroutines the pool started for requests: shared reads, first contacts
	closeOnce sync.Once
}

// New builds the pool and starts its keep-alive loop; Close stops it and logs out.
func New(opts Options, units []UnitConfig) (*Pool, error) {
	opts.setDefaults()
	runCtx, stop := context.WithCancel(context.Background())
	p := &Pool{opts: opts, run: runCtx, stop: stop, done: make(chan struct{})}
	set := &unitSet{units: make(map[string]*unit, len(units))}
	for _, cfg := range units {
		if _, dup := set.units[cfg.ID]; dup {
			stop()
			return nil, fmt.Errorf("sessionpool: unit %q configured twice", cfg.ID)
		}
		set.units[cfg.ID] = newUnit(runCtx, cfg, &p.opts, &p.work)
		set.order = append(set.order, cfg.ID)
	}
	p.set.Store(set)
	go p.keepAlive(runCtx)
	return p, nil
}

// Do sends one action to the unit over its shared session and returns the reply's response
// object, within the request deadline (Options.RequestTimeout) whatever happens on the way.
// Reads (get*/list*) with identical parameters that run at the same time share one call, and a
// read is retried once after a transport failure; a write is never retried except after the
// unit refused its cookie (it did nothing then), and a write whose answer was lost is an
// *OutcomeUnknownError. Refusals without a call are *UnavailableError.
func (p *Pool) Do(ctx context.Context, unitID, action string, params map[string]any) (json.RawMessage, error) {
	u, ok := p.set.Load().units[unitID]
	if !ok {
		return nil, ErrUnknownUnit
	}
	u.touch()
	var raw json.RawMessage
	var err error
	if isRead(action) {
		// The read's flight carries the request deadline (coalesce.go): a caller waits for
		// it no longer than that.
		raw, err = u.coalesced(ctx, action, params)
	} else {
		ctx, cancel := context.WithTimeout(ctx, u.requestTimeout(action))
		defer cancel()
		// A read that starts after this write must not join a flight that started before it.
		defer u.writes.Add(1)
		raw, err = u.exchange(ctx, action, params)
	}
	u.countRefusal(err)
	return raw, err
}

// Contact logs in to every unit that has no session yet, in the background, so that each
// unit's first contact (and its outcome: a TLS problem, an unreachable unit, refused
// credentials) is in the log at start rather than at the first request. A few units at a
// time: a gateway in front of thousands of units started one login per unit at once, and
// held thousands of TLS handshakes in memory (most would rather not contact them at start at
// all: session.contact_at_start). Close stops it.
func (p *Pool) Contact() {
	units := p.set.Load().list()
	next := make(chan *unit)
	for range min(contactParallel, len(units)) {
		p.work.Go(func() {
			for u := range next {
				ctx, cancel := context.WithTimeout(u.run, p.opts.RequestTimeout)
				_, _ = u.session(ctx)
				cancel()
			}
		})
	}
	p.work.Go(func() {
		defer close(next)
		for _, u := range units {
			select {
			case next <- u:
			case <-u.run.Done():
				return
			}
		}
	})
}

// contactParallel is how many units Contact logs in to at once.
const contactParallel = 8

// Has reports whether the unit is configured, so callers can refuse bad input before any call.
func (p *Pool) Has(unitID string) bool {
	_, ok := p.set.Load().units[unitID]
	return ok
}

// Close stops the keep-alive loop and logs out of every unit that holds a session.
func (p *Pool) Close(ctx context.Context) {
	p.closeOnce.Do(func() {
		p.stop()
		// A refresh, login or shared read in progress ends with the pool's context; don't
		// outwait ctx for it.
		work := make(chan struct{})
		go func() {
			p.work.closeAndWait()
			<-p.done
			close(work)
		}()
		select {
		case <-work:
		case <-ctx.Done():
		}
		var wg sync.WaitGroup
		for _, u := range p.set.Load().list() {
			wg.Go(func() { u.logout(ctx) })
		}
		wg.Wait()
	})
}

func isRead(action string) bool {
	return len(action) > 3 && (action[:3] == "get" || (len(action) > 4 && action[:4] == "list"))
}
