package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetricsAndFreshnessKeys(t *testing.T) {
	c, err := Load([]byte(unitYAML), fakeEnv(nil), fakeFiles(nil))
	require.NoError(t, err)
	assert.True(t, c.Metrics.PerUnit, "per-unit series by default")
	assert.Equal(t, time.Second, c.Session.ListFreshness, "a 1s list freshness window by default")
	assert.True(t, c.Session.ContactAtStart, "units are contacted at start by default")

	c, err = Load([]byte("metrics: {per_unit: false}\nsession: {list_freshness: 0s}\n"+unitYAML), fakeEnv(nil), fakeFiles(nil))
	require.NoError(t, err)
	assert.False(t, c.Metrics.PerUnit)
	assert.Zero(t, c.Session.ListFreshness, "0 disables the window")

	_, err = Load([]byte("session: {list_freshness: 2m}\n"+unitYAML), fakeEnv(nil), fakeFiles(nil))
	require.ErrorContains(t, err, "session.list_freshness: 2m0s is outside 0..1m")
	_, err = Load([]byte("metrics: {per_unit: sometimes}\n"+unitYAML), fakeEnv(nil), fakeFiles(nil))
	require.ErrorContains(t, err, "metrics.per_unit")
}
