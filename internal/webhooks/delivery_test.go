package webhooks

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
)

// Every event of the endpoint's units and types arrives once, in order, signed so that an
// independent Standard Webhooks check accepts it, with the event's own JSON as the body.
func TestEveryEventArrivesSignedAndVerifiable(t *testing.T) {
	m := metrics.New("test")
	set := newSet(m, "hq", "branch", "other")
	rc := newReceiver(t, nil)
	ep := endpointFor(t, "crm", rc.srv.URL+"/hooks?token=abc", "hq", "branch")
	ep.Types, _ = events.ParseFilter([]string{"call.*", "cdr.created"})
	s := start(t, []Endpoint{ep}, set, fastOptions(m, nil))

	hq, branch := set.Hub("hq"), set.Hub("branch")
	hq.Publish(events.TypeCallRinging, map[string]string{"call": "a"})
	hq.Publish(events.TypeExtensionStatus, map[string]string{"ext": "1000"}) // filtered out
	branch.Publish(events.TypeCallAnswered, map[string]string{"call": "b"})
	set.Hub("other").Publish(events.TypeCallRinging, map[string]string{"call": "c"}) // not this endpoint's unit
	hq.Publish(events.TypeCdrCreated, map[string]string{"call": "a"})
	hq.Publish(events.TypeCallEnded, map[string]string{"call": "a"})

	waitDelivered(t, s, "crm", 4)
	got := rc.requests()
	require.Len(t, got, 4, "every event is delivered once")
	var hqTypes []string
	var lastHQ int64
	for _, d := range got {
		require.NoError(t, d.verified, "delivery %s", d.id)
		assert.Equal(t, "application/json", d.contentType)
		assert.Equal(t, "evt_"+d.event.Unit+"_"+strconv.FormatInt(d.event.ID, 10), d.id, "webhook-id is derived from the unit and event id")
		assert.NotEqual(t, "other", d.event.Unit)
		var raw map[string]any
		require.NoError(t, json.Unmarshal(d.body, &raw))
		assert.ElementsMatch(t, []string{"id", "type", "unit", "time", "data"}, keys(raw), "the body is the event as SSE sends it")
		if d.event.Unit == "hq" {
			assert.Greater(t, d.event.ID, lastHQ, "a unit's events arrive in order")
			lastHQ = d.event.ID
			hqTypes = append(hqTypes, d.event.Type)
		}
	}
	assert.Equal(t, []string{events.TypeCallRinging, events.TypeCdrCreated, events.TypeCallEnded}, hqTypes)
	assert.Equal(t, 4.0, testutil.ToFloat64(m.WebhookDeliveries.WithLabelValues("crm", "delivered")))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.WebhookDeliveries.WithLabelValues("crm", "failed")))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.WebhookQueueDepth.WithLabelValues("crm")))
	assert.Equal(t, uint64(4), histogramCount(t, m, "crm"), "one latency observation per attempt")
}

