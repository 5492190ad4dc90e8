package handlers

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/httprate"
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

// localTaker makes any counter a taker: it checks and counts under one mutex of its own, by
// httprate's sliding-window rule. It is this replica's counter (newLocalCounter), and the Redis
// counter's fall-back while Redis is down.
type localTaker struct {
	httprate.LimitCounter
	window time.Duration
	mu     sync.Mutex // take's check and count
}

// newLocalCounter counts in this replica's memory (httprate's in-memory counter).
func newLocalCounter(window time.Duration) *localTaker {
	return &localTaker{LimitCounter: httprate.NewLocalLimitCounter(window), window: window}
}

func (c *localTaker) take(key string, limit int, now time.Time) (bool, int, int) {
	cur := now.Truncate(c.window)
	c.mu.Lock()
	defer c.mu.Unlock()
	curN, prevN, _ := c.Get(key, cur, cur.Add(-c.window))
	if int(math.Round(slidingRate(prevN, curN, now.Sub(cur), c.window)))+1 > limit {
		return true, prevN, curN
	}
	_ = c.IncrementBy(key, cur, 1)
	return false, prevN, curN + 1
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
	return c.local.take(key, limit, now)
}

// rateHeaders sets the budget on an answer: httprate's X-RateLimit-Limit, -Reset (the window's
// end, Unix seconds) and -Remaining, and the IETF draft's RateLimit-Policy (limit q per w
// seconds) and RateLimit (r left, t seconds until the window's end or, when limited, until one
// more request is let through). A limited answer's Retry-After is writeProblem's.
//
// Every request passes here, so the five headers cost two allocations, not h.Set's one or
// two per header: all values are cut from one string, and each name's one-value slice from one
// array. The names are written in canonical form, as h.Set would; each slice is capped at its
// one value, so a later h.Add copies it rather than overwriting its neighbour.
func rateHeaders(h http.Header, limit, remaining int, windowEnd time.Time, windowSecs, t int) {
	var b [160]byte
	buf := b[:0]
	var ends [5]int
	buf = strconv.AppendInt(buf, int64(limit), 10)
	ends[0] = len(buf)
	buf = strconv.AppendInt(buf, windowEnd.Unix(), 10)
	ends[1] = len(buf)
	buf = strconv.AppendInt(buf, int64(max(0, remaining)), 10)
	ends[2] = len(buf)
	buf = append(buf, `"per-key";q=`...)
	buf = strconv.AppendInt(buf, int64(limit), 10)
	buf = append(buf, ";w="...)
	buf = strconv.AppendInt(buf, int64(windowSecs), 10)
	ends[3] = len(buf)
	buf = append(buf, `"per-key";r=`...)
	buf = strconv.AppendInt(buf, int64(max(0, remaining)), 10)
	buf = append(buf, ";t="...)
	buf = strconv.AppendInt(buf, int64(t), 10)
	ends[4] = len(buf)
	all := string(buf)
	vals := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		vals[i] = all[start:end]
		start = end
	}
	h["X-Ratelimit-Limit"] = vals[0:1:1]
	h["X-Ratelimit-Reset"] = vals[1:2:2]
	h["X-Ratelimit-Remaining"] = vals[2:3:3]
	h["Ratelimit-Policy"] = vals[3:4:4]
	h["Ratelimit"] = vals[4:5:5]
}
