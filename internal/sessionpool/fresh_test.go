package sessionpool

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// 200 clients polling the same list once a second cost the unit one call a second, and a
// write in between is seen by the next read.
func TestListFreshnessWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, _ := inProcessClient(sim)
		p, _ := newPool(t, Options{ListFreshness: time.Second}, client, simPassword)
		defer p.Close(context.Background())
		ctx := context.Background()
		list := map[string]any{"page": "1", "item_num": "50"}

		for range 5 { // five seconds of 200 pollers a second, spread over each second
			var wg sync.WaitGroup
			for i := range 200 {
				wg.Go(func() {
					time.Sleep(time.Duration(i) * 4 * time.Millisecond)
					_, err := p.Do(ctx, unitID, "listAccount", list)
					assert.NoError(t, err)
				})
			}
			wg.Wait()
			time.Sleep(time.Second - 800*time.Millisecond)
		}
		calls := sim.Calls("listAccount")
		assert.LessOrEqual(t, calls, 5, "1,000 polls over 5 s reached the unit %d times; want at most one a second", calls)

		// A write makes the next read fresh, even within the window.
		before := sim.Calls("listAccount")
		_, err := p.Do(ctx, unitID, "listAccount", list)
		require.NoError(t, err)
		_, err = p.Do(ctx, unitID, "updateSIPAccount", map[string]any{"extension": "1000", "dnd": "yes"})
		require.NoError(t, err)
		_, err = p.Do(ctx, unitID, "listAccount", list)
		require.NoError(t, err)
		assert.Equal(t, before+1, sim.Calls("listAccount"), "the read after a write must reach the unit, the one before it within the window not")

		// FreshRead skips the window; other parameters are another entry; get* reads are never kept.
		_, err = p.Do(FreshRead(ctx), unitID, "listAccount", list)
		require.NoError(t, err)
		assert.Equal(t, before+2, sim.Calls("listAccount"), "a FreshRead must reach the unit")
		_, err = p.Do(ctx, unitID, "listAccount", map[string]any{"page": "2", "item_num": "50"})
		require.NoError(t, err)
		assert.Equal(t, before+3, sim.Calls("listAccount"), "another page is another read")
		for range 3 {
			_, err = p.Do(ctx, unitID, "getSIPAccount", sipAccount("1000"))
			require.NoError(t, err)
		}
		assert.Equal(t, 3, sim.Calls("getSIPAccount"), "get* reads are not kept in the window")
	})
}

func TestListFreshnessOffByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, _ := inProcessClient(sim)
		p, _ := newPool(t, Options{}, client, simPassword)
		defer p.Close(context.Background())
		for range 3 {
			_, err := p.Do(context.Background(), unitID, "listAccount", nil)
			require.NoError(t, err)
		}
		assert.Equal(t, 3, sim.Calls("listAccount"))
	})
}

// The window holds a bounded number of replies and none for a unit nobody reads.
func TestListFreshnessBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, _ := inProcessClient(sim)
		p, _ := newPool(t, Options{ListFreshness: time.Second}, client, simPassword)
		defer p.Close(context.Background())
		for i := range maxFreshEntries + 50 {
			_, err := p.Do(context.Background(), unitID, "listAccount", map[string]any{"page": strconv.Itoa(i + 1), "item_num": "1"})
			require.NoError(t, err)
		}
		u := p.set.Load().units[unitID]
		u.fresh.mu.Lock()
		n := len(u.fresh.entries)
		u.fresh.mu.Unlock()
		assert.LessOrEqual(t, n, maxFreshEntries)
		time.Sleep(5 * time.Minute) // keep-alive rounds pass
		u.fresh.mu.Lock()
		defer u.fresh.mu.Unlock()
		assert.Nil(t, u.fresh.entries, "an idle unit's expired replies are dropped")
	})
}
