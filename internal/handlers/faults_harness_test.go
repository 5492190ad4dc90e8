package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// faultOptions are the pool's protections scaled down so that a fault plays out in a second or
// two of real time: the same shape as the defaults (a call fits in its request, the slot wait is
// short, the breaker's period grows from a fraction of the cap).
func faultOptions() sessionpool.Options {
	return sessionpool.Options{
		RequestTimeout:  1500 * time.Millisecond,
		CallTimeout:     time.Second,
		MaxInFlight:     2,
		SlotWait:        200 * time.Millisecond,
		BackoffBase:     100 * time.Millisecond,
		BackoffMax:      500 * time.Millisecond,
		BreakerFailures: 3,
		BreakerOpen:     300 * time.Millisecond,
		BreakerOpenMax:  time.Second,
	}
}

// faultUnit is one simulated unit behind the gateway, over real HTTPS.
type faultUnit struct {
	id    string
	sim   *ucmsim.UCM
	srv   *ucmsim.Server
	calls *countingCaller // the gateway's side: calls it has open to the unit
}

// countingCaller counts the calls the pool has open to a unit (logins aside, which the bulkhead
// does not govern), so a test can hold the pool to its bulkhead from the gateway's side. The
// unit's own count (ucmsim's PeakInFlight) keeps a request until the unit notices its client
// left, which can be a moment after the gateway gave up on it.
type countingCaller struct {
	sessionpool.Caller
	open, peak atomic.Int64
}

func (c *countingCaller) Call(ctx context.Context, action, cookie string, params map[string]any) (json.RawMessage, error) {
	n := c.open.Add(1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	defer c.open.Add(-1)
	return c.Caller.Call(ctx, action, cookie, params)
}

// faultEnv is one gateway in front of two units: "sick", which the test breaks, and "healthy",
// which must not notice.
type faultEnv struct {
	sick, healthy *faultUnit
	pool          *sessionpool.Pool
	metrics       *metrics.Metrics
	srv           *httptest.Server
	client        *http.Client
	logs          *syncBuffer
	opts          sessionpool.Options
}

// newFaultEnv starts both units and the gateway; tlsFor, if set, replaces a unit's TLS settings
// (the default pins each unit's certificate).
func newFaultEnv(t *testing.T, opts sessionpool.Options, tlsFor map[string]func(*ucmsim.Server) ucm.TLSOptions) *faultEnv {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New("test")
	f := &faultEnv{metrics: m, logs: logs, opts: opts}
	var units []sessionpool.UnitConfig
	for _, id := range []string{"sick", "healthy"} {
		sim := ucmsim.New(ucmsim.Config{Username: "api", Password: simPassword, Seed: true})
		srv, err := ucmsim.Listen(sim, "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = srv.Close() })
		to := ucm.TLSOptions{PinSHA256: srv.CertSHA256()}
		if mk := tlsFor[id]; mk != nil {
			to = mk(srv)
		}
		tc, err := to.Config()
		require.NoError(t, err)
		client, err := ucm.NewClient(srv.URL(), tc)
		require.NoError(t, err)
		t.Cleanup(client.CloseIdle)
		calls := &countingCaller{Caller: client}
		units = append(units, sessionpool.UnitConfig{ID: id, URL: srv.URL(), Username: "api", Password: simPassword, Client: calls})
		u := &faultUnit{id: id, sim: sim, srv: srv, calls: calls}
		if id == "sick" {
			f.sick = u
		} else {
			f.healthy = u
		}
	}
	opts.Logger, opts.Metrics = logger, m
	opts.OnCall = func(ctx context.Context, c sessionpool.CallInfo) {
		RecordUCMCall(ctx, UCMCall{Unit: c.Unit, Action: c.Action, Outcome: c.Outcome, Duration: c.Duration})
	}
	pool, err := sessionpool.New(opts, units)
	require.NoError(t, err)
	keys, err := auth.NewKeyring([]auth.Key{{Name: "test-admin", Hashes: []string{adminKeyHash}, Scopes: auth.AllScopes, Units: []string{auth.AllUnits}}})
	require.NoError(t, err)
	h, err := New(Options{Upstream: pool, Logger: logger, Metrics: m, Keys: keys, RateLimit: RateLimit{Requests: 1 << 20, Window: time.Minute}})
	require.NoError(t, err)
	f.pool = pool
	f.srv = httptest.NewServer(h)
	f.client = &http.Client{Transport: &bearer{key: adminKey, base: &http.Transport{MaxIdleConnsPerHost: 64}}}
	t.Cleanup(func() {
		f.srv.Close()
		f.client.CloseIdleConnections()
		pool.Close(context.Background())
	})
	return f
}

// answer is what a client got.
type answer struct {
	status     int
	typ        string // the problem type's slug; "" for a success
	retryAfter string
	ucmStatus  *int
	took       time.Duration
	body       string
}

func (a answer) String() string { return a.body }

// send makes one request and reads the whole answer.
func (f *faultEnv) send(t *testing.T, method, path, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/merge-patch+json")
	}
	start := time.Now()
	resp, err := f.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), took: time.Since(start), body: string(b)}
	if resp.StatusCode >= 400 {
		var p Problem
		require.NoError(t, json.Unmarshal(b, &p), "a problem+json body: %s", b)
		a.typ, a.ucmStatus = strings.TrimPrefix(p.Type, "urn:ucm-gateway:problem:"), p.UCMStatus
	}
	return a
}

// burst sends n requests at once (path(i) is request i's path) and returns the answers in order.
func (f *faultEnv) burst(t *testing.T, n int, method string, path func(i int) string, body string) []answer {
	t.Helper()
	out := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { out[i] = f.send(t, method, path(i), body) })
	}
	wg.Wait()
	return out
}

// warm logs in to both units, as a gateway in use has done.
func (f *faultEnv) warm(t *testing.T) {
	t.Helper()
	for _, u := range []*faultUnit{f.sick, f.healthy} {
		a := f.send(t, http.MethodGet, "/v1/units/"+u.id+"/system/status", "")
		require.Equal(t, http.StatusOK, a.status, "warming %s: %s", u.id, a.body)
	}
}
