package metrics

import "github.com/prometheus/client_golang/prometheus"

// eventCollectors are the live-event and webhook collectors. Labels: units and webhook names come
// from the configuration, types and outcomes from the gateway's own code.
type eventCollectors struct {
	EventSubscribers   *prometheus.GaugeVec     // unit: SSE clients and webhooks subscribed now
	EventSourceUp      *prometheus.GaugeVec     // unit: 1 while the unit's event source runs
	EventSourceState   *prometheus.GaugeVec     // unit, source, state ("connected", "connecting", "login_stopped", "polling"): 1 for the current
	EventSourceRetries *prometheus.CounterVec   // unit, source: reconnects of the UCM socket, failed polls
	EventsReceived     *prometheus.CounterVec   // unit, name: upstream notifications by UCM event name, or poll readings
	EventsEmitted      *prometheus.CounterVec   // unit, type: events published to subscribers
	WebhookDeliveries  *prometheus.CounterVec   // webhook, outcome ("delivered", "failed", "gave_up", "dropped")
	WebhookLatency     *prometheus.HistogramVec // webhook: one delivery attempt, whatever its outcome
	WebhookQueueDepth  *prometheus.GaugeVec     // webhook: events waiting for delivery
	WebhookSuspended   *prometheus.GaugeVec     // webhook: 1 while suspended after repeated failure
}

// SourceStates are the values of ucm_gateway_event_source_state; exactly one is 1 per running source.
var SourceStates = []string{"connecting", "connected", "polling", "login_stopped", "failing"}

func newEventCollectors() eventCollectors {
	return eventCollectors{
		EventSubscribers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ucm_gateway_event_subscribers",
			Help: "Subscribers (SSE clients and webhook endpoints) of each unit's events.",
		}, []string{"unit"}),
		EventSourceUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ucm_gateway_event_source_up",
			Help: "1 while the unit's upstream event source (UCM WebSocket or poll loop) runs.",
		}, []string{"unit"}),
		EventSourceState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ucm_gateway_event_source_state",
			Help: "1 for the current state of each unit's event source (connecting, connected, polling, login_stopped, failing).",
		}, []string{"unit", "source", "state"}),
		EventSourceRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucm_gateway_event_source_retries_total",
			Help: "Reconnects of the UCM WebSocket, or failed poll rounds, per unit.",
		}, []string{"unit", "source"}),
		EventsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucm_gateway_events_received_total",
			Help: "Upstream notifications by UCM event name (websocket), or channel-list readings (poll).",
		}, []string{"unit", "name"}),
		EventsEmitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucm_gateway_events_emitted_total",
			Help: "Events published to subscribers, by type.",
		}, []string{"unit", "type"}),
		WebhookDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucm_gateway_webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome: delivered, failed (will retry), gave_up (retry time spent), dropped (queue full).",
		}, []string{"webhook", "outcome"}),
		WebhookLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                           "ucm_gateway_webhook_delivery_duration_seconds",
			Help:                           "Latency of one webhook delivery attempt, whatever its outcome.",
			Buckets:                        []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 100,
		}, []string{"webhook"}),
		WebhookQueueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ucm_gateway_webhook_queue_depth",
			Help: "Events waiting for delivery to each webhook endpoint.",
		}, []string{"webhook"}),
		WebhookSuspended: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ucm_gateway_webhook_suspended",
			Help: "1 while a webhook endpoint is suspended after repeated failure (resume it with POST /v1/webhooks/{name}/resume).",
		}, []string{"webhook"}),
	}
}

func (c eventCollectors) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.EventSubscribers, c.EventSourceUp, c.EventSourceState, c.EventSourceRetries,
		c.EventsReceived, c.EventsEmitted, c.WebhookDeliveries, c.WebhookLatency, c.WebhookQueueDepth, c.WebhookSuspended}
}

// SetSourceState marks state as the current one of the unit's event source.
func (m *Metrics) SetSourceState(unit, source, state string) {
	for _, s := range SourceStates {
		v := 0.0
		if s == state {
			v = 1
		}
		m.EventSourceState.WithLabelValues(unit, source, s).Set(v)
	}
}
