package shared

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sessions keeps the units' sessions in Redis for the whole fleet; it is the Redis
// sessionpool.SessionStore. Cookies are sealed (AES-256-GCM, bound to the unit) before they
// leave the replica. Compare-and-set operations run as Lua scripts, so "delete the cookie only if
// it is still the one that failed" and "release the lock only if it is still ours" hold however
// the replicas interleave.
type Sessions struct {
	client redis.UniversalClient
	keys   Keys
	sealer *Sealer
	health *Health // nil: always try

	mu     sync.Mutex
	sealed map[string]sealedCookie // unit -> the cookie this replica last read or wrote, as stored
}

type sealedCookie struct {
	cookie string
	sealed string
}

// NewSessions returns the store; health (may be nil) lets it refuse at once while Redis is down
// instead of waiting out a timeout on every login.
func NewSessions(client redis.UniversalClient, keys Keys, sealer *Sealer, health *Health) *Sessions {
	return &Sessions{client: client, keys: keys, sealer: sealer, health: health, sealed: map[string]sealedCookie{}}
}

var (
	// getWithTTL answers the value and its remaining milliseconds in one round trip.
	getWithTTL = redis.NewScript(`return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}`)
	// ifEqualExpire restarts a key's time only if it still holds ARGV[1].
	ifEqualExpire = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`)
	// ifEqualDelete deletes a key only if it still holds ARGV[1].
	ifEqualDelete = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)
	// releaseLock frees the lock (ARGV[2] = 0) or keeps it ARGV[2] ms longer, only for its holder.
	releaseLock = redis.NewScript(`if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('DEL', KEYS[1])`)
)

// guard refuses at once while Health says Redis is down.
func (s *Sessions) guard() error {
	if s.health != nil && !s.health.Up() {
		return ErrUnavailable
	}
	return nil
}

// done reports the outcome to Health and wraps a failure as ErrUnavailable.
func (s *Sessions) done(err error) error {
	if s.health != nil {
		s.health.Report(err)
	}
	if err == nil || errors.Is(err, redis.Nil) {
		return nil
	}
	return Unavailable(err)
}

// Cookie returns the unit's shared cookie and its remaining time, or "" when there is none (or
// it does not open with this replica's key, which is logged by the caller's next login).
func (s *Sessions) Cookie(ctx context.Context, unit string) (string, time.Duration, error) {
	if err := s.guard(); err != nil {
		return "", 0, err
	}
	v, err := getWithTTL.Run(ctx, s.client, []string{s.keys.Unit(unit, "cookie")}).Slice()
	if err = s.done(err); err != nil {
		return "", 0, err
	}
	if len(v) != 2 {
		return "", 0, nil
	}
	sealed, _ := v[0].(string)
	ms, _ := v[1].(int64)
	if sealed == "" || ms <= 0 {
		return "", 0, nil
	}
	plain, err := s.sealer.Open(unit, []byte(sealed))
	if err != nil {
		return "", 0, nil // another key wrote it: log in and overwrite it with ours
	}
	cookie := string(plain)
	s.remember(unit, cookie, sealed)
	return cookie, time.Duration(ms) * time.Millisecond, nil
}

// PutCookie shares a fresh cookie for ttl.
func (s *Sessions) PutCookie(ctx context.Context, unit, cookie string, ttlFor time.Duration) error {
	if err := s.guard(); err != nil {
		return err
	}
	sealed := string(s.sealer.Seal(unit, []byte(cookie)))
	err := s.done(s.client.Set(ctx, s.keys.Unit(unit, "cookie"), sealed, ttl(ttlFor)).Err())
	if err == nil {
		s.remember(unit, cookie, sealed)
	}
	return err
}

// TouchCookie restarts the shared cookie's time if it is still cookie.
func (s *Sessions) TouchCookie(ctx context.Context, unit, cookie string, ttlFor time.Duration) error {
	sealed, ok := s.recall(unit, cookie)
	if !ok {
		return nil // not a cookie the fleet shares (this replica logged in alone while Redis was down)
	}
	if err := s.guard(); err != nil {
		return err
	}
	return s.done(ifEqualExpire.Run(ctx, s.client, []string{s.keys.Unit(unit, "cookie")}, sealed, ttl(ttlFor).Milliseconds()).Err())
}

// DropCookie deletes the shared cookie only if it is still cookie.
func (s *Sessions) DropCookie(ctx context.Context, unit, cookie string) error {
	sealed, ok := s.recall(unit, cookie)
	if !ok {
		return nil
	}
	if err := s.guard(); err != nil {
		return err
	}
	return s.done(ifEqualDelete.Run(ctx, s.client, []string{s.keys.Unit(unit, "cookie")}, sealed).Err())
}

// LockLogin takes the unit's login lock (SET NX PX with a random token).
func (s *Sessions) LockLogin(ctx context.Context, unit string, ttlFor time.Duration) (func(time.Duration), bool, error) {
	if err := s.guard(); err != nil {
		return nil, false, err
	}
	key, token := s.keys.Unit(unit, "lock"), randomToken()
	ok, err := s.client.SetNX(ctx, key, token, ttl(ttlFor)).Result()
	if err = s.done(err); err != nil || !ok {
		return nil, false, err
	}
	release := func(hold time.Duration) {
		// Its own context: the login's may have ended, and a lock left behind costs the fleet
		// its whole ttl.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = s.done(releaseLock.Run(rctx, s.client, []string{key}, token, max(hold, 0).Milliseconds()).Err())
	}
	return release, true, nil
}

// Stop records the fleet's login stop for the unit (until ClearStop: only an operator lifts it).
func (s *Sessions) Stop(ctx context.Context, unit string, why []byte) error {
	if err := s.guard(); err != nil {
		return err
	}
	return s.done(s.client.Set(ctx, s.keys.Unit(unit, "stop"), why, 0).Err())
}

// Stopped returns the unit's login stop, nil when logins are allowed.
func (s *Sessions) Stopped(ctx context.Context, unit string) ([]byte, error) {
	if err := s.guard(); err != nil {
		return nil, err
	}
	v, err := s.client.Get(ctx, s.keys.Unit(unit, "stop")).Bytes()
	if errors.Is(err, redis.Nil) {
		s.done(nil) //nolint:errcheck // nil in, nil out: only Health learns from it
		return nil, nil
	}
	if err = s.done(err); err != nil {
		return nil, err
	}
	return v, nil
}

// ClearStop lifts the unit's login stop for the fleet.
func (s *Sessions) ClearStop(ctx context.Context, unit string) error {
	if err := s.guard(); err != nil {
		return err
	}
	return s.done(s.client.Del(ctx, s.keys.Unit(unit, "stop")).Err())
}

// KeepAliveTurn claims the unit's keep-alive for ttl: SET NX PX, so one replica per period.
func (s *Sessions) KeepAliveTurn(ctx context.Context, unit string, ttlFor time.Duration) (bool, error) {
	if err := s.guard(); err != nil {
		return false, err
	}
	ok, err := s.client.SetNX(ctx, s.keys.Unit(unit, "keepalive"), randomToken(), ttl(ttlFor)).Result()
	if err = s.done(err); err != nil {
		return false, err
	}
	return ok, nil
}

func (s *Sessions) remember(unit, cookie, sealed string) {
	s.mu.Lock()
	s.sealed[unit] = sealedCookie{cookie: cookie, sealed: sealed}
	s.mu.Unlock()
}

func (s *Sessions) recall(unit, cookie string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.sealed[unit]
	return c.sealed, ok && c.cookie == cookie
}

// randomToken names a lock's holder.
func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
