package metrics

import "github.com/prometheus/client_golang/prometheus"

// sharedCollectors are about the state a fleet of replicas shares (Redis) and about the
// configuration being reloaded.
type sharedCollectors struct {
	// RedisUp is 1 while Redis answers, 0 while it does not; absent without Redis.
	RedisUp prometheus.Gauge
	// RateLimitLocal counts requests whose budget was counted in this replica's memory because
	// Redis was down (the budget is then per replica).
	RateLimitLocal prometheus.Counter
	// ConfigReloadSuccess is 1 when the last reload worked (or none was asked), 0 when it failed;
	// ConfigReloadTime is when the configuration in use was last loaded (the start counts), as
	// Prometheus names its own.
	ConfigReloadSuccess prometheus.Gauge
	ConfigReloadTime    prometheus.Gauge
}

func newSharedCollectors() sharedCollectors {
	return sharedCollectors{
		RedisUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ucm_gateway_redis_up",
			Help: "1 while the shared state (Redis) answers, 0 while it does not; absent when Redis is not configured.",
		}),
		RateLimitLocal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ucm_gateway_rate_limit_local_fallback_total",
			Help: "Requests whose rate-limit budget was counted in this replica alone because Redis was unavailable.",
		}),
		ConfigReloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ucm_gateway_config_reload_success",
			Help: "1 if the last configuration reload succeeded (or none was requested), 0 if it failed.",
		}),
		ConfigReloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ucm_gateway_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load (the start counts as one).",
		}),
	}
}

// RegisterRedis registers ucm_gateway_redis_up: only a gateway with Redis has it.
func (m *Metrics) RegisterRedis() { m.Registry.MustRegister(m.RedisUp) }

func (s sharedCollectors) collectors() []prometheus.Collector {
	return []prometheus.Collector{s.RateLimitLocal, s.ConfigReloadSuccess, s.ConfigReloadTime}
}

// ForgetUnit drops the series of a unit a configuration reload removed, so dashboards do not
// show it frozen at its last values.
func (m *Metrics) ForgetUnit(unit string) {
	l := prometheus.Labels{"unit": unit}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.UCMCalls, m.UCMCallDuration, m.Logins, m.SessionState, m.InFlight, m.BreakerState, m.Coalesced, m.Refusals,
	} {
		v.DeletePartialMatch(l)
	}
}
