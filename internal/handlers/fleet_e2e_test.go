package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/config"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/shared"
	"github.com/ucm-gateway/ucm-gateway/internal/shared/sharedtest"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// fleetEnv is several gateways (each its own pool, handlers and HTTP server, as replicas are)
// in front of one simulated unit over real HTTPS, sharing one real redis-server.
type fleetEnv struct {
	redis    *sharedtest.Redis
	sim      *ucmsim.UCM
	replicas []*env
	health   []*shared.Health
}

func newFleetEnv(t testing.TB, n int, a access, simOpts ...envOpt) *fleetEnv {
	t.Helper()
	f := &fleetEnv{redis: sharedtest.Start(t)}
	simCfg := ucmsim.Config{Username: "api", Password: simPassword, Seed: true}
	unit := sessionpool.UnitConfig{ID: "demo", Username: "api", Password: simPassword}
	for _, o := range simOpts {
		o(&unit, &simCfg)
	}
	f.sim = ucmsim.New(simCfg)
	ss, err := ucmsim.Listen(f.sim, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ss.Close() })
	tc, err := ucm.TLSOptions{PinSHA256: ss.CertSHA256()}.Config()
	require.NoError(t, err)
	sealer, err := shared.NewSealer(bytes.Repeat([]byte{9}, 32))
	require.NoError(t, err)
	keys := shared.NewKeys("test:")
	// The production timeouts: a test machine under load (the race detector, other packages)
	// must not look like a Redis that is down.
	rcfg := config.Redis{Addr: f.redis.Addr(), KeyPrefix: "test:", DialTimeout: 2 * time.Second, OpTimeout: time.Second}
	if a.rateLimit.Requests == 0 {
		a.rateLimit = RateLimit{Requests: 1 << 20, Window: time.Minute}
	}
	for range n {
		logs := &syncBuffer{}
		logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		m := metrics.New("test")
		client, err := shared.Open(context.Background(), rcfg, logger)
		require.NoError(t, err)
		h := shared.NewHealth(context.Background(), client, rcfg.Addr, 50*time.Millisecond, logger, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); h.Run(ctx) }()
		uc, err := ucm.NewClient(ss.URL(), tc)
		require.NoError(t, err)
		u := unit
		u.Client, u.URL = uc, ss.URL()
		pool, err := sessionpool.New(sessionpool.Options{Logger: logger, Metrics: m, Sessions: shared.NewSessions(client, keys, sealer, h)}, []sessionpool.UnitConfig{u})
		require.NoError(t, err)
		ring, err := auth.NewKeyring(append([]auth.Key{{Name: "test-admin", Hashes: []string{adminKeyHash}, Scopes: auth.AllScopes, Units: []string{auth.AllUnits}}}, a.keys...))
		require.NoError(t, err)
		handler, err := New(Options{Upstream: pool, Logger: logger, Metrics: m, Keys: ring, RateLimit: a.rateLimit,
			Idempotency: RedisIdempotency(client, keys, h), RateLimits: RedisRateLimits(client, keys, h, m, logger),
			NotReady: func() string {
				if !h.Up() {
					return "shared state (Redis) unavailable"
				}
				return ""
			}})
		require.NoError(t, err)
		srv := httptest.NewServer(handler)
		t.Cleanup(func() {
			srv.Close()
			pool.Close(context.Background())
			uc.CloseIdle()
			cancel()
			<-done
			_ = client.Close()
		})
		f.replicas = append(f.replicas, &env{sim: f.sim, pool: pool, metrics: m, srv: srv, logs: logs})
		f.health = append(f.health, h)
	}
	return f
}

func (f *fleetEnv) waitRedis(t *testing.T, up bool) {
	t.Helper()
	for _, h := range f.health {
		require.Eventually(t, func() bool { return h.Up() == up }, 5*time.Second, 10*time.Millisecond)
	}
}

