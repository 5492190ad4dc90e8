package sessionpool

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// Reads retry once after a transport failure; writes never do, and a write whose answer was
// lost is reported as such.
func TestRetriesAreForReadsOnly(t *testing.T) {
	tests := []struct {
		name        string
		action      string
		params      map[string]any
		inject      func(sim *ucmsim.UCM, rt *simTransport)
		wantErr     error // nil: success
		wantUnknown bool  // the error is an *OutcomeUnknownError
		wantTrips   int64
	}{
		{name: "read after a reset is tried once more", action: "getSIPAccount", params: sipAccount("1000"),
			inject: func(_ *ucmsim.UCM, rt *simTransport) { rt.resetAfter.Store(1) }, wantTrips: 2},
		{name: "read failing twice is given up", action: "getSIPAccount", params: sipAccount("1000"),
			inject: func(_ *ucmsim.UCM, rt *simTransport) { rt.resetAfter.Store(5) }, wantErr: ucm.ErrTransport, wantTrips: 2},
		{name: "read that timed out is not repeated", action: "getSIPAccount", params: sipAccount("1000"),
			inject: func(sim *ucmsim.UCM, _ *simTransport) { sim.StallRequests() }, wantErr: ucm.ErrTimeout, wantTrips: 1},
		{name: "read of an unreachable unit is tried once more", action: "getSIPAccount", params: sipAccount("1000"),
			inject: func(_ *ucmsim.UCM, rt *simTransport) { rt.down.Store(true) }, wantErr: ucm.ErrTransport, wantTrips: 2},
		{name: "write reset after sending: outcome unknown", action: "updateSIPAccount", params: map[string]any{"extension": "1000", harmlessEdit: "ring6"},
			inject: func(_ *ucmsim.UCM, rt *simTransport) { rt.resetAfter.Store(1) }, wantErr: ucm.ErrTransport, wantUnknown: true, wantTrips: 1},
		{name: "write stalled after sending: outcome unknown", action: "updateSIPAccount", params: map[string]any{"extension": "1000", harmlessEdit: "ring6"},
			inject: func(sim *ucmsim.UCM, _ *simTransport) { sim.StallReplies() }, wantErr: ucm.ErrTimeout, wantUnknown: true, wantTrips: 1},
		{name: "write to an unreachable unit: not sent, not retried", action: "updateSIPAccount", params: map[string]any{"extension": "1000", harmlessEdit: "ring6"},
			inject: func(_ *ucmsim.UCM, rt *simTransport) { rt.down.Store(true) }, wantErr: ucm.ErrTransport, wantTrips: 1},
		{name: "dial reset after sending: outcome unknown", action: "dialExtension", params: map[string]any{"caller": "1000", "callee": "1001"},
			inject: func(_ *ucmsim.UCM, rt *simTransport) { rt.resetAfter.Store(1) }, wantErr: ucm.ErrTransport, wantUnknown: true, wantTrips: 1},
		{name: "write refused with -6 whose re-login stalls: known not done", action: "updateSIPAccount", params: map[string]any{"extension": "1000", harmlessEdit: "ring6"},
			inject: func(sim *ucmsim.UCM, rt *simTransport) {
				sim.FailNext(1, -6)
				rt.delayReplies("login", time.Hour)
			}, wantErr: ucm.ErrTimeout, wantTrips: 3}, // call, challenge, login
		{name: "write with a rejected cookie is retried after the re-login", action: "updateSIPAccount", params: map[string]any{"extension": "1000", harmlessEdit: "ring6"},
			inject: func(sim *ucmsim.UCM, _ *simTransport) { sim.FailNext(1, -6) }, wantTrips: 4}, // call, challenge, login, call
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sim := simOn(ucmsim.Config{})
				client, rt := inProcessClient(sim)
				p, _ := newPool(t, Options{CallTimeout: 5 * time.Second}, client, simPassword)
				defer p.Close(context.Background())
				_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
				require.NoError(t, err)
				tc.inject(sim, rt)
				trips := rt.trips.Load()

				_, err = p.Do(context.Background(), unitID, tc.action, tc.params)
				assert.Equal(t, tc.wantTrips, rt.trips.Load()-trips, "requests sent to the unit")
				sim.Resume()
				if tc.wantErr == nil {
					require.NoError(t, err)
					return
				}
				require.ErrorIs(t, err, tc.wantErr)
				var unknown *OutcomeUnknownError
				assert.Equal(t, tc.wantUnknown, errorsAs(err, &unknown), "outcome unknown: %v", err)
				if tc.wantUnknown {
					assert.Equal(t, tc.action, unknown.Action)
				}
			})
		})
	}
}