// histogramCount is the number of attempts the latency histogram saw for one webhook.
func histogramCount(t *testing.T, m *metrics.Metrics, webhook string) uint64 {
	t.Helper()
	families, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "ucm_gateway_webhook_delivery_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "webhook" && l.GetValue() == webhook {
					return s.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A receiver that fails for a while gets the missed events once it recovers: in order, the
// first under the same webhook-id as its failed attempts, each attempt signed afresh.
func TestFailingReceiverGetsMissedEventsInOrderWithTheirIDs(t *testing.T) {
	m := metrics.New("test")
	set := newSet(m, "hq")
	const failures = 4
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n < failures {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	s := start(t, []Endpoint{endpointFor(t, "crm", rc.srv.URL, "hq")}, set, fastOptions(m, nil))
	publishCalls(set.Hub("hq"), 0, 4)

	waitDelivered(t, s, "crm", 5)
	got := rc.requests()
	require.Len(t, got, failures+5)
	first := got[0].id
	for i, d := range got {
		require.NoError(t, d.verified, "request %d", i)
		if i < failures {
			assert.Equal(t, first, d.id, "request %d retries the first event under its webhook-id", i)
		}
	}
	var seqs []float64
	for _, d := range rc.delivered() {
		var data struct{ Seq float64 }
		require.NoError(t, json.Unmarshal(d.event.Data, &data))
		seqs = append(seqs, data.Seq)
	}
	assert.Equal(t, []float64{0, 1, 2, 3, 4}, seqs, "the missed events arrive in order")
	assert.Equal(t, first, rc.delivered()[0].id)
	assert.Equal(t, float64(failures), testutil.ToFloat64(m.WebhookDeliveries.WithLabelValues("crm", "failed")))
	assert.Equal(t, 5.0, testutil.ToFloat64(m.WebhookDeliveries.WithLabelValues("crm", "delivered")))
}

// A receiver that hangs holds only its own queue, and a dead one is suspended with its events
// kept: a healthy endpoint on the same units gets every event meanwhile.
func TestDeadAndHangingReceiversDoNotSlowOthers(t *testing.T) {
	m := metrics.New("test")
	set := newSet(m, "hq")
	release := make(chan struct{})
	hanging := newReceiver(t, func(_ int, r *http.Request) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return http.StatusOK
	})
	defer close(release) // before the server's Close, which waits for its handlers
	healthy := newReceiver(t, nil)
	dead := newReceiver(t, nil)
	dead.srv.Close() // connection refused from now on

	hang := endpointFor(t, "hanging", hanging.srv.URL, "hq")
	hang.Timeout = time.Minute
	deadEP := endpointFor(t, "dead", dead.srv.URL, "hq")
	deadEP.SuspendAfterFailures = 3
	s := start(t, []Endpoint{hang, deadEP, endpointFor(t, "healthy", healthy.srv.URL, "hq")}, set, fastOptions(m, nil))

	const n = 50
	publishCalls(set.Hub("hq"), 1, n)
	waitDelivered(t, s, "healthy", n)
	waitFor(t, "the dead endpoint to be suspended", func() bool { st, _ := s.Get("dead"); return st.Suspended })

	for i, d := range healthy.delivered() {
		require.NoError(t, d.verified)
		var data struct{ Seq int }
		require.NoError(t, json.Unmarshal(d.event.Data, &data))
		assert.Equal(t, i+1, data.Seq, "the healthy endpoint gets the events in order")
	}
	assert.Len(t, hanging.requests(), 1, "the hanging endpoint is still on its first event")
	st, err := s.Get("hanging")
	require.NoError(t, err)
	assert.Equal(t, n, st.QueueDepth, "the hanging endpoint's events were all taken into its own queue")
	assert.False(t, st.Suspended)

	st, err = s.Get("dead")
	require.NoError(t, err)
	assert.True(t, st.Suspended)
	assert.Equal(t, 3, st.ConsecutiveFailures)
	assert.Equal(t, n, st.QueueDepth, "a suspended endpoint keeps its events")
	assert.Contains(t, st.LastError, "connection refused")
	assert.False(t, st.LastFailureAt.IsZero())
	assert.Equal(t, 1.0, testutil.ToFloat64(m.WebhookSuspended.WithLabelValues("dead")))
	assert.Equal(t, float64(n), testutil.ToFloat64(m.WebhookQueueDepth.WithLabelValues("dead")))
	assert.Equal(t, 3.0, testutil.ToFloat64(m.WebhookDeliveries.WithLabelValues("dead", "failed")))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.WebhookDeliveries.WithLabelValues("dead", "gave_up")))
}

