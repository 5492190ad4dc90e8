package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
)

type quietSource struct{}

func (quietSource) Run(ctx context.Context, _ events.Emit) { <-ctx.Done() }
func (quietSource) Kind() string                           { return "test" }

// The webhooks of a configuration file, secret from the environment, deliver a unit's events
// of the configured types, signed with that secret, and stop with Close.
func TestStartWebhooksFromConfig(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	type got struct {
		header http.Header
		body   []byte
	}
	deliveries := make(chan got, 10)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		deliveries <- got{r.Header.Clone(), body}
	}))
	defer rc.Close()

	cfg, err := config.Load([]byte(`
units:
  - {id: hq, url: "https://192.0.2.10:8089", username: api, password: pw}
webhooks:
  - name: crm
    url: `+rc.URL+`/in
    secret: ${CRM_WEBHOOK_SECRET}
    units: [hq]
    types: [cdr.created]
`), func(k string) string { return map[string]string{"CRM_WEBHOOK_SECRET": secret}[k] }, nil)
	require.NoError(t, err)

	m := metrics.New("test")
	set := events.NewSet(events.NewHub("hq", quietSource{}, events.HubOptions{Metrics: m}))
	svc, err := startWebhooks(cfg, set, slog.New(slog.DiscardHandler), m)
	require.NoError(t, err)
	set.Hub("hq").Publish(events.TypeCallRinging, map[string]string{"call": "a"}) // not a configured type
	set.Hub("hq").Publish(events.TypeCdrCreated, map[string]string{"call": "a"})

	var d got
	select {
	case d = <-deliveries:
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery")
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(d.header.Get("Webhook-Id") + "." + d.header.Get("Webhook-Timestamp") + "." + string(d.body)))
	assert.Equal(t, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)), d.header.Get("Webhook-Signature"))
	assert.Contains(t, string(d.body), `"type":"cdr.created"`)
	assert.Equal(t, "ucm-gateway/"+version, d.header.Get("User-Agent"))

	require.NoError(t, svc.Close(context.Background()))
	assert.Zero(t, set.Hub("hq").Subscribers(), "Close unsubscribed")
	require.NoError(t, set.Close(context.Background()))
	assert.Empty(t, deliveries, "only the configured type was sent")
}
