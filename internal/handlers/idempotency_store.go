package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/shared"
)

// IdempotencyStore is where POST …/calls keeps the outcomes of its Idempotency-Keys: in this
// replica's memory (the default), or in Redis (RedisIdempotency) so that a retry on any replica
// of a fleet finds the first outcome and never dials twice. The semantics are the same either
// way (idempotency.go). Its methods are the handlers' own; build one with RedisIdempotency.
type IdempotencyStore interface {
	begin(ctx context.Context, key string, fp [32]byte) (idemState, *idemEntry, error)
	finish(ctx context.Context, key string, fp [32]byte, resp any, err error) error
	forget(ctx context.Context, key string) error
}

// localIdem is the in-memory store behind the interface.
type localIdem struct{ s *idempotency }

func (l localIdem) begin(_ context.Context, key string, fp [32]byte) (idemState, *idemEntry, error) {
	st, e := l.s.begin(key, fp)
	return st, e, nil
}

func (l localIdem) finish(_ context.Context, key string, _ [32]byte, resp any, err error) error {
	l.s.finish(key, resp, err)
	return nil
}

func (l localIdem) forget(_ context.Context, key string) error {
	l.s.forget(key)
	return nil
}

// redisIdem keeps outcomes in Redis: a hash per key (its fingerprint, whether it is done, the
// outcome), claimed and read in one Lua script so two replicas cannot both see "new". A claim
// that is still running expires after runningTTL, so a replica that died mid-dial does not
// block the key for a day; a finished one after ttl.
type redisIdem struct {
	client     redis.UniversalClient
	keys       shared.Keys
	health     *shared.Health
	ttl        time.Duration
	runningTTL time.Duration
}

// RedisIdempotency returns the fleet's Idempotency-Key store. health may be nil.
func RedisIdempotency(client redis.UniversalClient, keys shared.Keys, health *shared.Health) IdempotencyStore {
	return &redisIdem{client: client, keys: keys, health: health, ttl: idempotencyTTL, runningTTL: 2 * time.Minute}
}

var idemBegin = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'done', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'new'}
end
local v = redis.call('HMGET', KEYS[1], 'fp', 'done', 'out')
if v[1] ~= ARGV[1] then return {'mismatch'} end
if v[2] ~= '1' then return {'running'} end
return {'replay', v[3]}`)

var idemFinish = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'fp') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'done', '1', 'out', ARGV[2])
return redis.call('PEXPIRE', KEYS[1], ARGV[3])`)

// redisKey hashes the scoped key: it holds the client's own key, which need not be shown to
// anyone who can read Redis.
func (r *redisIdem) redisKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return r.keys.Key("idem", hex.EncodeToString(sum[:]))
}

func (r *redisIdem) report(err error) error {
	if r.health != nil {
		r.health.Report(err)
	}
	if err == nil || errors.Is(err, redis.Nil) {
		return nil
	}
	return shared.Unavailable(err)
}

func (r *redisIdem) begin(ctx context.Context, key string, fp [32]byte) (idemState, *idemEntry, error) {
	if r.health != nil && !r.health.Up() {
		return 0, nil, shared.ErrUnavailable
	}
	v, err := idemBegin.Run(ctx, r.client, []string{r.redisKey(key)}, hex.EncodeToString(fp[:]), r.runningTTL.Milliseconds()).StringSlice()
	if err = r.report(err); err != nil {
		return 0, nil, err
	}
	switch v[0] {
	case "new":
		return idemNew, nil, nil
	case "mismatch":
		return idemMismatch, nil, nil
	case "running":
		return idemRunning, nil, nil
	}
	var out storedOutcome
	if len(v) < 2 || json.Unmarshal([]byte(v[1]), &out) != nil {
		return 0, nil, fmt.Errorf("idempotency: the stored outcome of a key does not decode")
	}
	e := &idemEntry{done: true}
	if out.Problem != nil {
		e.err = &replayedProblem{p: out.Problem.problem()}
	} else {
		e.resp = api.CreateCall201JSONResponse{Body: out.Call, Headers: api.CreateCall201ResponseHeaders{Location: out.Location}}
	}
	return idemReplay, e, nil
}

func (r *redisIdem) finish(ctx context.Context, key string, fp [32]byte, resp any, err error) error {
	var out storedOutcome
	if err != nil {
		p := storedProblemOf(problemFor(err))
		out.Problem = &p
	} else if c, ok := resp.(api.CreateCall201JSONResponse); ok {
		out.Call, out.Location = c.Body, c.Headers.Location
	}
	data, merr := json.Marshal(out)
	if merr != nil {
		return merr
	}
	return r.report(idemFinish.Run(ctx, r.client, []string{r.redisKey(key)}, hex.EncodeToString(fp[:]), data, r.ttl.Milliseconds()).Err())
}

func (r *redisIdem) forget(ctx context.Context, key string) error {
	return r.report(r.client.Del(ctx, r.redisKey(key)).Err())
}

// storedOutcome is a finished keyed dial as the fleet keeps it: the call, or the problem the
// client was answered with (an error value cannot cross replicas; its answer can).
type storedOutcome struct {
	Call     api.Call       `json:"call"`
	Location string         `json:"location,omitempty"`
	Problem  *storedProblem `json:"problem,omitempty"`
}

type storedProblem struct {
	Problem
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

func storedProblemOf(p Problem) storedProblem {
	return storedProblem{Problem: p, RetryAfterMS: p.retryAfter.Milliseconds()}
}

func (s storedProblem) problem() Problem {
	p := s.Problem
	p.retryAfter = time.Duration(s.RetryAfterMS) * time.Millisecond
	return p
}

// replayedProblem is a stored answer replayed as it was first given (problemFor passes it on).
type replayedProblem struct{ p Problem }

func (e *replayedProblem) Error() string { return e.p.Detail }
