package sessionpool

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// The keep-alive budget (make bench reports the figure this test logs): over ten minutes of the
// UCM's cookie lifetime, a unit a client uses now and then costs at most two keep-alive calls, a
// unit in constant use none, and a unit nobody uses none at all, though it was contacted at start.
func TestKeepAliveBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sims := map[string]*ucmsim.UCM{}
		clients := map[string]Caller{}
		for _, id := range []string{"light", "busy", "idle"} {
			sims[id] = simOn(ucmsim.Config{CookieIdleTimeout: 10 * time.Minute})
			clients[id], _ = inProcessClient(sims[id])
		}
		p, _ := newMultiPool(t, Options{IdleTimeout: 10 * time.Minute}, clients)
		defer p.Close(context.Background())
		ctx := context.Background()
		p.Contact()
		synctest.Wait()

		const window = 10 * time.Minute
		for elapsed := time.Duration(0); elapsed < 3*window; elapsed += 30 * time.Second {
			_, err := p.Do(ctx, "busy", "getSIPAccount", sipAccount("1000"))
			require.NoError(t, err)
			if elapsed%(7*time.Minute) == 0 { // a light user: once every seven minutes
				_, err := p.Do(ctx, "light", "getSIPAccount", sipAccount("1000"))
				require.NoError(t, err)
			}
			time.Sleep(30 * time.Second)
		}
		per10 := func(id string) float64 { return float64(sims[id].Calls("getSystemStatus")) / 3 }
		t.Logf("keep-alive calls per 10 minutes: light-use unit %.2f, busy unit %.2f, idle unit %.2f", per10("light"), per10("busy"), per10("idle"))
		assert.LessOrEqual(t, per10("light"), 2.0, "a unit in light use: at most two keep-alive calls per cookie lifetime")
		assert.Zero(t, per10("busy"), "traffic keeps a busy unit's cookie alive")
		assert.Zero(t, per10("idle"), "a unit nobody uses is left alone")
		assert.Equal(t, 1, sims["light"].Counters().Logins, "keep-alive kept the light unit's one session alive")
		assert.Equal(t, 1, sims["idle"].Counters().Logins, "the idle unit was contacted at start, once")
	})
}
