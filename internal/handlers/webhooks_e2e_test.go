package handlers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/webhooks"
)

// quietSource produces no events of its own: the test publishes on the hub.
type quietSource struct{}

func (quietSource) Run(ctx context.Context, _ events.Emit) { <-ctx.Done() }
func (quietSource) Kind() string                           { return "test" }

// A suspended webhook is visible to an admin key through the real router, with its error and
// queue but never its secret or URL token, and resumes with POST …/resume; other keys cannot
// see or resume it.
func TestWebhooksThroughTheRouter(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err)

	var healthy atomic.Bool
	var mu sync.Mutex
	var ids []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		ids = append(ids, r.Header.Get("Webhook-Id"))
		mu.Unlock()
	}))
	defer rc.Close()

	m := metrics.New("test")
	set := events.NewSet(events.NewHub("demo", quietSource{}, events.HubOptions{Metrics: m}))
	svc, err := webhooks.New([]webhooks.Endpoint{{
		Name: "crm", URL: rc.URL + "/in?token=TOKEN", Secret: key, Units: []string{"demo"},
		Timeout: 5 * time.Second, RetryFor: time.Hour, QueueSize: 10, SuspendAfterFailures: 2, SuspendAfter: time.Hour,
	}}, set, webhooks.Options{Metrics: m, Backoff: webhooks.Backoff{Initial: time.Millisecond, Max: time.Millisecond}})
	require.NoError(t, err)
	defer func() {
		require.NoError(t, svc.Close(context.Background()))
		require.NoError(t, set.Close(context.Background()))
	}()

	readerKey, reader := testKey(t, "reader", []auth.Scope{auth.ScopeRead, auth.ScopeWrite, auth.ScopeCalls})
	branchAdminKey, branchAdmin := testKey(t, "branch-admin", auth.AllScopes, "branch")
	e := newAccessEnv(t, access{keys: []auth.Key{reader, branchAdmin}, extraUnits: []string{"branch"}, webhooks: svc})

	list := func(t *testing.T, key string) (int, api.WebhookList, string) {
		t.Helper()
		code, _, body := e.doAs(t, key, http.MethodGet, "/v1/webhooks", "", "")
		var l api.WebhookList
		if code == http.StatusOK {
			require.NoError(t, json.Unmarshal(body, &l), "body %s", body)
		}
		return code, l, string(body)
	}

	for i := range 3 {
		set.Hub("demo").Publish(events.TypeCallRinging, map[string]int{"seq": i})
	}
	var body string
	require.Eventually(t, func() bool {
		code, l, b := list(t, adminKey)
		body = b
		return code == http.StatusOK && len(l.Items) == 1 && l.Items[0].Suspended && l.Items[0].QueueDepth == 3
	}, 20*time.Second, time.Millisecond, "the webhook is suspended with its three events queued")
	var raw struct{ Items []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(body), &raw))
	assert.Equal(t, map[string]any{
		"name": "crm", "url": rc.URL + "/in", "units": []any{"demo"}, "types": []any{},
		"suspended": true, "suspended_at": raw.Items[0]["suspended_at"], "last_error": "answered 503 Service Unavailable",
		"last_failure_at": raw.Items[0]["last_failure_at"], "last_success_at": nil,
		"consecutive_failures": 2.0, "queue_depth": 3.0, "delivered": 0.0, "gave_up": 0.0, "dropped": 0.0, "suspensions": 1.0,
	}, raw.Items[0])
	assert.NotNil(t, raw.Items[0]["suspended_at"])
	for _, leak := range []string{"TOKEN", "token", secret, strings.TrimPrefix(secret, "whsec_")} {
		assert.NotContains(t, body, leak)
	}

	t.Run("scopes and units", func(t *testing.T) {
		code, _, b := list(t, readerKey)
		assert.Equal(t, http.StatusForbidden, code, "GET /v1/webhooks without admin: %s", b)
		code, _, rb := e.doAs(t, readerKey, http.MethodPost, "/v1/webhooks/crm/resume", "", "")
		assert.Equal(t, http.StatusForbidden, code, "resume without admin: %s", rb)
		code, l, _ := list(t, branchAdminKey)
		assert.Equal(t, http.StatusOK, code)
		assert.Empty(t, l.Items, "an admin of another unit does not see this unit's receivers")
		code, h, rb := e.doAs(t, branchAdminKey, http.MethodPost, "/v1/webhooks/crm/resume", "", "")
		assert.Equal(t, http.StatusNotFound, code, "%s", rb)
		assert.Equal(t, `no webhook "crm" is configured in this gateway`, problem(t, h, rb).Detail)
	})
	t.Run("bad names", func(t *testing.T) {
		code, h, b := e.do(t, http.MethodPost, "/v1/webhooks/nobody/resume", "", "")
		assert.Equal(t, http.StatusNotFound, code)
		assert.Equal(t, problemType("not-found"), problem(t, h, b).Type)
		code, h, b = e.do(t, http.MethodPost, "/v1/webhooks/bad%20name/resume", "", "")
		assert.Equal(t, http.StatusBadRequest, code, "%s", b)
		problem(t, h, b)
		code, _, _ = e.do(t, http.MethodGet, "/v1/webhooks/crm/resume", "", "")
		assert.Equal(t, http.StatusMethodNotAllowed, code)
	})
	st, err := svc.Get("crm")
	require.NoError(t, err)
	require.True(t, st.Suspended, "nothing above resumed it")

	healthy.Store(true)
	code, _, b := e.do(t, http.MethodPost, "/v1/webhooks/crm/resume", "", "")
	require.Equal(t, http.StatusOK, code, "%s", b)
	var resumed api.Webhook
	require.NoError(t, json.Unmarshal(b, &resumed))
	assert.False(t, resumed.Suspended)
	assert.Zero(t, resumed.ConsecutiveFailures)
	assert.True(t, resumed.SuspendedAt.IsNull())
	require.Eventually(t, func() bool {
		_, l, _ := list(t, adminKey)
		return l.Items[0].Delivered == 3 && l.Items[0].QueueDepth == 0
	}, 20*time.Second, time.Millisecond, "the queued events are delivered after the resume")
	mu.Lock()
	assert.Len(t, ids, 3)
	mu.Unlock()
	assert.Contains(t, e.logs.String(), `"action":"resumeWebhook"`, "the resume is in the audit trail")
	assert.NotContains(t, e.logs.String(), "TOKEN")
}
