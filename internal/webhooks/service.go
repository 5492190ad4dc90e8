// Package webhooks delivers the units' live events to configured HTTP receivers, signed per the
// Standard Webhooks convention (webhook-id, webhook-timestamp, webhook-signature). Each endpoint
// is a hub subscriber like any SSE client, with a bounded queue of its own, one delivery in
// flight, retries with exponential back-off, and suspension after repeated failure until an
// operator resumes it. Nothing an endpoint does can slow event intake or another endpoint: the
// hub never waits for a subscriber, and each endpoint waits only on its own receiver.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
)

// Endpoint is one receiver and its delivery limits, as the configuration resolved them.
type Endpoint struct {
	Name   string
	URL    string // https, or http to a loopback host; may carry user info and a query (never shown)
	Secret []byte // the HMAC-SHA256 key (the decoded base64 of whsec_…)
	Units  []string
	Types  events.Filter // empty: every type; sync events always pass

	Timeout              time.Duration // one attempt
	RetryFor             time.Duration // one event, from its first attempt (suspended time does not count)
	QueueSize            int           // events waiting; when full the oldest is dropped
	SuspendAfterFailures int           // failed attempts in a row that suspend the endpoint
	SuspendAfter         time.Duration // or failing for this long
}

// Backoff is the wait after a failed attempt: Initial after the first failure in a row, doubling
// with each further one, never more than Max; jitter spreads it.
type Backoff struct {
	Initial, Max time.Duration
}

// Options are the service's dependencies; zero values take the documented defaults.
type Options struct {
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// Transport sends the requests; nil means one of the service's own (its idle connections
	// are closed by Close). Redirects are never followed, whatever the transport.
	Transport http.RoundTripper
	// Backoff defaults to 1s doubling to 5m.
	Backoff Backoff
	// Jitter turns a back-off into the wait actually used; nil picks at random in [d/2, d], so
	// endpoints failing together do not retry in lockstep.
	Jitter func(time.Duration) time.Duration
	// UserAgent is sent with every delivery (default "ucm-gateway").
	UserAgent string
	// ClaimIdle, with a fleet of replicas, is how long an event taken by a replica may sit
	// untouched before another claims it (the first died): default three of the endpoint's
	// timeouts, at least 10s. A live replica keeps what it works on touched.
	ClaimIdle time.Duration
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New("test")
	}
	if o.Backoff.Initial <= 0 {
		o.Backoff.Initial = time.Second
	}
	if o.Backoff.Max < o.Backoff.Initial {
		o.Backoff.Max = max(5*time.Minute, o.Backoff.Initial)
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }
	}
	if o.UserAgent == "" {
		o.UserAgent = "ucm-gateway"
	}
}

// ErrUnknownWebhook is returned for a name no endpoint has.
var ErrUnknownWebhook = errors.New("no such webhook")

// Service runs every configured endpoint. Its goroutines (two per endpoint) end with Close.
type Service struct {
	endpoints []*endpoint
	byName    map[string]*endpoint
	logger    *slog.Logger
	own       *http.Transport // closed by Close when the service made it

	stopPumps context.CancelFunc
	stopSends context.CancelFunc
	pumps     sync.WaitGroup
	sends     sync.WaitGroup
	closeOnce sync.Once
}

