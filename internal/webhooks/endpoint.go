package webhooks

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
)

// endpoint is one receiver: a pump that moves events from its hubs into its queue, and a sender
// that delivers the queue in order, one request at a time. They share only the state under mu.
type endpoint struct {
	cfg      Endpoint
	shownURL string
	client   *http.Client
	logger   *slog.Logger
	metrics  *metrics.Metrics
	backoff  Backoff
	jitter   func(time.Duration) time.Duration
	ua       string

	subs []*events.Subscription
	// groups, with a fleet of replicas, are where events come from instead of subs (which
	// then only keep the units' sources running): one consumer group per unit, so each event
	// reaches this receiver from one replica.
	groups    []*events.Group
	claimIdle time.Duration
	bell      chan struct{} // shared by subs: some hub has a new event
	arrived   chan struct{} // pump → sender: the queue has something (or draining began)
	resumed   chan struct{} // Resume → sender: stop waiting, try now
	closing   chan struct{} // closed by drain: a back-off ends the sender

	mu       sync.Mutex
	queue    queue
	current  *item            // being delivered or retried; not in queue
	missed   map[string]int64 // unit → newest event dropped from the queue: a sync is due before the rest
	draining bool             // Close began: deliver what is queued while it goes well, then stop

	suspended           bool
	suspendedAt         time.Time
	lastError           string
	lastFailureAt       time.Time
	lastSuccessAt       time.Time
	consecutiveFailures int
	failingSince        time.Time
	delivered, gaveUp   uint64
	dropped, suspends   uint64
	dropBurst           int // events dropped since the queue last had room; > 0 while a burst lasts
}

// item is one event on its way to one endpoint.
type item struct {
	ev       events.Event
	id       string    // webhook-id, the same on every attempt
	firstTry time.Time // zero until attempted; moved forward by the time spent suspended
	attempts int
	ack      func() // with a fleet: the group is told the event is done with
}

// done acknowledges the item to its consumer group, if it came from one.
func (it *item) done() {
	if it.ack != nil {
		it.ack()
	}
}

func newEndpoint(cfg Endpoint, client *http.Client, o Options) *endpoint {
	e := &endpoint{
		cfg: cfg, shownURL: shownURL(cfg.URL), client: client, logger: o.Logger, metrics: o.Metrics,
		backoff: o.Backoff, jitter: o.Jitter, ua: o.UserAgent,
		bell: make(chan struct{}, 1), arrived: make(chan struct{}, 1), resumed: make(chan struct{}, 1),
		closing: make(chan struct{}),
		queue:   newQueue(cfg.QueueSize), missed: map[string]int64{},
		claimIdle: o.ClaimIdle,
	}
	if e.claimIdle <= 0 {
		e.claimIdle = max(3*cfg.Timeout, 10*time.Second)
	}
	for _, outcome := range []string{outcomeDelivered, outcomeFailed, outcomeGaveUp, outcomeDropped} {
		o.Metrics.WebhookDeliveries.WithLabelValues(cfg.Name, outcome)
	}
	o.Metrics.WebhookQueueDepth.WithLabelValues(cfg.Name).Set(0)
	o.Metrics.WebhookSuspended.WithLabelValues(cfg.Name).Set(0)
	return e
}

// The outcome label values of ucm_gateway_webhook_deliveries_total.
const (
	outcomeDelivered = "delivered"
	outcomeFailed    = "failed"
	outcomeGaveUp    = "gave_up"
	outcomeDropped   = "dropped"
)

// shownURL is the URL without user info, query or fragment, where secrets may sit.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// pump moves events from the hubs into the queue as soon as they are published, so the hub's
// buffer never fills on this endpoint's account however slow its receiver is.
func (e *endpoint) pump(ctx context.Context) {
	defer func() {
		for _, s := range e.subs {
			s.Close()
		}
	}()
	for {
		e.takeIn()
		select {
		case <-ctx.Done():
			e.takeIn() // what was published before Close is still taken in, for Close's drain
			return
		case <-e.bell:
		}
	}
}

// takeIn queues every event the subscriptions have ready.
func (e *endpoint) takeIn() {
	if len(e.groups) > 0 {
		return // the groups' readers queue the events
	}
	for _, s := range e.subs {
		for {
			ev, ok := s.Next()
			if !ok {
				break
			}
			e.enqueue(ev)
		}
	}
}

// enqueue adds an event; a full queue drops its oldest waiting event and remembers that the
// receiver must be told (a sync event) before it gets the rest.
func (e *endpoint) enqueue(ev events.Event) { e.enqueueItem(item{ev: ev, id: MessageID(ev)}) }

func (e *endpoint) enqueueItem(it item) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if old, ok := e.queue.pushDropOldest(it); ok {
		old.done()
		e.missed[old.ev.Unit] = max(e.missed[old.ev.Unit], old.ev.ID)
		e.dropped++
		e.metrics.WebhookDeliveries.WithLabelValues(e.cfg.Name, outcomeDropped).Inc()
		if e.dropBurst == 0 {
			e.logger.Warn("webhook queue full: dropping the oldest events (the receiver gets a sync event in their place)",
				"webhook", e.cfg.Name, "queue_size", e.cfg.QueueSize, "suspended", e.suspended)
		}
		e.dropBurst++
	} else if e.dropBurst > 0 {
		e.logger.Info("webhook queue has room again", "webhook", e.cfg.Name, "dropped", e.dropBurst)
		e.dropBurst = 0
	}
	e.setDepth()
	signal(e.arrived)
}

// signal wakes a waiting loop without ever blocking the caller.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// depthLocked is what waits for delivery, the event being retried included. Called with mu held.
func (e *endpoint) depthLocked() int {
	n := e.queue.len()
	if e.current != nil {
		n++
	}
	return n
}

func (e *endpoint) depth() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.depthLocked()
}

func (e *endpoint) setDepth() {
	e.metrics.WebhookQueueDepth.WithLabelValues(e.cfg.Name).Set(float64(e.depthLocked()))
}

// resume lifts a suspension and wakes the sender, which also cuts a back-off short.
func (e *endpoint) resume() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.suspended {
		now := time.Now()
		if e.current != nil && !e.current.firstTry.IsZero() {
			// The time suspended is the operator's, not the event's: it does not use up retry_for.
			e.current.firstTry = e.current.firstTry.Add(now.Sub(e.suspendedAt))
		}
		e.suspended = false
		e.metrics.WebhookSuspended.WithLabelValues(e.cfg.Name).Set(0)
		e.logger.Info("webhook resumed", "webhook", e.cfg.Name, "queued", e.depthLocked(), "suspended_for", now.Sub(e.suspendedAt).Round(time.Second).String())
	}
	e.consecutiveFailures, e.failingSince = 0, time.Time{}
	signal(e.resumed)
	signal(e.arrived)
}

// drain tells the sender that no more events come: it stops once the queue is empty, or as soon
// as the receiver fails.
func (e *endpoint) drain() {
	e.mu.Lock()
	e.draining = true
	e.mu.Unlock()
	close(e.closing)
	signal(e.arrived)
}
