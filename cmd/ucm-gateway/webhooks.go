package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/webhooks"
)

// startWebhooks subscribes every configured webhook to its units' hubs and starts delivering.
// The result is never nil (with no webhooks it does nothing) and is what handlers.Options.Webhooks
// takes; serve closes it on shutdown with the shutdown context, so healthy receivers get what is
// still queued. Each webhook keeps its units' event sources running for as long as it lives.
func startWebhooks(cfg *config.Config, set *events.Set, logger *slog.Logger, m *metrics.Metrics) (*webhooks.Service, error) {
	list := make([]webhooks.Endpoint, 0, len(cfg.Webhooks))
	for _, w := range cfg.Webhooks {
		types, bad := events.ParseFilter(w.Types)
		if bad != "" { // config.Load refused it already; this guards a hand-built Config
			return nil, fmt.Errorf("webhook %s: %q matches no event type", w.Name, bad)
		}
		list = append(list, webhooks.Endpoint{
			Name: w.Name, URL: w.URL, Secret: w.Secret, Units: w.Units, Types: types,
			Timeout: w.Timeout, RetryFor: w.RetryFor, QueueSize: w.QueueSize,
			SuspendAfterFailures: w.SuspendAfterFailures, SuspendAfter: w.SuspendAfter,
		})
	}
	return webhooks.New(list, set, webhooks.Options{Logger: logger, Metrics: m, UserAgent: "ucm-gateway/" + version})
}

// hookHolder is the running webhook service, which a reload replaces: the handlers read it
// through handlers.Webhooks, so GET /v1/webhooks and resume always reach the current one.
type hookHolder struct {
	mu  sync.RWMutex
	svc *webhooks.Service
}

func (h *hookHolder) current() *webhooks.Service {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.svc
}

// List, Get and Resume are handlers.Webhooks.
func (h *hookHolder) List() []webhooks.Status { return h.current().List() }

func (h *hookHolder) Get(name string) (webhooks.Status, error) { return h.current().Get(name) }

func (h *hookHolder) Resume(name string) (webhooks.Status, error) { return h.current().Resume(name) }

// swap installs next and returns the service it replaces.
func (h *hookHolder) swap(next *webhooks.Service) *webhooks.Service {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.svc
	h.svc = next
	return old
}

// Close stops the current service.
func (h *hookHolder) Close(ctx context.Context) error { return h.current().Close(ctx) }