// New subscribes every endpoint to its units' hubs and starts delivering. Subscribing keeps each
// of those units' event sources running for as long as the service runs, which is intended: a
// webhook wants every event, whether or not an SSE client is watching.
func New(list []Endpoint, set *events.Set, o Options) (*Service, error) {
	o.setDefaults()
	if err := check(list, set); err != nil {
		return nil, err
	}
	s := &Service{byName: make(map[string]*endpoint, len(list)), logger: o.Logger}
	transport := o.Transport
	if transport == nil {
		s.own = http.DefaultTransport.(*http.Transport).Clone()
		transport = s.own
	}
	client := &http.Client{
		Transport: transport,
		// A receiver that moved must be reconfigured: following it would send signed events
		// wherever a compromised or misconfigured receiver points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	pumpCtx, stopPumps := context.WithCancel(context.Background())
	sendCtx, stopSends := context.WithCancel(context.Background())
	s.stopPumps, s.stopSends = stopPumps, stopSends
	for _, cfg := range list {
		e := newEndpoint(cfg, client, o)
		for _, u := range cfg.Units {
			bell := e.bell
			if g := set.Hub(u).Group("webhook:" + cfg.Name); g != nil {
				if err := g.Ensure(context.Background()); err != nil {
					o.Logger.Warn("webhook could not set up its events in the shared event log (Redis): it will once Redis answers",
						"webhook", cfg.Name, "unit", u, "err", err)
				}
				e.groups = append(e.groups, g)
				bell = make(chan struct{}, 1) // the subscription only keeps the source running
			}
			e.subs = append(e.subs, set.Hub(u).Subscribe(events.SubscribeOptions{Filter: cfg.Types, Bell: bell}))
		}
		s.endpoints = append(s.endpoints, e)
		s.byName[cfg.Name] = e
		s.pumps.Go(func() { e.pump(pumpCtx) })
		for _, g := range e.groups {
			s.pumps.Go(func() { e.readGroup(pumpCtx, g) })
		}
		s.sends.Go(func() { e.send(sendCtx) })
		o.Logger.Info("webhook endpoint started", "webhook", cfg.Name, "url", e.shownURL, "units", cfg.Units, "types", []string(cfg.Types))
	}
	return s, nil
}

// check refuses what the configuration should already have refused, so a caller that builds
// endpoints itself cannot start a deliverer that leaks or never sends.
func check(list []Endpoint, set *events.Set) error {
	seen := map[string]bool{}
	for i, e := range list {
		switch {
		case e.Name == "" || seen[e.Name]:
			return fmt.Errorf("webhooks: endpoint %d: the name %q is empty or not unique", i, e.Name)
		case len(e.Secret) == 0:
			return fmt.Errorf("webhooks: %s: no secret", e.Name)
		case len(e.Units) == 0:
			return fmt.Errorf("webhooks: %s: no units", e.Name)
		case e.Timeout <= 0 || e.RetryFor <= 0 || e.QueueSize <= 0 || e.SuspendAfterFailures <= 0 || e.SuspendAfter <= 0:
			return fmt.Errorf("webhooks: %s: every limit must be positive", e.Name)
		}
		seen[e.Name] = true
		u, err := url.Parse(e.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("webhooks: %s: the URL is not http(s)://host/…", e.Name)
		}
		for _, unit := range e.Units {
			if set.Hub(unit) == nil {
				return fmt.Errorf("webhooks: %s: unit %q has no event hub", e.Name, unit)
			}
		}
	}
	return nil
}

// List shows every endpoint, in configuration order.
func (s *Service) List() []Status {
	out := make([]Status, 0, len(s.endpoints))
	for _, e := range s.endpoints {
		out = append(out, e.status())
	}
	return out
}

// Get shows one endpoint.
func (s *Service) Get(name string) (Status, error) {
	e, ok := s.byName[name]
	if !ok {
		return Status{}, ErrUnknownWebhook
	}
	return e.status(), nil
}

// Resume lifts a suspension (or cuts a back-off short): delivery restarts at once with what is
// queued, the oldest first, under the same webhook-ids.
func (s *Service) Resume(name string) (Status, error) {
	e, ok := s.byName[name]
	if !ok {
		return Status{}, ErrUnknownWebhook
	}
	e.resume()
	return e.status(), nil
}

// Close stops taking events, lets each healthy endpoint deliver what it has queued until ctx
// ends, then abandons the rest (logged) and waits for every goroutine. A nil service, or one
// with no endpoints, closes at once.
func (s *Service) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}
	var err error
	s.closeOnce.Do(func() {
		s.stopPumps()
		s.pumps.Wait() // pumps never block; a group's reader waits out one Redis read at most
		for _, e := range s.endpoints {
			e.drain()
		}
		done := make(chan struct{})
		go func() { s.sends.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		s.stopSends() // cuts attempts still in flight; every sender returns promptly
		<-done
		for _, e := range s.endpoints {
			if n := e.depth(); n > 0 {
				s.logger.Warn("webhook stopped with events undelivered", "webhook", e.cfg.Name, "undelivered", n)
			}
			for _, g := range e.groups {
				_ = g.Leave(context.Background()) // what it still holds stays, for another replica
			}
		}
		if s.own != nil {
			s.own.CloseIdleConnections()
		}
	})
	return err
}
