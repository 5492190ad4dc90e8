package handlers

import (
	"sync/atomic"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
)

// LiveSettings are the handlers' settings a configuration reload may change while requests run:
// the API keys, the default budget and the units' time zones.
type LiveSettings struct {
	Keys      *auth.Keyring
	RateLimit RateLimit
	TimeZones map[string]*time.Location
}

// Live holds the LiveSettings in use. A request reads them once where it needs them, so a swap
// never shows it half of each; requests in flight are not dropped.
type Live struct{ v atomic.Pointer[LiveSettings] }

// NewLive returns a Live holding s.
func NewLive(s LiveSettings) *Live {
	l := &Live{}
	l.Swap(s)
	return l
}

// Swap puts s in use for the requests that start from now on.
func (l *Live) Swap(s LiveSettings) {
	if s.RateLimit.Requests <= 0 {
		s.RateLimit.Requests = 600
	}
	if s.RateLimit.Window <= 0 {
		s.RateLimit.Window = time.Minute
	}
	l.v.Store(&s)
}

func (l *Live) load() *LiveSettings { return l.v.Load() }
