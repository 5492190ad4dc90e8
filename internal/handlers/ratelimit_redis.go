package handlers

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-chi/httprate"
	"github.com/redis/go-redis/v9"

	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/shared"
)

// RateLimitCounter counts the per-key budgets (httprate's counter interface): in this replica's
// memory by default, or in Redis (RedisRateLimits) so that a key's budget is the fleet's.
type RateLimitCounter = httprate.LimitCounter

// redisCounter keeps httprate's two windows per key in Redis (INCRBY with an expiry of two
// windows, MGET of both), as github.com/go-chi/httprate-redis does; that module is not on the
// module proxy, so these few lines stand in for it. While Redis is down it counts in memory:
// the budget becomes per replica, which is logged once each way and counted in
// ucm_gateway_rate_limit_local_fallback_total. Limiting on a replica's own count is better than
// refusing every request, or letting every request through.
type redisCounter struct {
	client  redis.UniversalClient
	keys    shared.Keys
	health  *shared.Health
	metrics *metrics.Metrics
	logger  *slog.Logger
	timeout time.Duration

	window time.Duration
	local  *localTaker // this replica's count, kept up always
	down   atomic.Bool // counting locally now
}

// RedisRateLimits returns the maker of the fleet's rate-limit counters (Options.RateLimits).
// health may be nil.
func RedisRateLimits(client redis.UniversalClient, keys shared.Keys, health *shared.Health, m *metrics.Metrics, logger *slog.Logger) func(time.Duration) RateLimitCounter {
	return func(window time.Duration) RateLimitCounter {
		return &redisCounter{client: client, keys: keys, health: health, metrics: m, logger: logger, timeout: time.Second,
			window: window, local: newLocalCounter(window)}
	}
}

func (c *redisCounter) Config(requestLimit int, windowLength time.Duration) {
	c.local.Config(requestLimit, windowLength)
}

// key names a window's count: the window's length is part of it, so a reload that changes the
// length never mixes counts of two lengths.
func (c *redisCounter) key(name string, window time.Time) string {
	return c.keys.Key("rate", name, strconv.FormatInt(c.window.Milliseconds(), 10), strconv.FormatInt(window.Unix(), 10))
}

func (c *redisCounter) Increment(key string, currentWindow time.Time) error {
	return c.IncrementBy(key, currentWindow, 1)
}

func (c *redisCounter) IncrementBy(key string, currentWindow time.Time, amount int) error {
	// The local count goes on as well, so a fall-back starts from what this replica has seen.
	_ = c.local.IncrementBy(key, currentWindow, amount)
	if !c.usable() {
		c.metrics.RateLimitLocal.Inc()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	k := c.key(key, currentWindow)
	_, err := c.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.IncrBy(ctx, k, int64(amount))
		p.PExpire(ctx, k, 2*c.window+time.Second)
		return nil
	})
	c.outcome(err)
	if err != nil {
		c.metrics.RateLimitLocal.Inc()
	}
	return nil
}

func (c *redisCounter) Get(key string, currentWindow, previousWindow time.Time) (int, int, error) {
	if c.usable() {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		vals, err := c.client.MGet(ctx, c.key(key, currentWindow), c.key(key, previousWindow)).Result()
		c.outcome(err)
		if err == nil {
			return toCount(vals[0]), toCount(vals[1]), nil
		}
	}
	return c.local.Get(key, currentWindow, previousWindow)
}

// usable says whether to ask Redis: not while Health knows it is down.
func (c *redisCounter) usable() bool {
	return c.health == nil || c.health.Up() || !c.down.Load()
}

// outcome logs the switch between the fleet's count and this replica's, once each way.
func (c *redisCounter) outcome(err error) {
	if c.health != nil {
		c.health.Report(err)
	}
	down := err != nil
	if c.down.Swap(down) == down {
		return
	}
	if down {
		c.logger.Warn("rate limits are counted per replica while Redis is unavailable: a key's budget is per replica until it returns", "err", err)
		return
	}
	c.logger.Info("rate limits are the fleet's again (Redis answers)")
}

func toCount(v any) int {
	s, _ := v.(string)
	n, _ := strconv.Atoi(s)
	return n
}