func TestFleetColdUnitOneLoginThroughTheAPI(t *testing.T) {
	f := newFleetEnv(t, 3, access{})
	var wg sync.WaitGroup
	type answer struct {
		code int
		body string
	}
	answers := make(chan answer, 300)
	for _, r := range f.replicas {
		for i := range 100 {
			wg.Go(func() {
				code, _, b := r.do(t, "GET", "/v1/units/demo/extensions/"+strconv.Itoa(1000+i%3), "", "")
				answers <- answer{code, string(b)}
			})
		}
	}
	wg.Wait()
	close(answers)
	for a := range answers {
		require.Equal(t, http.StatusOK, a.code, a.body)
	}
	c := f.sim.Counters()
	assert.Equal(t, 1, c.Challenges, "3 replicas x 100 requests on a cold unit")
	assert.Equal(t, 1, c.Logins)
}

func TestFleetIdempotentDialOnAnotherReplica(t *testing.T) {
	f := newFleetEnv(t, 2, access{}, withAnswerDelay(time.Minute))
	key := map[string]string{"Idempotency-Key": "fleet-dial-1"}
	body := `{"from":"1000","to":{"type":"extension","number":"1001"}}`
	first := f.replicas[0].dial(t, body, key)

	code, h, b := f.replicas[1].doH(t, "POST", "/v1/units/demo/calls", key, body)
	require.Equal(t, http.StatusCreated, code, "the retry on another replica: %s", b)
	assert.Equal(t, "true", h.Get("Idempotent-Replayed"))
	assert.Equal(t, "/v1/units/demo/calls/"+first.ID, h.Get("Location"))
	assert.Contains(t, string(b), first.ID)
	assert.Equal(t, 1, f.sim.Calls("dialExtension"), "the fleet dialled once")

	code, h, b = f.replicas[1].doH(t, "POST", "/v1/units/demo/calls", key, `{"from":"1000","to":{"type":"extension","number":"1003"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%s", b)
	assert.Equal(t, "urn:ucm-gateway:problem:idempotency-key-reused", problem(t, h, b).Type)

	// A failed keyed dial replays as the same problem on another replica, without a second try.
	f.sim.SetActionError("dialExtension", -25)
	bad := map[string]string{"Idempotency-Key": "fleet-dial-2"}
	code1, _, b1 := f.replicas[0].doH(t, "POST", "/v1/units/demo/calls", bad, body)
	code2, h2, b2 := f.replicas[1].doH(t, "POST", "/v1/units/demo/calls", bad, body)
	assert.Equal(t, code1, code2)
	assert.Equal(t, problem(t, h2, b1).Type, problem(t, h2, b2).Type)
	assert.Equal(t, 2, f.sim.Calls("dialExtension"))
}

func TestFleetSharesAKeysBudget(t *testing.T) {
	key, hash, err := auth.Generate()
	require.NoError(t, err)
	f := newFleetEnv(t, 3, access{keys: []auth.Key{{Name: "client", Hashes: []string{hash}, Scopes: []auth.Scope{auth.ScopeRead}, Units: []string{"*"}}},
		rateLimit: RateLimit{Requests: 6, Window: time.Hour}})
	for i := range 6 {
		code, _, b := f.replicas[i%3].doAs(t, key, "GET", "/v1/units/demo/system/status", "", "")
		require.Equal(t, http.StatusOK, code, "request %d: %s", i, b)
	}
	for _, r := range f.replicas {
		code, h, b := r.doAs(t, key, "GET", "/v1/units/demo/system/status", "", "")
		require.Equal(t, http.StatusTooManyRequests, code, "%s", b)
		assert.NotEmpty(t, h.Get("Retry-After"))
		assert.Contains(t, h.Get("RateLimit"), "r=0")
	}
}

func TestFleetWhileRedisIsDownAndAfter(t *testing.T) {
	key, hash, err := auth.Generate()
	require.NoError(t, err)
	f := newFleetEnv(t, 2, access{keys: []auth.Key{{Name: "client", Hashes: []string{hash}, Scopes: []auth.Scope{auth.ScopeRead, auth.ScopeCalls}, Units: []string{"*"}}},
		rateLimit: RateLimit{Requests: 4, Window: time.Hour}}, withAnswerDelay(time.Minute))
	r0, r1 := f.replicas[0], f.replicas[1]
	code, _, _ := r0.doAs(t, key, "GET", "/v1/units/demo/system/status", "", "")
	require.Equal(t, http.StatusOK, code)
	code, _, _ = r0.do(t, "GET", "/readyz", "", "")
	require.Equal(t, http.StatusOK, code)

	f.redis.Stop()
	f.waitRedis(t, false)

	// /readyz names the cause.
	code, _, b := r0.do(t, "GET", "/readyz", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, string(b), "Redis")

	// Keyed dials fail closed; unkeyed ones work on the replica that holds the session.
	body := `{"from":"1000","to":{"type":"extension","number":"1001"}}`
	code, h, b := r0.doAsH(t, key, "POST", "/v1/units/demo/calls", map[string]string{"Idempotency-Key": "down-1"}, body)
	require.Equal(t, http.StatusServiceUnavailable, code, "%s", b)
	assert.Equal(t, "urn:ucm-gateway:problem:idempotency-unavailable", problem(t, h, b).Type)
	assert.NotEmpty(t, h.Get("Retry-After"))
	assert.Equal(t, 0, f.sim.Calls("dialExtension"))
	code, _, b = r0.doAsH(t, key, "POST", "/v1/units/demo/calls", nil, body)
	require.Equal(t, http.StatusCreated, code, "an unkeyed dial: %s", b)

	// The cold replica does not log in on its own.
	code, h, b = r1.do(t, "GET", "/v1/units/demo/system/status", "", "")
	require.Equal(t, http.StatusServiceUnavailable, code, "%s", b)
	assert.Equal(t, "urn:ucm-gateway:problem:shared-state-unavailable", problem(t, h, b).Type)
	assert.Equal(t, 1, f.sim.Counters().Logins)

	// Rate limits degrade to each replica's own count (the key used 3 of 4 on r0 so far).
	code, _, _ = r0.doAs(t, key, "GET", "/v1/units/demo/system/status", "", "")
	assert.Equal(t, http.StatusOK, code)
	code, _, _ = r0.doAs(t, key, "GET", "/v1/units/demo/system/status", "", "")
	assert.Equal(t, http.StatusTooManyRequests, code, "the local count still limits")
	assert.Positive(t, testutil.ToFloat64(r0.metrics.RateLimitLocal))
	assert.Contains(t, r0.logs.String(), "rate limits are counted per replica")

	// Redis returns: ready again, keyed dials work, the cold replica gets the fleet's session.
	f.redis.Restart()
	f.waitRedis(t, true)
	code, _, _ = r0.do(t, "GET", "/readyz", "", "")
	assert.Equal(t, http.StatusOK, code)
	r0.dial(t, body, map[string]string{"Idempotency-Key": "up-1"})
	code, _, b = r1.doH(t, "POST", "/v1/units/demo/calls", map[string]string{"Idempotency-Key": "up-1"}, body)
	require.Equal(t, http.StatusCreated, code, "%s", b)
	assert.Equal(t, 2, f.sim.Calls("dialExtension"), "the unkeyed dial and up-1, once")
	code, _, b = r1.do(t, "GET", "/v1/units/demo/system/status", "", "")
	require.Equal(t, http.StatusOK, code, "%s", b)
}

// doAsH is doAs with a header map.
func (e *env) doAsH(t *testing.T, key, method, path string, hdr map[string]string, body string) (int, http.Header, []byte) {
	t.Helper()
	var headers []string
	for k, v := range hdr {
		headers = append(headers, k, v)
	}
	return e.doAs(t, key, method, path, "application/json", body, headers...)
}
