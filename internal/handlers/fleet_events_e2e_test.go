package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/shared/sharedtest"
	"github.com/ucm-gateway/ucm-gateway/internal/webhooks"
)

// fleetReplica is one gateway of a fleet: its own session pool, hubs, SSE handler, HTTP server
// and webhooks, in front of the same simulated unit as the others, sharing one real Redis.
type fleetReplica struct {
	*env
	name   string
	client *redis.Client
	hooks  *webhooks.Service
}

// newFleet starts n replicas; with hookURL each delivers the unit's events to it.
func newFleet(t *testing.T, rs *sharedtest.Redis, n int, src func(sourceEnv) events.Source, hookURL string) []*fleetReplica {
	t.Helper()
	var out []*fleetReplica
	for i := range n {
		name := fmt.Sprintf("r%d", i)
		client := redis.NewClient(&redis.Options{Addr: rs.Addr(), DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
			WriteTimeout: 300 * time.Millisecond, MaxRetries: -1})
		t.Cleanup(func() { client.Close() })
		fleet, err := events.NewFleet(events.FleetOptions{Client: client, Prefix: "t:", Replica: name, LeaseTTL: time.Second,
			Block: 100 * time.Millisecond, Retry: 100 * time.Millisecond, Timeout: 300 * time.Millisecond})
		require.NoError(t, err)
		a := access{fleet: fleet}
		if len(out) > 0 {
			a.sameUnit = out[0].env
		}
		r := &fleetReplica{env: newEventsEnv(t, src, a), name: name, client: client}
		if hookURL != "" {
			key := make([]byte, 32)
			r.hooks, err = webhooks.New([]webhooks.Endpoint{{Name: "crm", URL: hookURL, Secret: key, Units: []string{"demo"},
				Timeout: 2 * time.Second, RetryFor: time.Minute, QueueSize: 1000, SuspendAfterFailures: 1000, SuspendAfter: time.Hour}},
				r.live, webhooks.Options{Logger: nil, Metrics: r.metrics, ClaimIdle: time.Second,
					Backoff: webhooks.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
			require.NoError(t, err)
			t.Cleanup(func() { _ = r.hooks.Close(context.Background()) })
		}
		out = append(out, r)
	}
	return out
}

// kill stops a replica as a crash would, as far as the others can tell: its Redis connection
// goes first, so it gives no lease up and acknowledges nothing; then it stops.
func (r *fleetReplica) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, r.client.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r.hooks != nil {
		_ = r.hooks.Close(ctx)
	}
	require.NoError(t, r.live.Close(ctx))
	r.srv.Close()
}

// holder is the replica running the unit's source.
func holder(t *testing.T, fleet []*fleetReplica, alive *fleetReplica) *fleetReplica {
	t.Helper()
	var found *fleetReplica
	require.Eventually(t, func() bool {
		name, err := alive.live.Hub("demo").Holder(context.Background())
		if err != nil {
			return false
		}
		for _, r := range fleet {
			if r.name == name {
				found = r
			}
		}
		return found != nil
	}, 10*time.Second, 10*time.Millisecond)
	return found
}

// A client that moves from one replica to another resumes with Last-Event-ID and misses
// nothing; the second replica had no subscriber before, so what it serves comes from the stream.
func TestFleetSSEResumesOnAnotherReplica(t *testing.T) {
	rs := sharedtest.Start(t)
	fleet := newFleet(t, rs, 2, eventSources[0].make, "")
	a, b := fleet[0], fleet[1]
	keep := a.readyStream(t, "/v1/units/demo/events") // a follows all along
	s := a.stream(t, "/v1/units/demo/events")
	id := a.dialExt(t, "1000", "1001")
	ringing := s.until(t, events.TypeCallRinging, 10*time.Second)
	last := ringing[len(ringing)-1].ID
	s.close()

	all := keep.until(t, events.TypeCallAnswered, 10*time.Second)
	code, _, _ := b.do(t, http.MethodDelete, "/v1/units/demo/calls/"+id, "", "") // any replica's REST works
	require.Equal(t, http.StatusOK, code)
	all = append(all, keep.until(t, events.TypeCdrCreated, 10*time.Second)...)
	var missed []string
	for _, m := range all {
		if m.ID != "" && mustInt(t, m.ID) > mustInt(t, last) {
			missed = append(missed, m.ID+" "+m.Event)
		}
	}
	require.NotEmpty(t, missed)

	back := b.stream(t, "/v1/units/demo/events", "Last-Event-ID", last)
	var got []string
	for range missed {
		m := back.next(t, 5*time.Second)
		got = append(got, m.ID+" "+m.Event)
	}
	assert.Equal(t, missed, got, "exactly the events it missed, in order, from the other replica")

	// Both replicas then serve the same live events under the same ids.
	a.dialExt(t, "1003", "1005")
	onA := only(keep.until(t, events.TypeCallRinging, 10*time.Second), events.TypeCallRinging)
	onB := only(back.until(t, events.TypeCallRinging, 10*time.Second), events.TypeCallRinging)
	assert.Equal(t, onA[len(onA)-1].ID, onB[len(onB)-1].ID)
	assert.Equal(t, onA[len(onA)-1].Data, onB[len(onB)-1].Data)
}

// hookReceiver records the webhook deliveries of a fleet.
type hookReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []hookDelivery
}

