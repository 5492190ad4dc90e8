package handlers

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

const (
	simPassword    = "Sim-Pa55word-for-tests"
	simWebUser     = "events"
	simWebPassword = "Web-Pa55word-for-tests"
)

// env is one gateway in front of one simulated unit "demo", over real HTTPS and real HTTP.
type env struct {
	live    *events.Set // nil unless the test asked for live events
	sim     *ucmsim.UCM
	simSrv  *ucmsim.Server
	simTLS  *tls.Config
	pool    *sessionpool.Pool
	metrics *metrics.Metrics
	srv     *httptest.Server
	logs    *syncBuffer
}

type envOpt func(*sessionpool.UnitConfig, *ucmsim.Config)

func withGatewayPassword(p string) envOpt {
	return func(u *sessionpool.UnitConfig, _ *ucmsim.Config) { u.Password = p }
}

// adminKey is newEnv's key: every scope on every unit. The httptest server's client (e.do,
// e.srv.Client()) sends it on every request, so tests that are not about access need not know
// that the API requires a key.
var adminKey, adminKeyHash = mustGenerateKey()

func mustGenerateKey() (string, string) {
	k, h, err := auth.Generate()
	if err != nil {
		panic(err)
	}
	return k, h
}

// access configures the gateway side of newAccessEnv: keys, budget, CORS, and extra unit ids
// served by the same simulator.
type access struct {
	keys       []auth.Key
	open       bool
	rateLimit  RateLimit
	cors       CORS
	extraUnits []string
	// webhooks, if set, serves /v1/webhooks.
	webhooks Webhooks
	// wrap, if set, wraps the session pool: tests use it to make a handler panic, which only
	// a test binary can do.
	wrap func(Upstream) Upstream
	// events, if set, serves live events of every unit from sources it builds.
	events func(sourceEnv) events.Source
	// hub tunes the event hubs (buffer, linger); sseHeartbeat the streams' heartbeat.
	hub          events.HubOptions
	sseHeartbeat time.Duration
	// writeTimeout is the server's write timeout, as cmd sets one (none by default).
	writeTimeout time.Duration
	// fleet, if set, shares the hubs' events with the other replicas on the same Redis;
	// sameUnit, if set, is another replica whose simulated unit this gateway fronts too.
	fleet    *events.Fleet
	sameUnit *env
}

// sourceEnv is what a test's event source is built from.
type sourceEnv struct {
	opts   events.SourceOptions // unit, pool, logger, metrics, and fast CDR retries
	simURL string
	tls    *tls.Config
}

func newEnv(t testing.TB, opts ...envOpt) *env {
	t.Helper()
	return newAccessEnv(t, access{}, opts...)
}

