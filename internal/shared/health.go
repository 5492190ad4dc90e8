package shared

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Health follows whether Redis answers, so /readyz and the stores that degrade can tell without
// a round trip of their own. It pings every interval and also learns from the stores' own
// failures (Report); transitions are logged once each way, never every failure.
type Health struct {
	client   redis.UniversalClient
	logger   *slog.Logger
	addr     string
	interval time.Duration
	up       atomic.Bool
	onChange func(up bool)

	mu   sync.Mutex
	last string // the last failure, for the log line
}

// NewHealth returns a Health that starts as up if a first ping answers; onChange (may be nil)
// runs on every transition, for a metric.
func NewHealth(ctx context.Context, client redis.UniversalClient, addr string, interval time.Duration, logger *slog.Logger, onChange func(up bool)) *Health {
	if onChange == nil {
		onChange = func(bool) {}
	}
	h := &Health{client: client, logger: logger, addr: addr, interval: interval, onChange: onChange}
	pctx, cancel := context.WithTimeout(ctx, interval)
	defer cancel()
	up := client.Ping(pctx).Err() == nil
	h.up.Store(up)
	onChange(up)
	return h
}

// Up reports whether Redis answered last time anyone asked it something.
func (h *Health) Up() bool { return h.up.Load() }

// Report tells Health how a command went: a failure marks Redis down at once (the next ping
// brings it back), a success marks it up.
func (h *Health) Report(err error) {
	if err != nil && !IsRedisDown(err) {
		return // a script's own error, a missing key: Redis answered
	}
	h.set(err == nil, err)
}

func (h *Health) set(up bool, err error) {
	if h.up.Swap(up) == up {
		return
	}
	h.onChange(up)
	if up {
		h.logger.Info("Redis answers again: shared state restored", "addr", h.addr)
		return
	}
	h.logger.Error("Redis stopped answering: shared state is degraded until it returns (see /readyz)", "addr", h.addr, "err", err)
}

// Run pings until ctx ends; the caller owns the goroutine.
func (h *Health) Run(ctx context.Context) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, h.interval)
			err := h.client.Ping(pctx).Err()
			cancel()
			if ctx.Err() != nil {
				return
			}
			h.set(err == nil, err)
		}
	}
}

// IsRedisDown tells a failure to reach Redis from an answer Redis gave (redis.Nil, a script's
// error reply): only the first means the shared state is unavailable.
func IsRedisDown(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false // Redis answered, or the caller gave up: neither says Redis is down
	}
	var re redis.Error
	if ok := asRedisError(err, &re); ok {
		// LOADING, MASTERDOWN, CLUSTERDOWN, READONLY, BUSY mean Redis cannot serve us now.
		msg := re.Error()
		for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "READONLY", "BUSY", "TRYAGAIN"} {
			if len(msg) >= len(p) && msg[:len(p)] == p {
				return true
			}
		}
		return false
	}
	return true
}