// A suspended endpoint stops attempting and keeps queueing; Resume delivers the queue in order,
// the first event under the id it was first tried with.
func TestSuspendedEndpointResumes(t *testing.T) {
	m := metrics.New("test")
	set := newSet(m, "hq")
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusServiceUnavailable })
	ep := endpointFor(t, "crm", rc.srv.URL, "hq")
	ep.SuspendAfterFailures = 2
	s := start(t, []Endpoint{ep}, set, fastOptions(m, nil))

	publishCalls(set.Hub("hq"), 0, 2)
	waitFor(t, "suspension", func() bool { st, _ := s.Get("crm"); return st.Suspended })
	publishCalls(set.Hub("hq"), 3, 4)
	waitFor(t, "five queued", func() bool { st, _ := s.Get("crm"); return st.QueueDepth == 5 })
	require.Len(t, rc.requests(), 2, "a suspended endpoint makes no attempt")
	firstID := rc.requests()[0].id

	rc.setAnswer(nil)
	st, err := s.Resume("crm")
	require.NoError(t, err)
	assert.False(t, st.Suspended)
	assert.Zero(t, st.ConsecutiveFailures)
	waitDelivered(t, s, "crm", 5)
	got := rc.delivered()
	assert.Equal(t, firstID, got[0].id)
	for i := 1; i < len(got); i++ {
		assert.Greater(t, got[i].event.ID, got[i-1].event.ID, "in order")
	}
	st, _ = s.Get("crm")
	assert.Equal(t, "answered 503 Service Unavailable", st.LastError, "the last error stays visible after a resume")
	assert.Equal(t, 0, st.QueueDepth)
	assert.Equal(t, uint64(5), st.Delivered)
	assert.Equal(t, uint64(1), st.Suspensions)
	assert.Equal(t, 0.0, testutil.ToFloat64(m.WebhookSuspended.WithLabelValues("crm")))

	_, err = s.Resume("nobody")
	assert.ErrorIs(t, err, ErrUnknownWebhook)
}

// 410 Gone is the receiver saying it wants nothing more: suspended at once. A redirect is a
// failure and is not followed.
func TestGoneSuspendsAndRedirectsAreNotFollowed(t *testing.T) {
	m := metrics.New("test")
	set := newSet(m, "hq")
	gone := newReceiver(t, func(int, *http.Request) int { return http.StatusGone })
	target := newReceiver(t, nil)
	redirect := newReceiver(t, nil)
	redirect.srv.Config.Handler = http.RedirectHandler(target.srv.URL, http.StatusTemporaryRedirect)
	moved := endpointFor(t, "moved", redirect.srv.URL, "hq")
	moved.SuspendAfterFailures = 2
	s := start(t, []Endpoint{endpointFor(t, "gone", gone.srv.URL, "hq"), moved}, set, fastOptions(m, nil))

	publishCalls(set.Hub("hq"), 0, 0)
	waitFor(t, "both suspended", func() bool {
		a, _ := s.Get("gone")
		b, _ := s.Get("moved")
		return a.Suspended && b.Suspended
	})
	st, _ := s.Get("gone")
	assert.Equal(t, 1, st.ConsecutiveFailures, "410 suspends at the first answer")
	assert.Contains(t, st.LastError, "410")
	st, _ = s.Get("moved")
	assert.Contains(t, st.LastError, "307")
	assert.Contains(t, st.LastError, "redirects are not followed")
	assert.Empty(t, target.requests(), "the redirect target never got the signed event")
}

