package events

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// blockingSource runs until its context ends and counts its runs.
type blockingSource struct {
	runs    atomic.Int32
	running atomic.Int32
	emit    chan Emit
}

func (s *blockingSource) Kind() string { return "test" }
func (s *blockingSource) Run(ctx context.Context, emit Emit) {
	s.runs.Add(1)
	s.running.Add(1)
	defer s.running.Add(-1)
	if s.emit != nil {
		s.emit <- emit
	}
	<-ctx.Done()
}

func drain(s *Subscription) []Event {
	var out []Event
	for {
		ev, ok := s.Next()
		if !ok {
			return out
		}
		out = append(out, ev)
	}
}

func typesOf(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func TestHubFansOutInOrderWithFilters(t *testing.T) {
	src := &blockingSource{}
	h := NewHub("hq", src, HubOptions{})
	defer h.Close(context.Background())
	all := h.Subscribe(SubscribeOptions{})
	calls := h.Subscribe(SubscribeOptions{Filter: Filter{"call.*"}})
	h.Publish(TypeCallRinging, map[string]int{"n": 1})
	h.Publish(TypeExtensionStatus, map[string]int{"n": 2})
	h.Publish(TypeCallEnded, map[string]int{"n": 3})

	got := drain(all)
	require.Equal(t, []string{TypeCallRinging, TypeExtensionStatus, TypeCallEnded}, typesOf(got))
	for i := 1; i < len(got); i++ {
		assert.Equal(t, got[i-1].ID+1, got[i].ID, "ids grow by one")
	}
	assert.Equal(t, "hq", got[0].Unit)
	assert.JSONEq(t, `{"n":1}`, string(got[0].Data))
	assert.Contains(t, string(got[0].JSON), `"type":"call.ringing"`)
	assert.Equal(t, []string{TypeCallRinging, TypeCallEnded}, typesOf(drain(calls)))
	select {
	case <-all.Bell():
	default:
		t.Fatal("a publish rings the subscriber's bell")
	}
}

func TestHubSlowSubscriberGetsSyncNotWaitedFor(t *testing.T) {
	h := NewHub("hq", &blockingSource{}, HubOptions{BufferSize: 4})
	defer h.Close(context.Background())
	slow := h.Subscribe(SubscribeOptions{})
	for i := range 10 {
		h.Publish(TypeCallRinging, i) // never blocks, though nobody reads
	}
	got := drain(slow)
	require.Equal(t, TypeSync, got[0].Type, "the slow subscriber learns it missed events")
	assert.Empty(t, got[1:], "and continues from the newest event")
	h.Publish(TypeCallEnded, 10)
	assert.Equal(t, []string{TypeCallEnded}, typesOf(drain(slow)))
}

func TestHubResume(t *testing.T) {
	h := NewHub("hq", &blockingSource{}, HubOptions{BufferSize: 5})
	defer h.Close(context.Background())
	live := h.Subscribe(SubscribeOptions{})
	for i := range 4 {
		h.Publish(TypeCallRinging, i)
	}
	seen := drain(live)
	after := seen[1].ID
	r := h.Subscribe(SubscribeOptions{After: &after})
	assert.Equal(t, []int64{seen[2].ID, seen[3].ID}, ids(drain(r)), "exactly the events after the resume point")

	newest := seen[3].ID
	caughtUp := h.Subscribe(SubscribeOptions{After: &newest})
	assert.Empty(t, drain(caughtUp))

	for i := range 5 {
		h.Publish(TypeCallRinging, i) // the buffer now starts after seen[3]
	}
	old := seen[0].ID
	for _, at := range []int64{old, 12, newest + 1000} {
		s := h.Subscribe(SubscribeOptions{After: &at})
		got := drain(s)
		require.NotEmpty(t, got)
		assert.Equal(t, TypeSync, got[0].Type, "resume point %d cannot be served whole", at)
	}
	ok := newest // the oldest kept event is newest+1: resuming from newest misses nothing
	got := drain(h.Subscribe(SubscribeOptions{After: &ok}))
	assert.Len(t, got, 5)
	assert.NotEqual(t, TypeSync, got[0].Type)
}

func ids(evs []Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func TestHubMaxAge(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := NewHub("hq", &blockingSource{}, HubOptions{MaxAge: time.Hour, Now: clock})
	defer h.Close(context.Background())
	s := h.Subscribe(SubscribeOptions{})
	h.Publish(TypeCallRinging, 1)
	first := drain(s)[0].ID
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	h.Publish(TypeCallEnded, 2)
	before := first - 1
	got := drain(h.Subscribe(SubscribeOptions{After: &before}))
	assert.Equal(t, TypeSync, got[0].Type, "an event older than max age is gone")
}

func TestHubRunsTheSourceOnlyWhileSubscribed(t *testing.T) {
	src := &blockingSource{}
	h := NewHub("hq", src, HubOptions{})
	defer h.Close(context.Background())
	assert.Zero(t, src.runs.Load(), "nothing runs before the first subscriber")
	a := h.Subscribe(SubscribeOptions{})
	b := h.Subscribe(SubscribeOptions{})
	require.Eventually(t, func() bool { return src.running.Load() == 1 }, time.Second, time.Millisecond)
	h.Publish(TypeCallRinging, 1)
	last := drain(a)[0].ID
	a.Close()
	assert.EqualValues(t, 1, src.running.Load(), "one subscriber left: the source runs on")
	b.Close()
	require.NoError(t, h.Wait(context.Background()))
	assert.Zero(t, src.running.Load(), "the last subscriber left: the source stopped")

	// Nothing was watched while no one was subscribed: an old cursor cannot resume whole.
	c := h.Subscribe(SubscribeOptions{After: &last})
	defer c.Close()
	got := drain(c)
	require.NotEmpty(t, got)
	assert.Equal(t, TypeSync, got[0].Type)
	require.Eventually(t, func() bool { return src.running.Load() == 1 }, time.Second, time.Millisecond)
	assert.EqualValues(t, 2, src.runs.Load())
}

func TestHubLinger(t *testing.T) {
	src := &blockingSource{}
	h := NewHub("hq", src, HubOptions{Linger: time.Hour})
	defer h.Close(context.Background())
	s := h.Subscribe(SubscribeOptions{})
	require.Eventually(t, func() bool { return src.running.Load() == 1 }, time.Second, time.Millisecond)
	s.Close()
	s2 := h.Subscribe(SubscribeOptions{})
	s2.Close()
	assert.EqualValues(t, 1, src.runs.Load(), "a client back within the linger reuses the running source")
}

func TestHubCloseEndsEverything(t *testing.T) {
	src := &blockingSource{}
	h := NewHub("hq", src, HubOptions{Linger: time.Hour})
	s := h.Subscribe(SubscribeOptions{})
	require.Eventually(t, func() bool { return src.running.Load() == 1 }, time.Second, time.Millisecond)
	require.NoError(t, h.Close(context.Background()))
	select {
	case <-s.Done():
	default:
		t.Fatal("subscriptions end on Close")
	}
	assert.Zero(t, src.running.Load())
	h.Publish(TypeCallRinging, 1) // after Close: dropped, no panic
	s.Close()
}

func TestParseFilter(t *testing.T) {
	f, bad := ParseFilter([]string{"call.*,extension.status", " queue.waiting "})
	require.Empty(t, bad)
	for typ, want := range map[string]bool{TypeCallRinging: true, TypeCallEnded: true, TypeExtensionStatus: true,
		TypeQueueWaiting: true, TypeCdrCreated: false, TypeUnitState: false, TypeSync: true} {
		assert.Equal(t, want, f.Match(typ), "Match(%q)", typ)
	}
	for _, in := range []string{"call.rang", "calls.*", "x"} {
		_, bad := ParseFilter([]string{in})
		assert.Equal(t, in, bad, "ParseFilter(%q)", in)
	}
	all, _ := ParseFilter(nil)
	assert.True(t, all.Match(TypeCdrCreated))
}

func TestHubNewSubscriberLearnsTheUnitState(t *testing.T) {
	h := NewHub("hq", &blockingSource{}, HubOptions{})
	defer h.Close(context.Background())
	first := h.Subscribe(SubscribeOptions{})
	h.Publish(TypeUnitState, map[string]string{"state": "ready"})
	h.Publish(TypeCallRinging, 1)
	drain(first)

	late := h.Subscribe(SubscribeOptions{})
	got := drain(late)
	require.Len(t, got, 1, "only the state, not the history")
	assert.Equal(t, TypeUnitState, got[0].Type)
	assert.True(t, got[0].Replay)
	h.Publish(TypeCallEnded, 2)
	assert.Equal(t, []string{TypeCallEnded}, typesOf(drain(late)))

	calls := h.Subscribe(SubscribeOptions{Filter: Filter{"call.*"}})
	assert.Empty(t, drain(calls), "a filter without unit.state gets no replay")
	last := got[0].ID
	resumed := h.Subscribe(SubscribeOptions{After: &last})
	assert.Equal(t, []string{TypeCallRinging, TypeCallEnded}, typesOf(drain(resumed)), "a resume replays nothing extra")
}
