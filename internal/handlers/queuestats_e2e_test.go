package handlers

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

func TestQueueStats(t *testing.T) {
	e := newEnv(t)
	day := time.Date(2024, 11, 4, 0, 0, 0, 0, time.UTC)
	e.sim.AddQueueStats("6501", day, ucmsim.QueueDayStats{Total: 10, Answered: 8, Abandoned: 2, TransferOut: 1, WaitSeconds: 125, TalkSeconds: 1000, WithinSLA: 7})
	e.sim.AddQueueStats("6501", day.AddDate(0, 0, 2), ucmsim.QueueDayStats{Total: 6, Answered: 6, WaitSeconds: 30, TalkSeconds: 600, WithinSLA: 6})
	e.sim.AddQueueStats("6501", day.AddDate(0, 0, 3), ucmsim.QueueDayStats{Total: 99, Answered: 99})

	// The UCM's strings become numbers; both ends of the period are included.
	var got map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/queues/6501/stats?from=2024-11-04&to=2024-11-06", &got))
	assert.Equal(t, map[string]any{
		"queue": "6501", "from": "2024-11-04", "to": "2024-11-06",
		"total_calls": 16.0, "answered_calls": 14.0, "abandoned_calls": 2.0, "transfer_out_calls": 1.0,
		"answered_rate": 87.5, "abandoned_rate": 12.5, "avg_wait": 9.69, "avg_talk": 114.29, "sla_rate": 81.25,
	}, got)

	// Today by default (the seeded day of 6500: 24 calls, 21 answered).
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/queues/6500/stats", &got))
	today := time.Now().UTC().Format(time.DateOnly)
	assert.Equal(t, today, got["from"])
	assert.Equal(t, today, got["to"])
	assert.Equal(t, 24.0, got["total_calls"])
	assert.Equal(t, 18.0, got["avg_wait"])

	// No calls in the period: zeros. An unknown queue: 404 (queueapi alone cannot tell).
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/queues/6501/stats?from=2020-01-01&to=2020-01-01", &got))
	assert.Equal(t, 0.0, got["total_calls"])
	assert.Equal(t, 0.0, got["answered_rate"])
	code, h, body := e.do(t, "GET", "/v1/units/demo/queues/6599/stats?from=2024-11-04", "", "")
	require.Equal(t, http.StatusNotFound, code, "body: %s", body)
	assert.Equal(t, -16, *problem(t, h, body).UCMStatus)
}

// A unit's queueapi is read as real units were seen to answer it, not only as the simulator
// does: a one-item list collapsed into an object, rates with "%", durations as h:m:s.
func TestQueueStatsReplyShapes(t *testing.T) {
	row, err := queueStatsRow([]byte(`{"root_statistics":{"total":{},"queue":{"queue":6500,"total_calls":"7","answered_rate":"85.7%","avg_wait":"00:01:05"}}}`), "6500")
	require.NoError(t, err)
	require.NotNil(t, row)
	assert.Equal(t, 7, statInt(row["total_calls"]))
	assert.Equal(t, 85.7, statNumber(row["answered_rate"]))
	assert.Equal(t, 65.0, statNumber(row["avg_wait"]))
	assert.Equal(t, 0.0, statNumber("n/a"))
	assert.Equal(t, 0.0, statNumber("-3"))

	row, err = queueStatsRow([]byte(`{"root_statistics":{"queue":[{"queue":"6501"}]}}`), "6500")
	require.NoError(t, err)
	assert.Nil(t, row, "another queue's row is not this queue's")
	row, err = queueStatsRow([]byte(`{"root_statistics":{}}`), "6500")
	require.NoError(t, err)
	assert.Nil(t, row)
	_, err = queueStatsRow([]byte(`{"cdr_root":[]}`), "6500")
	assert.Error(t, err, "not a queueapi reply")
}

func TestQueueWaitingCallers(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	later, err := e.sim.AddQueueCaller("6500", "+15550003333", now.Add(-10*time.Second))
	require.NoError(t, err)
	first, err := e.sim.AddQueueCaller("6500", "+15550002222", now.Add(-50*time.Second))
	require.NoError(t, err)
	_, err = e.sim.AddQueueCaller("6501", "+15550004444", now)
	require.NoError(t, err)

	var list struct {
		Queue string `json:"queue"`
		Items []struct {
			Position     int     `json:"position"`
			CallID       string  `json:"call_id"`
			Channel      string  `json:"channel"`
			CallerNumber *string `json:"caller_number"`
			Since        *string `json:"since"`
			WaitSeconds  *int    `json:"wait_seconds"`
		} `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/queues/6500/waiting", &list))
	require.Len(t, list.Items, 2, "the seeded inbound call is bridged, and 6501's caller waits elsewhere")
	w := list.Items[0]
	assert.Equal(t, 1, w.Position)
	assert.Equal(t, first, w.Channel, "longest waiting first")
	assert.Equal(t, "+15550002222", *w.CallerNumber)
	assert.Equal(t, callID(first), w.CallID)
	require.NotNil(t, w.WaitSeconds)
	assert.GreaterOrEqual(t, *w.WaitSeconds, 49)
	assert.Equal(t, now.Add(-50*time.Second).UTC().Truncate(time.Second).Format(time.RFC3339), *w.Since)
	assert.Equal(t, later, list.Items[1].Channel)
	assert.Equal(t, 2, list.Items[1].Position)

	// The call id works on the calls resources: a supervisor drops the caller.
	var call map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/calls/"+w.CallID, &call))
	code, _, body := e.do(t, "DELETE", "/v1/units/demo/calls/"+w.CallID, "", "")
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/queues/6500/waiting", &list))
	require.Len(t, list.Items, 1)
	assert.Equal(t, 1, list.Items[0].Position)

	code, h, body := e.do(t, "GET", "/v1/units/demo/queues/6599/waiting", "", "")
	require.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, -16, *problem(t, h, body).UCMStatus)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(body, &raw))
}
