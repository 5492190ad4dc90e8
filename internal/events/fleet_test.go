package events

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/shared/sharedtest"
)

// replica is one gateway's hub of unit "hq" in a fleet sharing one Redis.
type replica struct {
	hub *Hub
	src *blockingSource
}

func newReplica(t *testing.T, rs *sharedtest.Redis, name string, o HubOptions) *replica {
	t.Helper()
	f, err := NewFleet(FleetOptions{Client: newClient(t, rs), Prefix: "t:", Replica: name, LeaseTTL: 600 * time.Millisecond,
		Block: 50 * time.Millisecond, Retry: 50 * time.Millisecond, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	src := &blockingSource{emit: make(chan Emit, 16)}
	o.Fleet = f
	h := NewHub("hq", src, o)
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return &replica{hub: h, src: src}
}

// nextEmit is the emit of the source's next run (on whichever replica takes the lease).
func nextEmit(t *testing.T, rs ...*replica) (Emit, *replica) {
	t.Helper()
	cases := make(chan struct {
		e Emit
		r *replica
	}, len(rs))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, r := range rs {
		go func() {
			select {
			case e := <-r.src.emit:
				cases <- struct {
					e Emit
					r *replica
				}{e, r}
			case <-ctx.Done():
			}
		}()
	}
	select {
	case c := <-cases:
		return c.e, c.r
	case <-ctx.Done():
		t.Fatal("no replica started the source")
		return nil, nil
	}
}

// collect waits until sub has n events (of any type) and returns them.
func collect(t *testing.T, s *Subscription, n int) []Event {
	t.Helper()
	var got []Event
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		got = append(got, drain(s)...)
		if len(got) >= n {
			break
		}
		select {
		case <-s.Bell():
		case <-deadline:
			t.Fatalf("got %d events, want %d: %v", len(got), n, typesOf(got))
		}
	}
	return got
}

func seqOf(t *testing.T, ev Event) int {
	t.Helper()
	var d struct{ Seq int }
	require.NoError(t, json.Unmarshal(ev.Data, &d), "%s", ev.Data)
	return d.Seq
}

func TestFleetEventsReachEveryReplicaUnderOneID(t *testing.T) {
	rs := sharedtest.Start(t)
	a, b := newReplica(t, rs, "a", HubOptions{}), newReplica(t, rs, "b", HubOptions{})
	sa, sb := a.hub.Subscribe(SubscribeOptions{}), b.hub.Subscribe(SubscribeOptions{})
	defer sa.Close()
	defer sb.Close()
	emit, holder := nextEmit(t, a, b)
	for i := range 5 {
		emit(TypeCallRinging, map[string]int{"seq": i})
	}
	ga, gb := collect(t, sa, 5), collect(t, sb, 5)
	assert.Equal(t, ids(ga), ids(gb), "every replica's subscribers see the same events under the same ids")
	for i := 1; i < len(ga); i++ {
		assert.Equal(t, ga[i-1].ID+1, ga[i].ID)
	}
	assert.Greater(t, ga[0].ID, time.Now().Add(-time.Hour).UnixMicro(), "ids start at Redis's clock in microseconds")
	assert.Equal(t, string(ga[2].JSON), string(gb[2].JSON))
	holderName, err := a.hub.Holder(context.Background())
	require.NoError(t, err)
	assert.Equal(t, holder.hub.opts.Fleet.Replica(), holderName)
	assert.EqualValues(t, 1, a.src.running.Load()+b.src.running.Load(), "one source runs in the fleet")
}

func TestFleetResumeOnAnotherReplica(t *testing.T) {
	rs := sharedtest.Start(t)
	a := newReplica(t, rs, "a", HubOptions{BufferSize: 50})
	sa := a.hub.Subscribe(SubscribeOptions{})
	emit, _ := nextEmit(t, a)
	for i := range 10 {
		emit(TypeCallRinging, map[string]int{"seq": i})
	}
	seen := collect(t, sa, 10)
	// b has had no subscriber: its buffer is empty, and the client's point is read back from
	// the stream; then it follows live.
	b := newReplica(t, rs, "b", HubOptions{BufferSize: 50})
	after := seen[3].ID
	sb := b.hub.Subscribe(SubscribeOptions{After: &after})
	defer sb.Close()
	got := collect(t, sb, 6)
	assert.Equal(t, ids(seen[4:]), ids(got), "exactly the events after the resume point")
	emit(TypeCallEnded, map[string]int{"seq": 10})
	live := collect(t, sb, 1)
	assert.Equal(t, 10, seqOf(t, live[0]))
	sa.Close()

	// A point the stream no longer holds gets a sync, as in memory; one from the future too.
	for _, at := range []int64{seen[0].ID - 1000, live[0].ID + 1000} {
		s := b.hub.Subscribe(SubscribeOptions{After: &at})
		got := collect(t, s, 1)
		assert.Equal(t, TypeSync, got[0].Type, "resume point %d", at)
		s.Close()
	}
	// A filter applies to the backlog too.
	calls := b.hub.Subscribe(SubscribeOptions{After: &after, Filter: Filter{TypeCallEnded}})
	defer calls.Close()
	assert.Equal(t, []string{TypeCallEnded}, typesOf(collect(t, calls, 1)))
}

func TestFleetSourceMovesWhenItsReplicaDies(t *testing.T) {
	rs := sharedtest.Start(t)
	a, b := newReplica(t, rs, "a", HubOptions{}), newReplica(t, rs, "b", HubOptions{})
	sa, sb := a.hub.Subscribe(SubscribeOptions{}), b.hub.Subscribe(SubscribeOptions{})
	defer sa.Close()
	defer sb.Close()
	emit, holder := nextEmit(t, a, b)
	other := b
	if holder == b {
		other = a
	}
	emit(TypeCallRinging, map[string]int{"seq": 1})
	first := collect(t, subOf(other, sa, sb, a), 1)

	// The holder dies without giving the lease up (its Redis connection is gone): the other
	// replica takes the source over once the lease expires.
	holder.hub.opts.Fleet.o.Client.Close()
	start := time.Now()
	emit2, taker := nextEmit(t, other)
	require.Same(t, other, taker)
	t.Logf("took over after %s", time.Since(start).Round(time.Millisecond))
	emit2(TypeCallEnded, map[string]int{"seq": 2})
	got := collect(t, subOf(other, sa, sb, a), 2)
	assert.Equal(t, TypeSync, got[0].Type, "the new run starts with a sync: what happened between the runs is not in the stream")
	assert.Equal(t, TypeCallEnded, got[1].Type)
	assert.Greater(t, got[0].ID, first[0].ID)
	emit(TypeCallRinging, map[string]int{"seq": 99}) // the dead holder's source: fenced out
	assert.Empty(t, drain(subOf(other, sa, sb, a)))
}

func subOf(r *replica, sa, sb *Subscription, a *replica) *Subscription {
	if r == a {
		return sa
	}
	return sb
}

func TestFleetLeaseFollowsSubscribers(t *testing.T) {
	rs := sharedtest.Start(t)
	a, b := newReplica(t, rs, "a", HubOptions{}), newReplica(t, rs, "b", HubOptions{})
	sa := a.hub.Subscribe(SubscribeOptions{})
	nextEmit(t, a)
	sb := b.hub.Subscribe(SubscribeOptions{})
	sa.Close() // a's last subscriber left: it gives the lease up, and b, which has one, takes it
	require.NoError(t, a.hub.Wait(context.Background()))
	nextEmit(t, b)
	assert.Zero(t, a.src.running.Load())
	sb.Close()
	require.NoError(t, b.hub.Wait(context.Background()))
	h, err := b.hub.Holder(context.Background())
	require.NoError(t, err)
	assert.Empty(t, h, "no subscriber anywhere: no replica holds the source")
}

func TestFleetRedisOutagePausesEventsAndRecovers(t *testing.T) {
	rs := sharedtest.Start(t)
	a := newReplica(t, rs, "a", HubOptions{})
	s := a.hub.Subscribe(SubscribeOptions{})
	defer s.Close()
	emit, _ := nextEmit(t, a)
	emit(TypeCallRinging, map[string]int{"seq": 1})
	before := collect(t, s, 1)

	rs.Stop()
	got := collect(t, s, 1)
	require.Equal(t, TypeUnitState, got[0].Type)
	assert.True(t, got[0].Replay, "the pause notice carries no id")
	assert.Contains(t, string(got[0].Data), "Redis")
	require.Eventually(t, func() bool { return a.src.running.Load() == 0 }, 10*time.Second, 10*time.Millisecond, "the source stops: its lease cannot be renewed")

	rs.Restart() // empty: the outage took the data with it
	emit, _ = nextEmit(t, a)
	emit(TypeCallEnded, map[string]int{"seq": 2})
	got = collect(t, s, 2)
	assert.Equal(t, []string{TypeSync, TypeCallEnded}, typesOf(got), "events resume after a sync")
	assert.Greater(t, got[1].ID, before[0].ID, "ids keep growing though Redis lost its sequence")
}

func TestFleetNewSubscriberLearnsTheUnitStateFromAnotherReplica(t *testing.T) {
	rs := sharedtest.Start(t)
	a := newReplica(t, rs, "a", HubOptions{})
	sa := a.hub.Subscribe(SubscribeOptions{})
	defer sa.Close()
	emit, _ := nextEmit(t, a)
	emit(TypeUnitState, map[string]string{"state": "ready"})
	collect(t, sa, 1)
	b := newReplica(t, rs, "b", HubOptions{})
	sb := b.hub.Subscribe(SubscribeOptions{})
	defer sb.Close()
	got := collect(t, sb, 1)
	assert.Equal(t, TypeUnitState, got[0].Type)
	assert.True(t, got[0].Replay)
	assert.Empty(t, drain(sb), "a fresh subscriber skips the sync its own source start stored")
}

// newClient is a client of the test's Redis with short timeouts, so an outage is noticed fast.
func newClient(t *testing.T, rs *sharedtest.Redis) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: rs.Addr(), DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}
