package sessionpool

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// A unit that says "too frequent" is left alone for as long as it asked: no call, no login, no
// keep-alive reaches it until the pause is over, and every request meanwhile is refused at once
// with the time left.
func TestTooFrequentPausesTheUnit(t *testing.T) {
	tests := []struct {
		status ucm.Status
		pause  time.Duration
	}{
		{ucm.StatusTooFrequent, 15 * time.Second},
		{ucm.StatusTooFrequent2, 15 * time.Second},
		{ucm.StatusTooFrequentLong, 60 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.status.Error(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sim := simOn(ucmsim.Config{})
				client, rt := inProcessClient(sim)
				p, m := newPool(t, Options{IdleTimeout: time.Minute}, client, simPassword)
				defer p.Close(context.Background())
				read := func() error {
					_, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
					return err
				}
				require.NoError(t, read())
				sim.RateLimit(int(tc.status), tc.pause)

				require.ErrorIs(t, read(), tc.status, "the request that met the limit gets the unit's answer")
				trips := rt.trips.Load()
				// Reads, writes and the keep-alive are all held back for the whole pause.
				start := time.Now()
				for time.Since(start) < tc.pause {
					left := tc.pause - time.Since(start)
					unav := requireRefused(t, read(), RefusedPaused)
					assert.Equal(t, left, unav.RetryAfter, "Retry-After counts down to the end of the pause")
					assert.ErrorIs(t, unav, tc.status, "the refusal carries the unit's status")
					requireRefused(t, write(p, unitID), RefusedPaused)
					time.Sleep(tc.pause / 5)
				}
				assert.Equal(t, trips, rt.trips.Load(), "nothing reached the unit during its pause")
				st, _ := p.Unit(unitID)
				assert.True(t, st.PausedUntil.IsZero(), "the status no longer shows a pause")
				require.NoError(t, read(), "after the pause the unit is used again")
				wantLogins := 1
				if tc.pause >= time.Minute {
					wantLogins = 2 // the keep-alive was held back too, so the cookie lapsed during the pause
				}
				assert.Equal(t, wantLogins, sim.Counters().Logins)
				assert.Positive(t, testutil.ToFloat64(m.Refusals.WithLabelValues(unitID, "paused")))
			})
		})
	}
}

func TestTooFrequentLoginPausesTheUnitToo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, rt := inProcessClient(sim)
		p, _ := newPool(t, Options{}, client, simPassword)
		defer p.Close(context.Background())
		sim.RateLimit(-57, time.Minute)

		_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
		unav := requireRefused(t, err, RefusedPaused)
		assert.Equal(t, time.Minute, unav.RetryAfter)
		assert.ErrorIs(t, err, ucm.StatusTooFrequentLong)
		st, _ := p.Unit(unitID)
		assert.Equal(t, time.Now().Add(time.Minute), st.PausedUntil)
		assert.Equal(t, StateBackingOff, st.State, "a -57 stops nothing for good: it is a pause")

		trips := rt.trips.Load()
		time.Sleep(59 * time.Second)
		_, err = p.Do(context.Background(), unitID, "getSystemStatus", nil)
		requireRefused(t, err, RefusedPaused)
		assert.Equal(t, trips, rt.trips.Load(), "no login during the pause")
		time.Sleep(time.Second)
		_, err = p.Do(context.Background(), unitID, "getSystemStatus", nil)
		require.NoError(t, err)
	})
}
