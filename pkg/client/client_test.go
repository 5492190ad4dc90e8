package client_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/oapi-codegen/nullable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/handlers"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
	"github.com/ucm-gateway/ucm-gateway/pkg/client"
)

// gateway starts the real gateway in front of a seeded simulator (real HTTPS to the unit, real
// HTTP to the gateway), as `make run` does, and returns its URL and a key with every scope.
func gateway(t *testing.T) (baseURL, key string) {
	t.Helper()
	sim, err := ucmsim.Listen(ucmsim.New(ucmsim.Config{Password: "Client-Test-Pa55", Seed: true, CallAnswerDelay: 50 * time.Millisecond}), "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	tc, err := ucm.TLSOptions{PinSHA256: sim.CertSHA256()}.Config()
	require.NoError(t, err)
	uc, err := ucm.NewClient(sim.URL(), tc)
	require.NoError(t, err)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	m := metrics.New("test")
	pool, err := sessionpool.New(sessionpool.Options{Logger: logger, Metrics: m},
		[]sessionpool.UnitConfig{{ID: "demo", URL: sim.URL(), Username: "api", Password: "Client-Test-Pa55", Client: uc}})
	require.NoError(t, err)
	key, hash, err := auth.Generate()
	require.NoError(t, err)
	keys, err := auth.NewKeyring([]auth.Key{{Name: "client-test", Hashes: []string{hash}, Scopes: auth.AllScopes, Units: []string{"demo"}}})
	require.NoError(t, err)
	h, err := handlers.New(handlers.Options{Upstream: pool, Logger: logger, Metrics: m, MaxBodyBytes: 64 << 10,
		Keys: keys, RateLimit: handlers.RateLimit{Requests: 1000, Window: time.Minute}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		pool.Close(context.Background())
	})
	return srv.URL, key
}

// TestClientAgainstGateway drives the generated client through the real router: the request
// encodings it picks (paths, query, JSON and merge-patch bodies, headers) must be the ones the
// server accepts, and its typed responses must decode what the server sends.
func TestClientAgainstGateway(t *testing.T) {
	baseURL, key := gateway(t)
	ctx := t.Context()
	c, err := client.New(baseURL, key)
	require.NoError(t, err)

	size := 2
	sort := client.ListExtensionsParamsSortExtensionDesc
	page, err := c.ListExtensionsWithResponse(ctx, "demo", &client.ListExtensionsParams{PageSize: &size, Sort: &sort})
	require.NoError(t, err)
	require.Equal(t, 200, page.StatusCode(), string(page.Body))
	require.Len(t, page.JSON200.Items, 2)
	assert.Equal(t, "1005", page.JSON200.Items[0].Extension)
	require.NotNil(t, page.JSON200.NextPageToken)
	assert.Equal(t, 6, page.JSON200.TotalItems)

	first, secret := "Grace", "Change-Me-2001"
	created, err := c.CreateExtensionWithResponse(ctx, "demo", nil, client.ExtensionCreate{Extension: "2001", Secret: &secret, FirstName: &first})
	require.NoError(t, err)
	require.Equal(t, 201, created.StatusCode(), string(created.Body))
	assert.Equal(t, "/v1/units/demo/extensions/2001", created.HTTPResponse.Header.Get("Location"))

	// A merge patch: null resets ring_timeout, absent fields stay as they are.
	three, eleven := 3, 11
	patch := client.ExtensionPatch{MaxContacts: &three, RingTimeout: nullable.NewNullNullable[int]()}
	updated, err := c.UpdateExtensionWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, "demo", "2001", nil, patch)
	require.NoError(t, err)
	require.Equal(t, 200, updated.StatusCode(), string(updated.Body))
	assert.Equal(t, 3, *updated.JSON200.MaxContacts)
	assert.True(t, updated.JSON200.RingTimeout.IsNull(), "ring_timeout after the null: %s", updated.Body)

	bad, err := c.UpdateExtensionWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, "demo", "2001", nil, client.ExtensionPatch{MaxContacts: &eleven})
	require.NoError(t, err)
	require.Equal(t, 400, bad.StatusCode())
	require.NotNil(t, bad.ApplicationProblemJSON400)
	require.NotNil(t, bad.ApplicationProblemJSON400.Errors)
	assert.Equal(t, "body.max_contacts", (*bad.ApplicationProblemJSON400.Errors)[0].Location)

	idem := "client-test-1"
	call, err := c.CreateCallWithResponse(ctx, "demo", &client.CreateCallParams{IdempotencyKey: &idem},
		client.CallCreate{From: client.FromExtension("1000"), To: client.CallDestination{Type: client.CallDestinationTypeExtension, Number: "1003"}})
	require.NoError(t, err)
	require.Equal(t, 201, call.StatusCode(), string(call.Body))
	assert.Equal(t, client.CallStatusRinging, call.JSON201.Status)
	assert.Equal(t, "/v1/units/demo/calls/"+call.JSON201.ID, call.HTTPResponse.Header.Get("Location"))

	ended, err := c.HangupCallWithResponse(ctx, "demo", call.JSON201.ID)
	require.NoError(t, err)
	require.Equal(t, 200, ended.StatusCode(), string(ended.Body))
	assert.Contains(t, []client.CallStatus{client.CallStatusCanceled, client.CallStatusCompleted}, ended.JSON200.Status)
}

// TestClientKey: New refuses to build a client without a key, and a wrong key comes back as the
// typed 401 problem.
func TestClientKey(t *testing.T) {
	baseURL, _ := gateway(t)
	_, err := client.New(baseURL, "")
	require.Error(t, err)

	c, err := client.New(baseURL, "ucmgw_not-a-key-of-this-gateway")
	require.NoError(t, err)
	resp, err := c.ListUnitsWithResponse(t.Context(), nil)
	require.NoError(t, err)
	require.Equal(t, 401, resp.StatusCode())
	require.NotNil(t, resp.ApplicationProblemJSON401)
	assert.Equal(t, "urn:ucm-gateway:problem:unauthenticated", resp.ApplicationProblemJSON401.Type)
}
