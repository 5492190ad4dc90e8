package webhooks

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
)

// fakeReceiver is a transport inside a synctest bubble (a real server cannot live there): it
// records when each attempt came and for which webhook-id, and answers with answer.
type fakeReceiver struct {
	mu     sync.Mutex
	times  []time.Duration // since the bubble's start
	ids    []string
	t0     time.Time
	answer func(r *http.Request) (*http.Response, error)
}

func (f *fakeReceiver) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.times = append(f.times, time.Since(f.t0))
	f.ids = append(f.ids, r.Header.Get("Webhook-Id"))
	f.mu.Unlock()
	return f.answer(r)
}

func (f *fakeReceiver) attempts() ([]time.Duration, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.times...), append([]string(nil), f.ids...)
}

func answerStatus(code int) func(*http.Request) (*http.Response, error) {
	return func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	}
}

// hang never answers: only the attempt's timeout ends it.
func hang(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// bubbleService runs a service over one unit "hq" inside the current synctest bubble and returns
// a function that closes everything (the bubble must end with no goroutine left).
func bubbleService(t *testing.T, ep Endpoint, f *fakeReceiver, m *metrics.Metrics) (*Service, *events.Hub, func()) {
	f.t0 = time.Now()
	set := newSet(m, "hq")
	s, err := New([]Endpoint{ep}, set, Options{Metrics: m, Transport: f, Jitter: func(d time.Duration) time.Duration { return d }})
	require.NoError(t, err)
	return s, set.Hub("hq"), func() {
		require.NoError(t, s.Close(context.Background()))
		require.NoError(t, set.Close(context.Background()))
	}
}

// The back-off doubles from 1s to 5m; the event is retried under one webhook-id until retry_for
// has passed since its first attempt (the last attempt falls on that moment), then given up,
// and the next event is tried after the back-off.
func TestBackoffAndGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := metrics.New("test")
		f := &fakeReceiver{answer: answerStatus(http.StatusInternalServerError)}
		ep := endpointFor(t, "crm", "https://receiver.test/in", "hq")
		ep.RetryFor, ep.SuspendAfterFailures, ep.SuspendAfter = time.Hour, 1000, 24*time.Hour
		s, hub, stop := bubbleService(t, ep, f, m)
		defer stop()

		publishCalls(hub, 0, 1)
		time.Sleep(time.Hour + 10*time.Minute)
		synctest.Wait()

		times, ids := f.attempts()
		var want []time.Duration
		at, wait := time.Duration(0), time.Second
		for at < time.Hour {
			want = append(want, at)
			at += wait
			wait = min(2*wait, 5*time.Minute)
		}
		want = append(want, time.Hour) // the last attempt, on the deadline
		require.GreaterOrEqual(t, len(times), len(want)+1, "attempts at %v", times)
		assert.Equal(t, want, times[:len(want)], "the back-off schedule of the first event")
		for _, id := range ids[:len(want)] {
			assert.Equal(t, ids[0], id, "every retry carries the first event's webhook-id")
		}
		assert.NotEqual(t, ids[0], ids[len(want)], "after giving up, the next event")
		assert.Equal(t, time.Hour+5*time.Minute, times[len(want)], "the next event waits out the back-off the endpoint is in")

		st, _ := s.Get("crm")
		assert.Equal(t, uint64(1), st.GaveUp)
		assert.False(t, st.Suspended)
		assert.Equal(t, 1.0, testutil.ToFloat64(m.WebhookDeliveries.WithLabelValues("crm", "gave_up")))
		assert.Equal(t, 1, st.QueueDepth, "the second event is still being retried")
	})
}

// A receiver that hangs fails each attempt at the timeout; failing for suspend_after suspends
// the endpoint, which then makes no attempt until resumed. The time spent suspended does not
// use up retry_for.
func TestSuspendAfterFailingForAWhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := metrics.New("test")
		f := &fakeReceiver{answer: hang}
		ep := endpointFor(t, "crm", "https://receiver.test/in", "hq")
		ep.Timeout, ep.SuspendAfter, ep.SuspendAfterFailures, ep.RetryFor = 10*time.Second, time.Minute, 1000, 2*time.Minute
		s, hub, stop := bubbleService(t, ep, f, m)
		defer stop()

		publishCalls(hub, 0, 0)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		times, _ := f.attempts()
		// 0–10s, wait 1s, 11–21s, 2s, 23–33s, 4s, 37–47s, 8s, 55–65s: failing for 65s ≥ 1m.
		assert.Equal(t, []time.Duration{0, 11 * time.Second, 23 * time.Second, 37 * time.Second, 55 * time.Second}, times)
		st, _ := s.Get("crm")
		require.True(t, st.Suspended)
		assert.Equal(t, 5, st.ConsecutiveFailures)
		assert.Equal(t, "no answer within 10s", st.LastError)
		assert.Equal(t, f.t0.Add(65*time.Second), st.SuspendedAt)

		time.Sleep(time.Hour)
		synctest.Wait()
		times, _ = f.attempts()
		assert.Len(t, times, 5, "no attempt while suspended")

		f.mu.Lock()
		f.answer = answerStatus(http.StatusServiceUnavailable)
		f.mu.Unlock()
		_, err := s.Resume("crm")
		require.NoError(t, err)
		time.Sleep(30 * time.Second)
		synctest.Wait()
		times, _ = f.attempts()
		require.Greater(t, len(times), 5)
		assert.Equal(t, time.Hour+2*time.Minute, times[5], "resume tries at once")
		st, _ = s.Get("crm")
		assert.Zero(t, st.GaveUp, "an hour suspended did not use up the event's 2m retry_for")
		assert.False(t, st.Suspended)
	})
}

// Close delivers what a healthy endpoint has queued before it returns, and abandons (and logs)
// what a failing one has, without waiting for its back-off.
func TestCloseDrainsHealthyEndpoints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := metrics.New("test")
		ok := &fakeReceiver{answer: answerStatus(http.StatusOK)}
		set := newSet(m, "hq")
		logger, logs := captureLogs()
		failing := &fakeReceiver{answer: answerStatus(http.StatusInternalServerError)}
		s, err := New([]Endpoint{endpointFor(t, "ok", "https://ok.test/", "hq")}, set, Options{Metrics: m, Transport: ok, Logger: logger})
		require.NoError(t, err)
		s2, err := New([]Endpoint{endpointFor(t, "failing", "https://failing.test/", "hq")}, set, Options{Metrics: m, Transport: failing, Logger: logger})
		require.NoError(t, err)

		publishCalls(set.Hub("hq"), 0, 9)
		require.NoError(t, s.Close(context.Background()))
		require.NoError(t, s2.Close(context.Background()))
		st, _ := s.Get("ok")
		assert.Equal(t, uint64(10), st.Delivered)
		times, _ := failing.attempts()
		assert.Len(t, times, 1, "a failing endpoint stops at its first failure once closing, without waiting out a back-off")
		assert.Contains(t, logs.String(), `"msg":"webhook stopped with events undelivered","webhook":"failing","undelivered":10`)
		require.NoError(t, set.Close(context.Background()))
	})
}
