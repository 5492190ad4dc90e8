package handlers

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// taker is a counter that checks and counts a request in one step. httprate's limiter asks its
// counter twice under a mutex of its own (read both windows, then increment), which on Redis is
// two round trips with every other request of the replica waiting behind them; the Redis
// counter does both in one Lua script, atomically across the fleet.
type taker interface {
	// take counts one request for key unless that would exceed limit; prev and cur are the
	// counts of the previous and current window afterwards.
	take(key string, limit int, now time.Time) (limited bool, prev, cur int)
}

// slidingTake is httprate's rule (the previous window weighted by its overlap, plus the current
// one, rounded) as one script: KEYS = current, previous window; ARGV = limit, ms into the
// window, window ms, expiry ms.
var slidingTake = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local limit, into, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rate = math.floor(prev * (window - into) / window + cur + 0.5)
if rate + 1 > limit then return {1, prev, cur} end
cur = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {0, prev, cur}`)

func (c *redisCounter) take(key string, limit int, now time.Time) (bool, int, int) {
	cur := now.Truncate(c.window)
	prevW := cur.Add(-c.window)
	if c.usable() {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		v, err := slidingTake.Run(ctx, c.client, []string{c.key(key, cur), c.key(key, prevW)},
			limit, now.Sub(cur).Milliseconds(), c.window.Milliseconds(), (2*c.window + time.Second).Milliseconds()).Int64Slice()
		c.outcome(err)
		if err == nil && len(v) == 3 {
			if v[0] == 0 {
				// Counted locally too, so a fall-back starts from what this replica has seen.
				_ = c.local.IncrementBy(key, cur, 1)
			}
			return v[0] == 1, int(v[1]), int(v[2])
		}
	}
	// Redis is down: this replica's own count, by the same rule.
	c.metrics.RateLimitLocal.Inc()
	c.localMu.Lock()
	defer c.localMu.Unlock()
	curN, prevN, _ := c.local.Get(key, cur, prevW)
	if int(math.Round(slidingRate(prevN, curN, now.Sub(cur), c.window)))+1 > limit {
		return true, prevN, curN
	}
	_ = c.local.IncrementBy(key, cur, 1)
	return false, prevN, curN + 1
}

// takeHeaders sets the headers httprate's limiter sets, for a request a taker counted.
func takeHeaders(h http.Header, limit int, windowEnd time.Time, remaining int, limited bool, window time.Duration) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(windowEnd.Unix(), 10))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, remaining)))
	if limited {
		h.Set("Retry-After", strconv.Itoa(int(window.Seconds())))
	}
}
