package handlers

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/go-chi/httprate"
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
		// Our own counter (httprate's in-memory one, wrapped) makes httprate align windows to
		// the clock, so retryAfter can read the same counts httprate's sliding estimate uses.
		var counter httprate.LimitCounter
		if s.rateCounters != nil {
			counter = s.rateCounters(rl.Window)
		} else {
			counter = httprate.NewLocalLimitCounter(rl.Window)
		}
		b := &budget{rl: rl, counter: counter, limiter: httprate.NewRateLimiter(rl.Requests, rl.Window, httprate.WithLimitCounter(counter))}
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
			limit := rl.Requests
			if p.RateLimit > 0 {
				limit = p.RateLimit
			}
			// Always the request's own limit: the limiter was built with the budget of its
			// window, which a reload may have changed since.
			r = r.WithContext(httprate.WithRequestLimit(r.Context(), limit))
			window := int(math.Ceil(rl.Window.Seconds()))
			now := time.Now().UTC()
			cur := now.Truncate(rl.Window)
			h := w.Header()
			var limited bool
			var curN, prevN int
			if t, ok := b.counter.(taker); ok {
				limited, prevN, curN = t.take(p.Name, limit, now)
				rate := int(math.Round(slidingRate(prevN, curN, now.Sub(cur), rl.Window)))
				takeHeaders(h, limit, cur.Add(rl.Window), limit-rate, limited, rl.Window)
			} else {
				limited = b.limiter.OnLimit(w, r, p.Name)
				curN, prevN, _ = b.counter.Get(p.Name, cur, cur.Add(-rl.Window))
			}
			h.Set("RateLimit-Policy", fmt.Sprintf(`"per-key";q=%d;w=%d`, limit, window))
			if !limited {
				remaining := limit - int(math.Round(slidingRate(prevN, curN, now.Sub(cur), rl.Window)))
				reset := int(math.Ceil(cur.Add(rl.Window).Sub(now).Seconds()))
				h.Set("RateLimit", fmt.Sprintf(`"per-key";r=%d;t=%d`, max(0, remaining), reset))
				next.ServeHTTP(w, r)
				return
			}
			wait := retryAfter(prevN, curN, limit, now.Sub(cur), rl.Window)
			h.Set("RateLimit", fmt.Sprintf(`"per-key";r=0;t=%d`, wait))
			writeProblem(w, r, s.logger, &AccessError{Status: http.StatusTooManyRequests, RetryAfter: time.Duration(wait) * time.Second,
				Detail: fmt.Sprintf("the API key %q used its %d requests per %s; wait before trying again", p.Name, limit, rl.Window)})
		})
	}
}

// budget is the limiter of one window length.
type budget struct {
	rl      RateLimit
	counter httprate.LimitCounter
	limiter *httprate.RateLimiter
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
