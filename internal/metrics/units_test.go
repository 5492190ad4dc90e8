package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// In summary, 1,000 units cost a handful of series, and the gauges still say something true.
func TestSummaryIsBoundedAndCounts(t *testing.T) {
	m := NewWithOptions("1", Options{PerUnit: false})
	for i := range 1000 {
		id := "u" + string(rune('a'+i%26)) + string(rune('0'+i%10))
		l := m.Unit(id)
		require.Equal(t, SummaryUnit, l)
		m.MoveSessionState(l, "", "cold")
		m.SetBreakerState(l, 0)
		m.Logins.WithLabelValues(l, "success")
	}
	m.MoveSessionState(SummaryUnit, "cold", "ready")
	m.MoveSessionState(SummaryUnit, "cold", "ready")
	m.SetInFlight(SummaryUnit, 1, 1)
	m.SetInFlight(SummaryUnit, 1, 1)
	m.SetInFlight(SummaryUnit, 0, -1)

	assert.Equal(t, 998.0, testutil.ToFloat64(m.SessionState.WithLabelValues(SummaryUnit, "cold")))
	assert.Equal(t, 2.0, testutil.ToFloat64(m.SessionState.WithLabelValues(SummaryUnit, "ready")))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.SessionState.WithLabelValues(SummaryUnit, "auth_failed")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.InFlight.WithLabelValues(SummaryUnit)))
	assert.Equal(t, 0, testutil.CollectAndCount(m.BreakerState), "breaker_state is per unit only")
	assert.Equal(t, len(SessionStates), testutil.CollectAndCount(m.SessionState))
	problems, err := testutil.GatherAndLint(m.Registry)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func TestPerUnitByDefault(t *testing.T) {
	m := New("1")
	assert.True(t, m.PerUnit())
	assert.Equal(t, "hq", m.Unit("hq"))
	m.MoveSessionState("hq", "", "cold")
	m.MoveSessionState("hq", "cold", "ready")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.SessionState.WithLabelValues("hq", "ready")))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.SessionState.WithLabelValues("hq", "cold")))
	m.SetInFlight("hq", 3, 1)
	assert.Equal(t, 3.0, testutil.ToFloat64(m.InFlight.WithLabelValues("hq")))
}
