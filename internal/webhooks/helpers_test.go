package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
)

// TestMain proves that every goroutine the package starts (pumps, senders, hub sources, HTTP
// connections) has ended once the tests have closed what they opened.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testSecret is a Standard Webhooks secret as an operator would configure it.
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// testKey is what the configuration decodes testSecret to.
func testKey(t testing.TB) []byte {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(testSecret, "whsec_"))
	require.NoError(t, err)
	return k
}

// idle is an event source that produces nothing until stopped: tests publish on the hub.
type idle struct{}

func (idle) Run(ctx context.Context, _ events.Emit) { <-ctx.Done() }
func (idle) Kind() string                           { return "test" }

// newSet makes one hub per unit; the caller closes it (inside a synctest bubble, before the
// bubble ends).
func newSet(m *metrics.Metrics, units ...string) *events.Set {
	hubs := make([]*events.Hub, len(units))
	for i, u := range units {
		hubs[i] = events.NewHub(u, idle{}, events.HubOptions{Metrics: m})
	}
	return events.NewSet(hubs...)
}

// endpointFor is an endpoint with test-sized limits.
func endpointFor(t testing.TB, name, url string, units ...string) Endpoint {
	return Endpoint{Name: name, URL: url, Secret: testKey(t), Units: units, Timeout: 5 * time.Second, RetryFor: time.Hour,
		QueueSize: 100, SuspendAfterFailures: 1000, SuspendAfter: time.Hour}
}

// fastOptions retry at once, so real-HTTP tests never wait on a back-off.
func fastOptions(m *metrics.Metrics, logger *slog.Logger) Options {
	return Options{Metrics: m, Logger: logger, Backoff: Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond},
		Jitter: func(d time.Duration) time.Duration { return d }}
}

// delivery is one request a receiver got.
type delivery struct {
	id, timestamp, signature, contentType string
	body                                  []byte
	event                                 events.Event
	verified                              error
}

// verify is the receiver's side of Standard Webhooks, written from the convention rather than
// from this package: the signed content is "msg_id.timestamp.payload", the key is the base64
// after "whsec_", the header holds space-separated "v1,<base64>" signatures, and a timestamp more
// than five minutes off is refused.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("Webhook-Id"), h.Get("Webhook-Timestamp")
	if id == "" || ts == "" || h.Get("Webhook-Signature") == "" {
		return fmt.Errorf("missing headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %s off", ts, d)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(h.Get("Webhook-Signature")) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no valid v1 signature in %q", h.Get("Webhook-Signature"))
}

// receiver is a real HTTP server on loopback that records what it gets and answers with what
// answer returns (200 when nil).
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	got      []delivery // every request, answered well or not
	accepted []delivery // the requests answered 2xx
	answer   func(n int, r *http.Request) int
}

func newReceiver(t testing.TB, answer func(n int, r *http.Request) int) *receiver {
	rc := &receiver{answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := delivery{id: r.Header.Get("Webhook-Id"), timestamp: r.Header.Get("Webhook-Timestamp"),
			signature: r.Header.Get("Webhook-Signature"), contentType: r.Header.Get("Content-Type"), body: body,
			verified: verify(testSecret, r.Header, body, time.Now())}
		d.verified = errors.Join(d.verified, json.Unmarshal(body, &d.event))
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, d)
		answer := rc.answer
		rc.mu.Unlock()
		code := http.StatusOK
		if answer != nil {
			code = answer(n, r)
		}
		if code >= 200 && code < 300 {
			rc.mu.Lock()
			rc.accepted = append(rc.accepted, d)
			rc.mu.Unlock()
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) setAnswer(f func(n int, r *http.Request) int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = f
}

func (rc *receiver) requests() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func (rc *receiver) delivered() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.accepted...)
}

// waitFor polls cond; the deadline only keeps a broken test from hanging, it asserts no timing.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 20*time.Second, time.Millisecond, "waiting for %s", what)
}

// waitDelivered waits until the service counts n deliveries to the endpoint (the receiver sees
// each a moment before the service hears its answer).
func waitDelivered(t testing.TB, s *Service, name string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d deliveries to %s", n, name), func() bool {
		st, err := s.Get(name)
		return err == nil && st.Delivered == uint64(n)
	})
}

// syncBuffer is a log sink tests read while the service writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func captureLogs() (*slog.Logger, *syncBuffer) {
	b := &syncBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// start runs a service and closes it (then the hubs) when the test ends.
func start(t testing.TB, list []Endpoint, set *events.Set, o Options) *Service {
	t.Helper()
	s, err := New(list, set, o)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, s.Close(ctx))
		require.NoError(t, set.Close(ctx))
	})
	return s
}

// publishCalls publishes call.ringing events on the hub with data {"seq": from…to}.
func publishCalls(h *events.Hub, from, to int) {
	for i := from; i <= to; i++ {
		h.Publish(events.TypeCallRinging, map[string]any{"seq": i})
	}
}
