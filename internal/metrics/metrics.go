// Package metrics owns the gateway's Prometheus registry and the collectors every layer reports
// to. There is no global registry: main builds one Metrics and hands it to each constructor, so
// tests can build their own and read exact values.
package metrics

import (
	"regexp"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Session states reported by ucm_gateway_session_state; exactly one is 1 per unit.
var SessionStates = []string{"cold", "ready", "auth_failed", "unreachable", "backing_off"}

// Metrics holds every collector. Labels are bounded by construction: units come from the
// configuration, actions from the gateway's own code or allow-list, routes from chi patterns.
type Metrics struct {
	Registry *prometheus.Registry

	// Upstream (UCM) side.
	UCMCalls        *prometheus.CounterVec   // unit, action, outcome ("ok", "status_-6", "transport", "timeout", "not_json", "canceled")
	UCMCallDuration *prometheus.HistogramVec // unit, action
	Logins          *prometheus.CounterVec   // unit, result ("success", "failure")
	SessionState    *prometheus.GaugeVec     // unit, state
	InFlight        *prometheus.GaugeVec     // unit
	BreakerState    *prometheus.GaugeVec     // unit (0 closed, 1 half-open, 2 open)
	Coalesced       *prometheus.CounterVec   // unit: reads answered by another caller's identical call
	Refusals        *prometheus.CounterVec   // unit, reason: requests refused without calling the unit

	// Client (REST) side.
	HTTPRequests *prometheus.CounterVec   // route, method, code
	HTTPDuration *prometheus.HistogramVec // route, method

	eventCollectors  // live events and webhooks (events.go)
	sharedCollectors // shared state and configuration reloads (shared.go)

	summary bool // upstream series summed over units (units.go)
}

// liveHeap adds three runtime series to the Go collector's: go_gc_heap_live_bytes (what the
// last collection found live: the memory the gateway really holds, where go_memstats' heap in
// use also counts garbage not yet collected), go_gc_heap_goal_bytes and
// go_gc_cycles_total_gc_cycles_total.
var liveHeap = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/(heap/live|heap/goal|cycles/total):`)}

// New builds and registers every collector on a fresh registry.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		UCMCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucm_gateway_ucm_calls_total",
			Help: "Actions sent to UCM units, by outcome: ok, status_<code> for a UCM error status, transport, timeout, not_json, canceled.",
		}, []string{"unit", "action", "outcome"}),
		UCMCallDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                           "ucm_gateway_ucm_call_duration_seconds",
			Help:                           "Latency of actions sent to UCM units, whatever their outcome.",
			Buckets:                        []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 90},
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 100,
		}, []string{"unit", "action"}),
		Logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucm_gateway_logins_total",
			Help: "Challenge+login handshakes with UCM units, by result (success, failure).",
		}, []string{"unit", "result"}),
		SessionState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ucm_gateway_session_state",
			Help: "1 for the current session state of each unit (cold, ready, auth_failed, unreachable, backing_off), 0 for the others.",
		}, []string{"unit", "state"}),
		InFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ucm_gateway_ucm_in_flight",
			Help: "Actions currently being sent to each unit.",
		}, []string{"unit"}),
		BreakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ucm_gateway_breaker_state",
			Help: "Circuit breaker per unit: 0 closed, 1 half-open, 2 open.",
		}, []string{"unit"}),
		Coalesced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucm_gateway_coalesced_reads_total",
			Help: "Reads answered by an identical concurrent call instead of a call of their own.",
		}, []string{"unit"}),
		Refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucm_gateway_unit_refusals_total",
			Help: "Requests refused without calling the unit, by reason: overloaded (every slot busy), breaker_open, paused (the unit said too frequent), backing_off (after a failed login).",
		}, []string{"unit", "reason"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucm_gateway_http_requests_total",
			Help: "REST requests served, by chi route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                           "ucm_gateway_http_request_duration_seconds",
			Help:                           "REST request latency by chi route pattern and method.",
			Buckets:                        []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 90},
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 100,
		}, []string{"route", "method"}),
		eventCollectors:  newEventCollectors(),
		sharedCollectors: newSharedCollectors(),
	}
	m.ConfigReloadSuccess.Set(1)
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ucm_gateway_build_info",
		Help: "Always 1; labels carry the gateway version and Go version.",
	}, []string{"version", "goversion"})
	goVersion := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
	}
	build.WithLabelValues(version, goVersion).Set(1)
	reg.MustRegister(m.UCMCalls, m.UCMCallDuration, m.Logins, m.SessionState, m.InFlight,
		m.BreakerState, m.Coalesced, m.Refusals, m.HTTPRequests, m.HTTPDuration, build,
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(liveHeap)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(m.eventCollectors.collectors()...)
	reg.MustRegister(m.sharedCollectors.collectors()...)
	return m
}

// SetSessionState marks state as the unit's current one.
func (m *Metrics) SetSessionState(unit, state string) {
	for _, s := range SessionStates {
		v := 0.0
		if s == state {
			v = 1
		}
		m.SessionState.WithLabelValues(unit, s).Set(v)
	}
}