// A full queue drops its oldest events, counts them, logs once for the burst, and tells the
// receiver with a sync event in their place before the rest.
func TestFullQueueDropsOldestAndSendsSync(t *testing.T) {
	m := metrics.New("test")
	set := newSet(m, "hq")
	logger, logs := captureLogs()
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusInternalServerError })
	ep := endpointFor(t, "crm", rc.srv.URL, "hq")
	ep.QueueSize, ep.SuspendAfterFailures = 3, 1
	s := start(t, []Endpoint{ep}, set, fastOptions(m, logger))

	hub := set.Hub("hq")
	publishCalls(hub, 0, 0) // event 0: tried, failed, suspended; it stays as the one in progress
	waitFor(t, "suspension", func() bool { st, _ := s.Get("crm"); return st.Suspended })
	publishCalls(hub, 1, 9) // events 1..9 into a queue of 3: 1..6 are dropped
	waitFor(t, "six dropped", func() bool { st, _ := s.Get("crm"); return st.Dropped == 6 })
	st, _ := s.Get("crm")
	assert.Equal(t, 4, st.QueueDepth, "the event in progress and a full queue")
	assert.Equal(t, 6.0, testutil.ToFloat64(m.WebhookDeliveries.WithLabelValues("crm", "dropped")))
	assert.Equal(t, 1, strings.Count(logs.String(), "webhook queue full"), "one log line per burst:\n%s", logs)

	rc.setAnswer(nil)
	_, err := s.Resume("crm")
	require.NoError(t, err)
	waitDelivered(t, s, "crm", 5)
	got := rc.delivered()
	var seqs []any
	for _, d := range got {
		require.NoError(t, d.verified)
		if d.event.Type == events.TypeSync {
			seqs = append(seqs, "sync")
			continue
		}
		var data struct{ Seq int }
		require.NoError(t, json.Unmarshal(d.event.Data, &data))
		seqs = append(seqs, data.Seq)
	}
	assert.Equal(t, []any{0, "sync", 7, 8, 9}, seqs)
	sync := got[1]
	assert.Equal(t, got[2].event.ID-1, sync.event.ID, "the sync carries the id of the last event dropped")
	assert.Equal(t, "sync_hq_"+strconv.FormatInt(sync.event.ID, 10), sync.id)
	assert.Contains(t, string(sync.event.Data), "re-read state")

	publishCalls(hub, 10, 10)
	waitDelivered(t, s, "crm", 6)
	assert.Contains(t, logs.String(), `"msg":"webhook queue has room again","webhook":"crm","dropped":6`)
}

// Neither the key nor the URL's user info or query reaches a log line or the status, whatever
// happens to the deliveries.
func TestSecretsNeverShown(t *testing.T) {
	m := metrics.New("test")
	set := newSet(m, "hq")
	logger, logs := captureLogs()
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n < 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	url := strings.Replace(rc.srv.URL, "http://", "http://bob:PASSWORD@", 1) + "/in?token=TOKEN"
	ep := endpointFor(t, "crm", url, "hq")
	ep.SuspendAfterFailures = 2
	s := start(t, []Endpoint{ep}, set, fastOptions(m, logger))
	publishCalls(set.Hub("hq"), 0, 1)
	waitFor(t, "suspension", func() bool { st, _ := s.Get("crm"); return st.Suspended })
	_, err := s.Resume("crm")
	require.NoError(t, err)
	waitDelivered(t, s, "crm", 2)

	// And a transport error, whose message would quote the URL.
	refused := newReceiver(t, nil)
	refused.srv.Close()
	set2 := newSet(m, "hq")
	ep2 := endpointFor(t, "refused", strings.Replace(refused.srv.URL, "http://", "http://bob:PASSWORD@", 1)+"/in?token=TOKEN", "hq")
	ep2.SuspendAfterFailures = 1
	s2 := start(t, []Endpoint{ep2}, set2, fastOptions(m, logger))
	publishCalls(set2.Hub("hq"), 0, 0)
	waitFor(t, "suspension", func() bool { st, _ := s2.Get("refused"); return st.Suspended })

	status, _ := json.Marshal(append(s.List(), s2.List()...))
	key := testKey(t)
	for what, text := range map[string]string{"logs": logs.String(), "status": string(status)} {
		for _, secret := range []string{testSecret, strings.TrimPrefix(testSecret, "whsec_"), string(key), "PASSWORD", "TOKEN", "bob"} {
			assert.NotContains(t, text, secret, "%s leak it", what)
		}
	}
	assert.Contains(t, logs.String(), "webhook suspended")
	st, _ := s.Get("crm")
	assert.Equal(t, rc.srv.URL+"/in", st.URL)
	st, _ = s2.Get("refused")
	assert.Contains(t, st.LastError, "connection refused")
}
