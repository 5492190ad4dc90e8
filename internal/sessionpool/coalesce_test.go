package sessionpool

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

func TestIdenticalConcurrentReadsShareOneCall(t *testing.T) {
	sim := simOn(ucmsim.Config{})
	p, m := newPool(t, Options{}, httpsClient(t, sim), simPassword)
	closeAtEnd(t, p)
	_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil) // warm: only the read is slow
	require.NoError(t, err)
	sim.SetLatency(50 * time.Millisecond)

	const n = 50
	replies := make([]json.RawMessage, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			replies[i], errs[i] = p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1001"))
		}()
	}
	close(start)
	wg.Wait()

	for i := range n {
		require.NoError(t, errs[i], "reader %d failed", i)
		require.JSONEq(t, string(replies[0]), string(replies[i]), "reader %d saw a different extension 1001 than reader 0", i)
	}
	assert.Contains(t, string(replies[0]), `"1001"`, "the shared reply is extension 1001")
	calls := sim.Calls("getSIPAccount")
	assert.LessOrEqual(t, calls, 2, "50 identical concurrent reads reached the unit %d times; want them coalesced", calls)
	assert.Equal(t, float64(n-calls), testutil.ToFloat64(m.Coalesced.WithLabelValues(unitID)),
		"ucm_gateway_coalesced_reads_total must count the reads answered by another caller's call (%d unit calls for %d reads)", calls, n)
}

func TestDifferentReadsAreNotCoalesced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, _ := inProcessClient(sim)
		p, _ := newPool(t, Options{}, client, simPassword)
		defer p.Close(context.Background())
		sim.SetLatency(50 * time.Millisecond)

		var wg sync.WaitGroup
		got := map[string]json.RawMessage{}
		var mu sync.Mutex
		for _, ext := range []string{"1000", "1001", "1002"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				raw, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount(ext))
				assert.NoError(t, err)
				mu.Lock()
				got[ext] = raw
				mu.Unlock()
			}()
		}
		wg.Wait()
		assert.Equal(t, 3, sim.Calls("getSIPAccount"), "reads of different extensions must each reach the unit")
		for ext, raw := range got {
			assert.Contains(t, string(raw), `"extension":"`+ext+`"`, "the reply for %s is another extension's", ext)
		}
	})
}

// alertInfo is the alertinfo field of a getSIPAccount reply.
func alertInfo(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var r struct {
		Extension struct {
			AlertInfo string `json:"alertinfo"`
		} `json:"extension"`
	}
	require.NoError(t, json.Unmarshal(raw, &r))
	return r.Extension.AlertInfo
}

func TestReadAfterWriteSeesTheWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, rt := inProcessClient(sim)
		p, _ := newPool(t, Options{}, client, simPassword)
		defer p.Close(context.Background())
		ctx := context.Background()

		before, err := p.Do(ctx, unitID, "getSIPAccount", sipAccount("1000"))
		require.NoError(t, err)
		old := alertInfo(t, before)
		require.NotEqual(t, "ring7", old)

		// A slow read: the unit reads the extension at once, but the reply takes 200ms to arrive.
		rt.delayReplies("getSIPAccount", 200*time.Millisecond)
		slow := make(chan json.RawMessage, 1)
		go func() {
			raw, err := p.Do(ctx, unitID, "getSIPAccount", sipAccount("1000"))
			assert.NoError(t, err)
			slow <- raw
		}()
		time.Sleep(10 * time.Millisecond)

		// A write completes while that read is still in flight.
		_, err = p.Do(ctx, unitID, "updateSIPAccount", map[string]any{"extension": "1000", harmlessEdit: "ring7"})
		require.NoError(t, err)

		// A read started now must not be handed the in-flight reply from before the write.
		after, err := p.Do(ctx, unitID, "getSIPAccount", sipAccount("1000"))
		require.NoError(t, err)
		assert.Equal(t, "ring7", alertInfo(t, after), "a read after a successful write returned the value from before the write")
		assert.Equal(t, old, alertInfo(t, <-slow), "the read started before the write saw the unit's state at that time")
		assert.Equal(t, 3, sim.Calls("getSIPAccount"), "the read after the write needs a call of its own")
	})
}

// A client that hangs up cancels its UCM work: a shared read goes on while anyone waits for it,
// and stops when the last caller has gone.
func TestSharedReadStopsWhenEveryCallerHasLeft(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, _ := inProcessClient(sim)
		p, m := newPool(t, Options{}, client, simPassword)
		defer p.Close(context.Background())
		_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
		require.NoError(t, err)
		sim.StallRequests()

		var wg sync.WaitGroup
		for i := range 3 {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(time.Duration(i+1)*time.Second, cancel)
			wg.Go(func() {
				_, err := p.Do(ctx, unitID, "getSIPAccount", sipAccount("1000"))
				assert.ErrorIs(t, err, context.Canceled)
			})
		}
		time.Sleep(2500 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, 1, sim.InFlight(), "two callers left; the read goes on for the third")
		wg.Wait()
		synctest.Wait()
		assert.Zero(t, sim.InFlight(), "nobody waits any more: the read was cancelled")
		assert.Equal(t, 1, sim.Counters().Abandoned)
		assert.Equal(t, 1, sim.Calls("getSIPAccount"), "three callers, one call")
		assert.Zero(t, testutil.ToFloat64(m.InFlight.WithLabelValues(unitID)), "the slot is free again")

		sim.Resume()
		_, err = p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
		require.NoError(t, err, "a later read starts afresh")
		assert.Equal(t, "closed", breakerOf(t, p), "callers hanging up are not the unit failing")
	})
}
