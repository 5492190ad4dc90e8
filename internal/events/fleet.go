package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// FleetOptions configure the events of several gateway replicas sharing one Redis; zero values
// take the documented defaults.
type FleetOptions struct {
	// Client should not retry commands itself (MaxRetries -1): an append whose answer was lost
	// may have been applied, and a retry would store the event again under a new id.
	Client redis.UniversalClient
	Prefix string // before every key, e.g. "ucm-gateway:"
	// Replica names this process in the lease and in consumer groups; default a random id (a
	// restarted replica is a new one: it must not inherit what the old one held).
	Replica string
	// LeaseTTL is how long a replica that stops renewing (it died) keeps a unit's source (6s);
	// it renews every LeaseTTL/3, and a replica that wants the source tries every Retry.
	LeaseTTL time.Duration
	// Block bounds one wait for new stream entries (1s): a follower notices Close within it.
	Block time.Duration
	// Retry is the pause after a Redis error, and between tries for a held lease (500ms).
	Retry time.Duration
	// Timeout bounds one Redis command that does not block (2s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Fleet is the Redis side of live events when several replicas serve the same units: a Stream
// per unit that every replica follows (so any replica serves any client's Last-Event-ID), a
// per-unit sequence that numbers events across the fleet, and a lease per unit so that exactly
// one replica runs the unit's upstream source at a time. Hubs given a Fleet use it; hubs without
// keep everything in memory, as one replica does.
type Fleet struct {
	o FleetOptions
}

// NewFleet checks the options; it sends nothing to Redis.
func NewFleet(o FleetOptions) (*Fleet, error) {
	if o.Client == nil {
		return nil, errors.New("events: a fleet needs a Redis client")
	}
	if o.Replica == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		o.Replica = hex.EncodeToString(b)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 6 * time.Second
	}
	if o.Block <= 0 {
		o.Block = time.Second
	}
	if o.Retry <= 0 {
		o.Retry = 500 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Fleet{o: o}, nil
}

// Replica is this process's name in leases and consumer groups.
func (f *Fleet) Replica() string { return f.o.Replica }

// unitKeys are one unit's keys; the hash tag keeps them in one cluster slot, as the scripts
// need.
type unitKeys struct {
	stream, seq, lease, state string
}

func (f *Fleet) keys(unit string) unitKeys {
	base := f.o.Prefix + "events:{" + unit + "}"
	return unitKeys{stream: base, seq: base + ":seq", lease: base + ":lease", state: base + ":state"}
}

// publishScript appends one event, fenced by the lease: only the replica holding it may write,
// so two sources of one unit never interleave even when a lease changes hands under a slow
// replica. The sequence starts at Redis's clock in microseconds (as a hub in memory starts at
// its creation time), so ids keep growing when Redis loses its data. The stream entry's id is
// the event's id, so a resume reads from it directly. ARGV: replica, the event's JSON after
// `{"id":0`, the stream's approximate length, the event type.
var publishScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[2], string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2])))
end
local sid = string.format('%d', redis.call('INCR', KEYS[2]))
local json = '{"id":' .. sid .. ARGV[2]
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], sid .. '-0', 'json', json)
if ARGV[4] == 'unit.state' then redis.call('SET', KEYS[4], json) end
return sid
`)

// acquireScript takes the lease when it is free (2), or renews it when this replica holds it
// (1).
var acquireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// releaseScript drops the lease only if this replica still holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// errNotHolder says a publish was refused because another replica holds the unit's lease.
var errNotHolder = errors.New("another replica holds the unit's event source")

// publish appends ev (its ID is ignored) and returns the id it got.
func (f *Fleet) publish(ctx context.Context, k unitKeys, ev Event, maxLen int) (int64, error) {
	ev.ID = 0
	js, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	const head = `{"id":0`
	if !strings.HasPrefix(string(js), head) {
		return 0, fmt.Errorf("events: unexpected event encoding")
	}
	ctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	defer cancel()
	sid, err := publishScript.Run(ctx, f.o.Client, []string{k.lease, k.seq, k.stream, k.state},
		f.o.Replica, string(js[len(head):]), maxLen, ev.Type).Text()
	if errors.Is(err, redis.Nil) {
		return 0, errNotHolder
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(sid, 10, 64)
}

// acquire takes or renews the unit's lease: ok false means another replica holds it, fresh
// that it was free (so a holder that gets fresh had lost it meanwhile: it lapsed, or Redis lost
// its data).
func (f *Fleet) acquire(ctx context.Context, k unitKeys) (ok, fresh bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	defer cancel()
	n, err := acquireScript.Run(ctx, f.o.Client, []string{k.lease}, f.o.Replica, f.o.LeaseTTL.Milliseconds()).Int()
	return n > 0, n == 2, err
}

// release gives the lease up, if this replica still holds it, so another takes over at once.
func (f *Fleet) release(k unitKeys) error {
	ctx, cancel := context.WithTimeout(context.Background(), f.o.Timeout)
	defer cancel()
	return releaseScript.Run(ctx, f.o.Client, []string{k.lease}, f.o.Replica).Err()
}

// holder names the replica holding the unit's lease ("" when none does).
func (f *Fleet) holder(ctx context.Context, unit string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	defer cancel()
	v, err := f.o.Client.Get(ctx, f.keys(unit).lease).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

// tail is the id of the stream's newest entry (0 when empty) and the unit's last unit.state.
func (f *Fleet) tail(ctx context.Context, k unitKeys) (int64, *Event, error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	defer cancel()
	pipe := f.o.Client.Pipeline()
	last := pipe.XRevRangeN(ctx, k.stream, "+", "-", 1)
	st := pipe.Get(ctx, k.state)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, nil, err
	}
	var id int64
	if msgs := last.Val(); len(msgs) > 0 {
		id = entryID(msgs[0].ID)
	}
	var state *Event
	if raw, err := st.Bytes(); err == nil {
		if ev, ok := decodeEntry(raw); ok {
			state = &ev
		}
	}
	return id, state, nil
}

// rangeAfter reads up to n entries after id.
func (f *Fleet) rangeAfter(ctx context.Context, k unitKeys, after int64, n int) ([]Event, error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	defer cancel()
	msgs, err := f.o.Client.XRangeN(ctx, k.stream, "("+streamID(after), "+", int64(n)).Result()
	if err != nil {
		return nil, err
	}
	return decodeMessages(msgs), nil
}

// read waits up to Block for entries after id.
func (f *Fleet) read(ctx context.Context, k unitKeys, after int64, n int) ([]Event, error) {
	res, err := f.o.Client.XRead(ctx, &redis.XReadArgs{Streams: []string{k.stream, streamID(after)}, Count: int64(n), Block: f.o.Block}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil // nothing new within Block
	}
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, s := range res {
		out = append(out, decodeMessages(s.Messages)...)
	}
	return out, nil
}

func streamID(id int64) string { return strconv.FormatInt(id, 10) + "-0" }

// entryID is the event id of a stream entry id ("<id>-0").
func entryID(s string) int64 {
	ms, _, _ := strings.Cut(s, "-")
	n, _ := strconv.ParseInt(ms, 10, 64)
	return n
}

func decodeMessages(msgs []redis.XMessage) []Event {
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		raw, _ := m.Values["json"].(string)
		if ev, ok := decodeEntry([]byte(raw)); ok {
			out = append(out, ev)
		}
	}
	return out
}

// decodeEntry reads an event as it was stored; its JSON is what every client is sent.
func decodeEntry(raw []byte) (Event, bool) {
	var ev Event
	if json.Unmarshal(raw, &ev) != nil || ev.ID == 0 || ev.Type == "" {
		return Event{}, false
	}
	ev.JSON = raw
	return ev, true
}