type hookDelivery struct {
	id string
	ev struct {
		ID   int64           `json:"id"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := hookDelivery{id: r.Header.Get("Webhook-Id")}
		_ = json.Unmarshal(body, &d.ev)
		h.mu.Lock()
		h.got = append(h.got, d)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) deliveries() []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookDelivery(nil), h.got...)
}

func (h *hookReceiver) has(webhookID string) bool {
	for _, d := range h.deliveries() {
		if d.id == webhookID {
			return true
		}
	}
	return false
}

// When the replica running the unit's event socket dies, another takes the source over and
// reconnects within a few seconds; its SSE clients are told with a sync, and the webhook gets no
// event twice under different ids.
func TestFleetSourceMovesWhenItsReplicaDies(t *testing.T) {
	rs := sharedtest.Start(t)
	rc := newHookReceiver(t)
	fleet := newFleet(t, rs, 3, eventSources[1].make, rc.srv.URL) // the unit's WebSocket
	streams := map[*fleetReplica]*sseClient{}
	for _, r := range fleet {
		streams[r] = r.readyStream(t, "/v1/units/demo/events")
	}
	dead := holder(t, fleet, fleet[0])
	var alive []*fleetReplica
	for _, r := range fleet {
		if r != dead {
			alive = append(alive, r)
		}
	}
	survivor := alive[0]
	first := survivor.dialExt(t, "1000", "1001")
	before := streams[survivor].until(t, events.TypeCallAnswered, 10*time.Second)

	start := time.Now()
	dead.kill(t)
	after := streams[survivor].until(t, events.TypeSync, 15*time.Second)
	took := time.Since(start)
	after = append(after, streams[survivor].until(t, events.TypeUnitState, 15*time.Second)...)
	reconnected := time.Since(start)
	assert.Contains(t, after[len(after)-1].Data, `"state":"ready"`)
	t.Logf("lease TTL 1s: source taken over after %s, unit socket connected after %s", took.Round(time.Millisecond), reconnected.Round(time.Millisecond))
	assert.Less(t, reconnected, 5*time.Second, "another replica watches the unit within a few seconds")
	newHolder := holder(t, fleet, survivor)
	assert.NotSame(t, dead, newHolder)

	// Life goes on: the first call ends, a second rings, and every live replica streams them.
	code, _, _ := survivor.do(t, http.MethodDelete, "/v1/units/demo/calls/"+first, "", "")
	require.Equal(t, http.StatusOK, code)
	survivor.dialExt(t, "1003", "1005")
	var lastRinging sseMsg
	for _, r := range alive {
		got := only(streams[r].until(t, events.TypeCallRinging, 10*time.Second), events.TypeCallRinging)
		lastRinging = got[len(got)-1]
	}
	require.Eventually(t, func() bool { return rc.has("evt_demo_" + lastRinging.ID) }, 10*time.Second, 10*time.Millisecond,
		"the webhook gets the events after the takeover")
	require.Eventually(t, func() bool { return rc.has("evt_demo_" + before[len(before)-1].ID) }, 10*time.Second, 10*time.Millisecond,
		"and those from before")

	// No event under two ids: each webhook-id is its event's, and each call event (type and
	// call) came once whatever its id.
	seen := map[string]string{}
	for _, d := range rc.deliveries() {
		if !strings.HasPrefix(d.ev.Type, "call.") {
			continue
		}
		assert.Equal(t, fmt.Sprintf("evt_demo_%d", d.ev.ID), d.id)
		var c struct {
			Call struct{ ID string } `json:"call"`
		}
		require.NoError(t, json.Unmarshal(d.ev.Data, &c))
		k := d.ev.Type + " " + c.Call.ID
		if prev, ok := seen[k]; ok {
			assert.Equal(t, prev, d.id, "%s delivered under two ids", k)
		}
		seen[k] = d.id
	}
}

// While Redis is down events pause (every replica's clients are told, without an id); when it
// returns a replica takes the source again, clients get a sync, and events flow.
func TestFleetRedisOutagePausesEvents(t *testing.T) {
	rs := sharedtest.Start(t)
	fleet := newFleet(t, rs, 2, eventSources[0].make, "")
	var streams []*sseClient
	for _, r := range fleet {
		streams = append(streams, r.readyStream(t, "/v1/units/demo/events"))
	}
	rs.Stop()
	for _, s := range streams {
		got := s.until(t, events.TypeUnitState, 10*time.Second)
		m := got[len(got)-1]
		assert.Empty(t, m.ID, "the notice moves no resume point")
		assert.Contains(t, m.Data, "Redis")
		assert.Contains(t, m.Data, `"state":"failing"`)
	}
	// The REST API does not need Redis for this.
	fleet[1].dialExt(t, "1000", "1001")

	rs.Restart()
	for _, s := range streams {
		got := s.until(t, events.TypeSync, 15*time.Second)
		assert.NotEmpty(t, got[len(got)-1].ID)
	}
	fleet[0].dialExt(t, "1003", "1005")
	for _, s := range streams {
		s.until(t, events.TypeCallRinging, 10*time.Second)
	}
}
