package sessionpool_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	. "github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/shared"
	"github.com/ucm-gateway/ucm-gateway/internal/shared/sharedtest"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// fleet is several replicas' pools on one simulated unit over real HTTPS, sharing one real Redis.
type fleet struct {
	redis  *sharedtest.Redis
	sim    *ucmsim.UCM
	pools  []*Pool
	health []*shared.Health
	stores []*shared.Sessions
}

func newFleet(t *testing.T, replicas int, password string) *fleet {
	t.Helper()
	f := &fleet{redis: sharedtest.Start(t), sim: simOn(ucmsim.Config{})}
	sealer, err := shared.NewSealer(bytes.Repeat([]byte{1}, 32))
	require.NoError(t, err)
	// The production timeouts: a loaded test machine must not look like a Redis that is down.
	cfg := config.Redis{Addr: f.redis.Addr(), KeyPrefix: "t:", DialTimeout: 2 * time.Second, OpTimeout: time.Second}
	for range replicas {
		client, err := shared.Open(context.Background(), cfg, testLogger())
		require.NoError(t, err)
		t.Cleanup(func() { _ = client.Close() })
		h := shared.NewHealth(context.Background(), client, cfg.Addr, 50*time.Millisecond, testLogger(), nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); h.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		store := shared.NewSessions(client, shared.NewKeys("t:"), sealer, h)
		f.stores = append(f.stores, store)
		p, _ := newPool(t, Options{Sessions: store}, httpsClient(t, f.sim), password)
		closeAtEnd(t, p)
		f.pools = append(f.pools, p)
		f.health = append(f.health, h)
	}
	return f
}

// burst sends n concurrent requests to every replica at once.
func (f *fleet) burst(n int) []error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, p := range f.pools {
		for i := range n {
			wg.Go(func() {
				_, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount(fmt.Sprint(1000+i%3)))
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return errs
}

func requireNoErrors(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

func TestFleetOnAColdUnitLogsInOnce(t *testing.T) {
	f := newFleet(t, 3, simPassword)
	requireNoErrors(t, f.burst(100))
	c := f.sim.Counters()
	assert.Equal(t, 1, c.Challenges, "3 replicas x 100 requests on a cold unit: one challenge")
	assert.Equal(t, 1, c.Logins, "and one login")
	for _, p := range f.pools {
		assert.Equal(t, StateReady, unitState(t, p))
	}

	// The unit forgets the cookie: the replicas that see the -6 drop it for the fleet only
	// while it is still the one that failed, so the fleet logs in once more, not once each.
	f.sim.ForgetCookies()
	requireNoErrors(t, f.burst(30))
	c = f.sim.Counters()
	assert.Equal(t, 2, c.Logins, "a rejected shared cookie costs the fleet one login")
	assert.Equal(t, 0, c.Logouts)
}

func TestFleetSharesALoginStopAndItsReset(t *testing.T) {
	f := newFleet(t, 3, wrongPasswd)
	for _, err := range f.burst(20) {
		var stop *LoginStoppedError
		require.ErrorAs(t, err, &stop)
	}
	assert.Equal(t, 1, loginAttempts(f.sim), "one replica spent one attempt; the others read the stop")
	for _, p := range f.pools {
		assert.Equal(t, StateAuthFailed, unitState(t, p))
	}
	// Still stopped on every replica: nothing more reaches the unit.
	f.burst(5)
	assert.Equal(t, 1, loginAttempts(f.sim))

	// The operator fixes the unit's password and resets it on one replica: all may log in again.
	f.sim.SetPassword(wrongPasswd)
	_, err := f.pools[1].Reset(unitID)
	require.NoError(t, err)
	requireNoErrors(t, f.burst(10))
	assert.Equal(t, 1, f.sim.Counters().Logins, "after the reset, one login for the fleet")
}

func TestFleetWithRedisDownKeepsSessionsAndRecovers(t *testing.T) {
	f := newFleet(t, 3, simPassword)
	// Two replicas warm, one cold.
	for _, p := range f.pools[:2] {
		_, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
		require.NoError(t, err)
	}
	require.Equal(t, 1, f.sim.Counters().Logins)
	f.redis.Stop()
	for _, h := range f.health {
		require.Eventually(t, func() bool { return !h.Up() }, 5*time.Second, 10*time.Millisecond)
	}
	// Degraded: the replicas that hold the session go on; the cold one refuses rather than
	// race the others' challenges, and nothing reaches the unit's login.
	for _, p := range f.pools[:2] {
		_, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
		require.NoError(t, err)
	}
	_, err := f.pools[2].Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
	var unav *UnavailableError
	require.ErrorAs(t, err, &unav)
	assert.Equal(t, RefusedSharedState, unav.Kind)
	assert.Positive(t, unav.RetryAfter)
	assert.Equal(t, 1, f.sim.Counters().Challenges, "no login while Redis is down")

	// Redis returns (empty, as after a crash): the fleet logs in once and shares it again.
	f.redis.Restart()
	for _, h := range f.health {
		require.Eventually(t, h.Up, 5*time.Second, 10*time.Millisecond)
	}
	f.sim.ForgetCookies()
	requireNoErrors(t, f.burst(20))
	assert.Equal(t, 2, f.sim.Counters().Logins, "Redis back: one more login for the whole fleet")
}

func testLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The fixtures of harness_test.go, re-exported for this external package by export_test.go.
const (
	unitID      = FixtureUnitID
	apiUser     = FixtureAPIUser
	simPassword = FixtureSimPassword
	wrongPasswd = FixtureWrongPasswd
)

var (
	simOn       = FixtureSimOn
	httpsClient = FixtureHTTPSClient
	newPool     = FixtureNewPool
	closeAtEnd  = FixtureCloseAtEnd
	sipAccount  = FixtureSipAccount
	unitState   = FixtureUnitState
)

func loginAttempts(sim *ucmsim.UCM) int {
	c := sim.Counters()
	return c.Logins + c.FailedLogins
}

// A unit that cannot be reached costs the fleet one login attempt per back-off, not one per
// replica, and every replica answers at once that the unit is unreachable.
func TestFleetSharesALoginBackOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close() // as a unit that drops the connection
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	f := newFleet(t, 3, simPassword)
	c, err := ucm.NewClient("https://"+ln.Addr().String(), nil)
	require.NoError(t, err)
	var pools []*Pool
	for _, st := range f.stores {
		p, err := New(Options{Metrics: metrics.New("test"), Sessions: st, BackoffBase: time.Minute, BackoffMax: time.Minute},
			[]UnitConfig{{ID: "dead", Username: apiUser, Password: simPassword, Client: c}})
		require.NoError(t, err)
		t.Cleanup(func() { p.Close(context.Background()) })
		pools = append(pools, p)
	}
	var wg sync.WaitGroup
	errs := make([]error, 30)
	for i := range errs {
		wg.Go(func() { _, errs[i] = pools[i%3].Do(context.Background(), "dead", "getSystemStatus", nil) })
	}
	wg.Wait()
	for _, err := range errs {
		var unav *UnavailableError
		require.ErrorAs(t, err, &unav)
		assert.Equal(t, RefusedBackingOff, unav.Kind)
		assert.ErrorIs(t, err, ucm.ErrTransport, "every replica says the unit is unreachable")
		assert.Positive(t, unav.RetryAfter)
	}
	assert.Equal(t, int32(1), accepted.Load(), "one login attempt for the fleet")
}
