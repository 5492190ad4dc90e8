package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetSessionStateMarksExactlyOne(t *testing.T) {
	m := New("1.2.3")
	for _, state := range SessionStates {
		t.Run(state, func(t *testing.T) {
			m.SetSessionState("hq", state)
			for _, s := range SessionStates {
				want := 0.0
				if s == state {
					want = 1
				}
				got := testutil.ToFloat64(m.SessionState.WithLabelValues("hq", s))
				assert.Equalf(t, want, got, "session_state{unit=hq,state=%s} after SetSessionState(%s)", s, state)
			}
		})
	}
}

func TestBuildInfoAndLint(t *testing.T) {
	m := New("1.2.3")
	fams, err := m.Registry.Gather()
	require.NoError(t, err)
	var version string
	for _, f := range fams {
		if f.GetName() == "ucm_gateway_build_info" {
			for _, l := range f.GetMetric()[0].GetLabel() {
				if l.GetName() == "version" {
					version = l.GetValue()
				}
			}
		}
	}
	assert.Equal(t, "1.2.3", version)

	m.UCMCalls.WithLabelValues("hq", "getSIPAccount", "ok").Inc()
	m.UCMCallDuration.WithLabelValues("hq", "getSIPAccount").Observe(0.02)
	m.HTTPRequests.WithLabelValues("/v1/units", "GET", "200").Inc()
	m.HTTPDuration.WithLabelValues("/v1/units", "GET").Observe(0.001)
	problems, err := testutil.GatherAndLint(m.Registry)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// Two gateways in one process (tests do this) must not share or collide on a registry.
func TestRegistriesAreIndependent(t *testing.T) {
	a, b := New("a"), New("b")
	a.Logins.WithLabelValues("hq", "success").Inc()
	assert.Equal(t, 1, testutil.CollectAndCount(a.Logins))
	assert.Equal(t, 0, testutil.CollectAndCount(b.Logins))
	require.NoError(t, testutil.GatherAndCompare(a.Registry, strings.NewReader(`
# HELP ucm_gateway_logins_total Challenge+login handshakes with UCM units, by result (success, failure).
# TYPE ucm_gateway_logins_total counter
ucm_gateway_logins_total{result="success",unit="hq"} 1
`), "ucm_gateway_logins_total"))
}
