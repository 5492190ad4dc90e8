package webhooks

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/shared/sharedtest"
)

// emitter hands its emit to the test on every run.
type emitter struct{ emit chan events.Emit }

func (s emitter) Kind() string { return "test" }
func (s emitter) Run(ctx context.Context, emit events.Emit) {
	select {
	case s.emit <- emit:
	case <-ctx.Done():
	}
	<-ctx.Done()
}

// fleetSet is one replica's hub of unit "hq" over the shared Redis; the caller closes it.
func fleetSet(t *testing.T, rs *sharedtest.Redis, name string, m *metrics.Metrics, src events.Source) *events.Set {
	set, _ := fleetSetClient(t, rs, name, m, src)
	return set
}

// fleetSetClient is fleetSet with the replica's Redis client, which a test closes to kill it.
func fleetSetClient(t *testing.T, rs *sharedtest.Redis, name string, m *metrics.Metrics, src events.Source) (*events.Set, *redis.Client) {
	t.Helper()
	client := newClient(t, rs)
	f, err := events.NewFleet(events.FleetOptions{Client: client, Prefix: "t:", Replica: name, LeaseTTL: 600 * time.Millisecond,
		Block: 50 * time.Millisecond, Retry: 50 * time.Millisecond, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	if src == nil {
		src = idle{}
	}
	return events.NewSet(events.NewHub("hq", src, events.HubOptions{Metrics: m, Fleet: f})), client
}

// publisher is a replica that holds the unit's source, so the test decides every event.
func publisher(t *testing.T, rs *sharedtest.Redis) events.Emit {
	t.Helper()
	src := emitter{emit: make(chan events.Emit, 1)}
	set := fleetSet(t, rs, "publisher", metrics.New("test"), src)
	sub := set.Hub("hq").Subscribe(events.SubscribeOptions{})
	t.Cleanup(func() {
		sub.Close()
		require.NoError(t, set.Close(context.Background()))
	})
	select {
	case emit := <-src.emit:
		return emit
	case <-time.After(10 * time.Second):
		t.Fatal("the publisher did not get the source")
		return nil
	}
}

// byEvent maps each event id the receiver got to the webhook-ids it came under.
func byEvent(ds []delivery) map[int64]map[string]bool {
	out := map[int64]map[string]bool{}
	for _, d := range ds {
		if out[d.event.ID] == nil {
			out[d.event.ID] = map[string]bool{}
		}
		out[d.event.ID][d.id] = true
	}
	return out
}

func callSeqs(t *testing.T, ds []delivery) map[int]bool {
	out := map[int]bool{}
	for _, d := range ds {
		if d.event.Type == events.TypeCallRinging {
			var data struct{ Seq int }
			require.NoError(t, json.Unmarshal(d.event.Data, &data))
			out[data.Seq] = true
		}
	}
	return out
}

// With several replicas, each event reaches the receiver once, from one of them.
func TestFleetDeliversEachEventOnce(t *testing.T) {
	rs := sharedtest.Start(t)
	emit := publisher(t, rs)
	rc := newReceiver(t, nil)
	var svcs []*Service
	for _, name := range []string{"a", "b"} {
		m := metrics.New("test")
		set := fleetSet(t, rs, name, m, nil)
		svcs = append(svcs, start(t, []Endpoint{endpointFor(t, "crm", rc.srv.URL, "hq")}, set, fastOptions(m, nil)))
	}
	const n = 40
	for i := range n {
		emit(events.TypeCallRinging, map[string]int{"seq": i})
	}
	waitFor(t, "every event delivered", func() bool { return len(callSeqs(t, rc.delivered())) == n })
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
	got := rc.requests()
	assert.Len(t, got, n, "no event twice")
	for id, whIDs := range byEvent(got) {
		assert.Len(t, whIDs, 1)
		assert.True(t, whIDs["evt_hq_"+strconv.FormatInt(id, 10)])
	}
	for _, d := range got {
		require.NoError(t, d.verified)
	}
	a, _ := svcs[0].Get("crm")
	b, _ := svcs[1].Get("crm")
	assert.EqualValues(t, n, a.Delivered+b.Delivered)
	t.Logf("replica a delivered %d, b %d", a.Delivered, b.Delivered)
}

// A replica that dies while retrying leaves its events to another, which delivers them under
// the same webhook-ids.
func TestFleetRetriesSurviveAReplicasDeath(t *testing.T) {
	rs := sharedtest.Start(t)
	emit := publisher(t, rs)
	var up atomic.Bool
	rc := newReceiver(t, func(int, *http.Request) int {
		if up.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	ep := endpointFor(t, "crm", rc.srv.URL, "hq")
	o := fastOptions(nil, nil)
	o.Backoff = Backoff{Initial: 20 * time.Millisecond, Max: 50 * time.Millisecond}
	o.ClaimIdle = 500 * time.Millisecond

	ma := metrics.New("test")
	setA, clientA := fleetSetClient(t, rs, "a", ma, nil)
	oa := o
	oa.Metrics = ma
	a, err := New([]Endpoint{ep}, setA, oa)
	require.NoError(t, err)
	const n = 10
	for i := range n {
		emit(events.TypeCallRinging, map[string]int{"seq": i})
	}
	waitFor(t, "a retrying", func() bool { st, _ := a.Get("crm"); return st.ConsecutiveFailures >= 3 && st.QueueDepth == n })

	// a dies: its Redis connection goes first, so it acknowledges nothing, then it stops.
	require.NoError(t, clientA.Close())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = a.Close(ctx)
	cancel()
	require.NoError(t, setA.Close(context.Background()))

	mb := metrics.New("test")
	setB := fleetSet(t, rs, "b", mb, nil)
	ob := o
	ob.Metrics = mb
	b := start(t, []Endpoint{ep}, setB, ob)
	up.Store(true)
	waitFor(t, "b delivers what a left", func() bool { return len(callSeqs(t, rc.delivered())) == n })
	for id, whIDs := range byEvent(rc.requests()) {
		assert.Len(t, whIDs, 1, "event %d under one webhook-id", id)
	}
	waitDelivered(t, b, "crm", n) // b delivered them all
}

// newClient is a client of the test's Redis with short timeouts.
func newClient(t *testing.T, rs *sharedtest.Redis) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: rs.Addr(), DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// While Redis is down a fleet's webhook waits; when Redis comes back (empty: it lost the
// groups with its data) delivery resumes with the new events.
func TestFleetWebhookWaitsOutARedisOutage(t *testing.T) {
	rs := sharedtest.Start(t)
	src := emitter{emit: make(chan events.Emit, 1)}
	m := metrics.New("test")
	logger, logs := captureLogs()
	set := fleetSet(t, rs, "a", m, src)
	rc := newReceiver(t, nil)
	o := fastOptions(m, logger)
	start(t, []Endpoint{endpointFor(t, "crm", rc.srv.URL, "hq")}, set, o)
	emit := <-src.emit
	emit(events.TypeCallRinging, map[string]int{"seq": 1})
	waitFor(t, "the first event", func() bool { return len(callSeqs(t, rc.delivered())) == 1 })

	rs.Stop()
	waitFor(t, "the webhook says it waits", func() bool { return strings.Contains(logs.String(), "delivery pauses until it answers") })
	rs.Restart()
	select {
	case emit = <-src.emit: // the source runs again once its lease can be taken
	case <-time.After(10 * time.Second):
		t.Fatal("the source did not run again")
	}
	emit(events.TypeCallRinging, map[string]int{"seq": 2})
	waitFor(t, "the event after the outage", func() bool { return callSeqs(t, rc.delivered())[2] })
	var types []string
	for _, d := range rc.delivered() {
		types = append(types, d.event.Type)
	}
	// Each run of the source starts with a sync, the first included (a webhook has no notion of
	// having only just subscribed); the one after the outage tells the receiver that events may
	// have been missed.
	assert.Equal(t, []string{events.TypeSync, events.TypeCallRinging, events.TypeSync, events.TypeCallRinging}, types)
}

// A replica that stops with nothing undelivered leaves the consumer groups; one that stops
// holding events stays in them, so another replica claims what it held.
func TestFleetStoppedReplicaLeavesTheGroup(t *testing.T) {
	rs := sharedtest.Start(t)
	emit := publisher(t, rs)
	rc := newReceiver(t, nil)
	m := metrics.New("test")
	set := fleetSet(t, rs, "a", m, nil)
	s, err := New([]Endpoint{endpointFor(t, "crm", rc.srv.URL, "hq")}, set, fastOptions(m, nil))
	require.NoError(t, err)
	emit(events.TypeCallRinging, map[string]int{"seq": 1})
	waitDelivered(t, s, "crm", 1)
	c := newClient(t, rs)
	consumers := func() []string {
		list, err := c.XInfoConsumers(context.Background(), "t:events:{hq}", "webhook:crm").Result()
		require.NoError(t, err)
		var names []string
		for _, x := range list {
			names = append(names, x.Name)
		}
		return names
	}
	assert.Equal(t, []string{"a"}, consumers())
	require.NoError(t, s.Close(context.Background()))
	require.NoError(t, set.Close(context.Background()))
	assert.Empty(t, consumers())
}