// newAccessEnv is newEnv with access settings; the admin key is always configured as well.
func newAccessEnv(t testing.TB, a access, opts ...envOpt) *env {
	t.Helper()
	simCfg := ucmsim.Config{Username: "api", Password: simPassword, Seed: true, WebUsers: map[string]string{simWebUser: simWebPassword}}
	unit := sessionpool.UnitConfig{ID: "demo", Username: "api", Password: simPassword}
	for _, o := range opts {
		o(&unit, &simCfg)
	}
	var (
		sim *ucmsim.UCM
		ss  *ucmsim.Server
		tc  *tls.Config
		err error
	)
	if a.sameUnit != nil {
		sim, ss, tc = a.sameUnit.sim, a.sameUnit.simSrv, a.sameUnit.simTLS
	} else {
		sim = ucmsim.New(simCfg)
		ss, err = ucmsim.Listen(sim, "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { ss.Close() })
		tc, err = ucm.TLSOptions{PinSHA256: ss.CertSHA256()}.Config()
		require.NoError(t, err)
	}
	client, err := ucm.NewClient(ss.URL(), tc)
	require.NoError(t, err)
	unit.Client, unit.URL = client, ss.URL()
	units := []sessionpool.UnitConfig{unit}
	for _, id := range a.extraUnits {
		u := unit
		u.ID = id
		units = append(units, u)
	}

	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New("test")
	pool, err := sessionpool.New(sessionpool.Options{
		Logger: logger, Metrics: m,
		ActionTimeouts: map[string]time.Duration{"applyChanges": 30 * time.Second},
		OnCall: func(ctx context.Context, c sessionpool.CallInfo) {
			RecordUCMCall(ctx, UCMCall{Unit: c.Unit, Action: c.Action, Outcome: c.Outcome, Duration: c.Duration})
		},
	}, units)
	require.NoError(t, err)
	keys, err := auth.NewKeyring(append([]auth.Key{{Name: "test-admin", Hashes: []string{adminKeyHash}, Scopes: auth.AllScopes, Units: []string{auth.AllUnits}}}, a.keys...))
	require.NoError(t, err)
	if a.rateLimit.Requests == 0 {
		a.rateLimit = RateLimit{Requests: 1 << 20, Window: time.Minute}
	}
	var up Upstream = pool
	if a.wrap != nil {
		up = a.wrap(pool)
	}
	// The gateway knows the unit's time zone, as an operator configures it.
	zones := map[string]*time.Location{"demo": simCfg.TimeZone}
	var live *events.Set
	if a.events != nil {
		var hubs []*events.Hub
		for _, u := range units {
			ho := a.hub
			ho.Logger, ho.Metrics, ho.Fleet = logger, m, a.fleet
			so := events.SourceOptions{Unit: u.ID, Upstream: pool, Logger: logger, Metrics: m, Location: simCfg.TimeZone,
				CdrDelays: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}}
			hubs = append(hubs, events.NewHub(u.ID, a.events(sourceEnv{opts: so, simURL: ss.URL(), tls: tc}), ho))
		}
		live = events.NewSet(hubs...)
	}
	h, err := New(Options{Upstream: up, Logger: logger, Metrics: m, MaxBodyBytes: 64 << 10,
		Keys: keys, InsecureNoAuth: a.open, RateLimit: a.rateLimit, CORS: a.cors, Events: live, SSEHeartbeat: a.sseHeartbeat, Webhooks: a.webhooks, TimeZones: zones})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = a.writeTimeout
	srv.Start()
	base := srv.Client().Transport
	if base == nil {
		base = http.DefaultTransport
	}
	srv.Client().Transport = &bearer{key: adminKey, base: base}
	t.Cleanup(func() {
		if live != nil {
			// Streams end first, so the server's Close does not wait on them.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, live.Close(ctx), "event sources did not stop")
		}
		srv.Close()
		pool.Close(context.Background())
	})
	return &env{sim: sim, simSrv: ss, simTLS: tc, pool: pool, metrics: m, srv: srv, logs: logs, live: live}
}

// do sends a request with the admin key and returns the status, headers and body.
func (e *env) do(t *testing.T, method, path, ctype, body string) (int, http.Header, []byte) {
	t.Helper()
	return e.doAs(t, adminKey, method, path, ctype, body)
}

// doAs sends a request with the given key ("" for none) and extra headers, through a client
// that adds nothing of its own.
func (e *env) doAs(t *testing.T, key, method, path, ctype, body string, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// bearer adds the admin key to requests that carry no Authorization header of their own.
type bearer struct {
	key  string
	base http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") != "" {
		return b.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.base.RoundTrip(r)
}

func (e *env) getJSON(t *testing.T, path string, dst any) int {
	t.Helper()
	code, _, body := e.do(t, http.MethodGet, path, "", "")
	if dst != nil && code == http.StatusOK {
		require.NoError(t, json.Unmarshal(body, dst), "GET %s body: %s", path, body)
	}
	return code
}

// problem decodes a problem+json body and checks its content type.
func problem(t *testing.T, h http.Header, body []byte) Problem {
	t.Helper()
	require.Equal(t, "application/problem+json", h.Get("Content-Type"), "body: %s", body)
	var p Problem
	require.NoError(t, json.Unmarshal(body, &p))
	return p
}

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

func mustSpec(tb testing.TB) *openapi3.T {
	tb.Helper()
	spec, err := api.GetSpec()
	require.NoError(tb, err)
	return spec
}
