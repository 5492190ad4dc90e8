package handlers

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"sync/atomic"
	"time"
)

// RateLimit is a per-key request budget: Requests in any sliding Window.
type RateLimit struct {
	Requests int
	Window   time.Duration
}

// rateLimiter counts requests per key name, so both keys of a rotation share one budget. Every
// answer carries the budget (RateLimit-Policy and RateLimit, IETF draft, besides httprate's
// X-RateLimit-*); a spent budget is a 429 whose Retry-After is exact: waiting that long is enough.
// The budget is the live one (a reload may change it): a new window length starts new counts.
func (s *Server) rateLimiter() func(http.Handler) http.Handler {
	var current atomic.Pointer[budget]
	budgetFor := func(rl RateLimit) *budget {
		if b := current.Load(); b != nil && b.rl.Window == rl.Window {
			return b
		}
		// Windows are aligned to the clock, so retryAfter can read the same counts the
		// sliding estimate uses.
		var counter RateLimitCounter
		if s.rateCounters != nil {
			counter = s.rateCounters(rl.Window)
		} else {
			counter = newLocalCounter(rl.Window)
		}
		counter.Config(rl.Requests, rl.Window)
		t, ok := counter.(taker)
		if !ok {
			t = &localTaker{LimitCounter: counter, window: rl.Window}
		}
		b := &budget{rl: rl, counter: t}
		if current.CompareAndSwap(current.Load(), b) {
			return b
		}
		return current.Load()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := principalFrom(r.Context())
			if p == nil { // authenticate did not run: fail closed
				writeProblem(w, r, s.logger, &AccessError{Status: http.StatusUnauthorized, Detail: "an API key is required: send Authorization: Bearer <key>"})
				return
			}
			rl := s.live.load().RateLimit
			b := budgetFor(rl)
			// Always the request's own limit: the budget was made with the limit of its
			// window, which a reload may have changed since.
			limit := rl.Requests
			if p.RateLimit > 0 {
				limit = p.RateLimit
			}
			now := time.Now().UTC()
			cur := now.Truncate(rl.Window)
			limited, prevN, curN := b.counter.take(p.Name, limit, now)
			remaining := limit - int(math.Round(slidingRate(prevN, curN, now.Sub(cur), rl.Window)))
			window := int(math.Ceil(rl.Window.Seconds()))
			if !limited {
				reset := int(math.Ceil(cur.Add(rl.Window).Sub(now).Seconds()))
				rateHeaders(w.Header(), limit, remaining, cur.Add(rl.Window), window, reset)
				next.ServeHTTP(w, r)
				return
			}
			wait := retryAfter(prevN, curN, limit, now.Sub(cur), rl.Window)
			rateHeaders(w.Header(), limit, 0, cur.Add(rl.Window), window, wait)
			writeProblem(w, r, s.logger, &AccessError{Status: http.StatusTooManyRequests, RetryAfter: time.Duration(wait) * time.Second,
				Detail: fmt.Sprintf("the API key %q used its %d requests per %s; wait before trying again", p.Name, limit, rl.Window)})
		})
	}
}

// budget is the counter of one window length.
type budget struct {
	rl      RateLimit
	counter taker
}

// slidingRate is httprate's estimate of the requests in the last window: the previous window's
// count, weighted by how much of it still overlaps, plus the current window's.
func slidingRate(prev, cur int, into, window time.Duration) float64 {
	return float64(prev)*float64(window-into)/float64(window) + float64(cur)
}

// retryAfter returns the whole seconds until httprate would let one more request through, if no
// other request arrives meanwhile. The estimate only falls with time, so a binary search over
// the next two windows finds the first second that is enough.
func retryAfter(prev, cur, limit int, into, window time.Duration) int {
	allowedAfter := func(sec int) bool {
		at := into + time.Duration(sec)*time.Second
		var rate float64
		switch {
		case at < window:
			rate = slidingRate(prev, cur, at, window)
		case at < 2*window:
			rate = slidingRate(cur, 0, at-window, window)
		}
		return int(math.Round(rate))+1 <= limit
	}
	horizon := int(math.Ceil((2 * window).Seconds()))
	return max(1, sort.Search(horizon+1, allowedAfter))
}
