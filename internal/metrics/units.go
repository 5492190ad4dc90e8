package metrics

// Per-unit series or a summary. Each configured unit costs about fifteen series (session
// state, breaker, logins, in flight, refusals…) before it does anything: with 10,000 units
// /metrics was 8 MB. With Options.PerUnit false (metrics.per_unit: false in the configuration)
// every unit reports under the one label value SummaryUnit: counters and histograms add up
// across units, ucm_gateway_session_state counts the units in each state, in_flight the calls
// in flight to all units, and ucm_gateway_breaker_state (a per-unit state) is left out: GET
// /v1/units shows each unit's breaker.

// SummaryUnit is the unit label of every series when per-unit series are off.
const SummaryUnit = "_all"

// Options tune what the registry exposes.
type Options struct {
	// PerUnit labels upstream series with each unit's id (true), or sums them under SummaryUnit.
	PerUnit bool
}

// NewWithOptions is New with options.
func NewWithOptions(version string, o Options) *Metrics {
	m := New(version)
	m.summary = !o.PerUnit
	return m
}

// Unit is the label value a unit's series carry: its id, or SummaryUnit.
func (m *Metrics) Unit(id string) string {
	if m.summary {
		return SummaryUnit
	}
	return id
}

// PerUnit reports whether series are labelled by unit.
func (m *Metrics) PerUnit() bool { return !m.summary }

// MoveSessionState records a unit's session moving from one state to another ("" when it had
// none yet): per unit, the new state is 1 and the others 0; in summary, each state counts its units.
func (m *Metrics) MoveSessionState(unit, from, to string) {
	if !m.summary {
		m.SetSessionState(unit, to)
		return
	}
	if from == "" {
		for _, s := range SessionStates {
			m.SessionState.WithLabelValues(SummaryUnit, s).Add(0) // every state is shown, at 0 if none
		}
	} else {
		m.SessionState.WithLabelValues(SummaryUnit, from).Dec()
	}
	m.SessionState.WithLabelValues(SummaryUnit, to).Inc()
}

// SetInFlight records the calls in flight to a unit after one started (delta 1) or ended (-1).
func (m *Metrics) SetInFlight(unit string, now int64, delta int) {
	if !m.summary {
		m.InFlight.WithLabelValues(unit).Set(float64(now))
		return
	}
	m.InFlight.WithLabelValues(SummaryUnit).Add(float64(delta))
}

// SetBreakerState records a unit's breaker state (0 closed, 1 half-open, 2 open); per unit only.
func (m *Metrics) SetBreakerState(unit string, state float64) {
	if !m.summary {
		m.BreakerState.WithLabelValues(unit).Set(state)
	}
}
