package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
	"github.com/ucm-gateway/ucm-gateway/internal/handlers"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/shared"
)

// fleet is the shared state of a gateway that runs as several replicas; its zero value (no
// Redis) leaves every store in this replica's memory.
type fleet struct {
	client   redis.UniversalClient
	health   *shared.Health
	sessions sessionpool.SessionStore
	idem     handlers.IdempotencyStore
	limits   func(time.Duration) handlers.RateLimitCounter
	stop     func()
}

// healthEvery is how often a replica pings Redis to learn it is back (or gone while idle).
const healthEvery = time.Second

// openFleet connects to Redis when it is configured. A Redis that does not answer is not an
// error: the replica starts degraded (see /readyz) and recovers when Redis returns.
func openFleet(ctx context.Context, cfg config.Redis, logger *slog.Logger, m *metrics.Metrics) (*fleet, error) {
	if !cfg.Enabled() {
		return &fleet{stop: func() {}}, nil
	}
	// go-redis's own log lines (a failed dial, once per command) go to ours at debug: Health
	// already says, once, that Redis is down.
	routeRedisLogs(logger)
	client, err := shared.Open(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	sealer, err := shared.NewSealer(cfg.CookieKey)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	m.RegisterRedis()
	health := shared.NewHealth(ctx, client, cfg.Addr, healthEvery, logger, func(up bool) {
		if up {
			m.RedisUp.Set(1)
		} else {
			m.RedisUp.Set(0)
		}
	})
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); health.Run(hctx) }()
	keys := shared.NewKeys(cfg.KeyPrefix)
	return &fleet{
		client: client, health: health,
		sessions: shared.NewSessions(client, keys, sealer, health),
		idem:     handlers.RedisIdempotency(client, keys, health),
		limits:   handlers.RedisRateLimits(client, keys, health, m, logger),
		stop: func() {
			cancel()
			<-done
			_ = client.Close()
		},
	}, nil
}

// notReady is /readyz's view of the shared state. A replica that cannot reach a configured
// Redis reports not ready: keyed dials fail closed on it and a unit it holds no session for
// cannot be logged in to, so a load balancer with a healthy replica should prefer that one.
// The replica keeps serving what it can (reads and unkeyed dials on the sessions it holds,
// rate limits counted locally) for clients that reach it anyway.
func (f *fleet) notReady() string {
	if f.health == nil || f.health.Up() {
		return ""
	}
	return "the shared state (Redis) is unavailable"
}

// Pool and handler options, nil without Redis.
func (f *fleet) sessionStore() sessionpool.SessionStore { return f.sessions }

// go-redis has one logger for the whole process (redis.SetLogger); it is set once and follows
// the logger of the gateway that runs now (tests run several in turn).
var (
	redisLogOnce sync.Once
	redisLog     atomic.Pointer[slog.Logger]
)

func routeRedisLogs(logger *slog.Logger) {
	redisLog.Store(logger)
	redisLogOnce.Do(func() { redis.SetLogger(redisLogger{}) })
}

type redisLogger struct{}

func (redisLogger) Printf(ctx context.Context, format string, v ...any) {
	if l := redisLog.Load(); l != nil {
		l.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
	}
}
