package handlers

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// withTimeZone sets the simulated unit's clock to loc, and the gateway's configuration for it.
func withTimeZone(loc *time.Location) envOpt {
	return func(_ *sessionpool.UnitConfig, c *ucmsim.Config) { c.TimeZone = loc }
}

// A unit whose clock runs on India time (no DST, so the offset is fixed): every naive time it
// writes is read in its zone, answered as RFC 3339 with +05:30, and the CDR filters are written
// in its zone too.
func TestUnitTimesAreReadInItsZone(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	require.NoError(t, err)
	e := newEnv(t, withAnswerDelay(answerDelay), withTimeZone(kolkata))
	near := func(what string, s *string) {
		t.Helper()
		require.NotNil(t, s, what)
		got, err := time.Parse(time.RFC3339, *s)
		require.NoError(t, err, "%s %q is RFC 3339", what, *s)
		_, offset := got.Zone()
		assert.Equal(t, 5*3600+1800, offset, "%s %q carries the unit's offset", what, *s)
		assert.WithinDuration(t, time.Now(), got, 10*time.Second, "%s %q is the real instant", what, *s)
	}

	c := e.dial(t, `{"from":"1000","to":{"type":"extension","number":"1001"}}`, nil)
	near("created_at of the dial", c.CreatedAt)
	ringing := callJSON{}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls/"+c.ID, &ringing))
	near("created_at while ringing (alloc_time)", ringing.CreatedAt)
	c = e.waitStatus(t, c.ID, "in-progress", 2)
	near("created_at once bridged (uniqueid)", c.CreatedAt)
	near("answered_at (bridge_time)", c.AnsweredAt)
	code, _, b := e.do(t, "DELETE", "/v1/units/demo/calls/"+c.ID, "", "")
	require.Equal(t, http.StatusOK, code, "hangup: %s", b)

	var cdrs struct {
		Items []struct {
			Start  *string `json:"start"`
			Answer *string `json:"answer"`
			End    *string `json:"end"`
		} `json:"items"`
	}
	now := time.Now().UTC()
	window := url.Values{"caller": {"1000"}, "start_time": {now.Add(-time.Minute).Format(time.RFC3339)},
		"end_time": {now.Add(time.Minute).Format(time.RFC3339)}}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/cdrs?"+window.Encode(), &cdrs))
	require.Len(t, cdrs.Items, 1, "a window around now, given in UTC, finds the call")
	near("cdr start", cdrs.Items[0].Start)
	near("cdr answer", cdrs.Items[0].Answer)
	near("cdr end", cdrs.Items[0].End)

	later := url.Values{"caller": {"1000"}, "start_time": {now.Add(time.Minute).Format(time.RFC3339)}}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/cdrs?"+later.Encode(), &cdrs))
	assert.Empty(t, cdrs.Items, "nor does the unit see the call after a minute from now")
}
