package sessionpool_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
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
}

func newFleet(t *testing.T, replicas int, password string) *fleet {
	t.Helper()
	f := &fleet{redis: sharedtest.Start(t), sim: simOn(ucmsim.Config{})}
	sealer, err := shared.NewSealer(bytes.Repeat([]byte{1}, 32))
	require.NoError(t, err)
	cfg := config.Redis{Addr: f.redis.Addr(), KeyPrefix: "t:", DialTimeout: 300 * time.Millisecond, OpTimeout: 300 * time.Millisecond}
	for range replicas {
		client, err := shared.Open(context.Background(), cfg, testLogger())
		require.NoError(t, err)
		t.Cleanup(func() { _ = client.Close() })
		h := shared.NewHealth(context.Background(), client, cfg.Addr, 50*time.Millisecond, testLogger(), nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); h.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		p, _ := newPool(t, Options{Sessions: shared.NewSessions(client, shared.NewKeys("t:"), sealer, h)}, httpsClient(t, f.sim), password)
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

// The fixtures of harness_test.go, which this external package (it imports shared, and shared
// imports config, which imports sessionpool through events) cannot see.
const (
	unitID      = "u1"
	apiUser     = "api"
	simPassword = "Corr3ct-H0rse-Battery!"
	wrongPasswd = "Wr0ng-Passw0rd-Typo?"
)

func simOn(cfg ucmsim.Config) *ucmsim.UCM {
	cfg.Seed = true
	if cfg.Password == "" {
		cfg.Password = simPassword
	}
	return ucmsim.New(cfg)
}

func httpsClient(t *testing.T, sim *ucmsim.UCM) *ucm.Client {
	t.Helper()
	srv, err := ucmsim.Listen(sim, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	tc, err := ucm.TLSOptions{PinSHA256: srv.CertSHA256()}.Config()
	require.NoError(t, err)
	c, err := ucm.NewClient(srv.URL(), tc)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdle)
	return c
}

func newPool(t *testing.T, opts Options, client Caller, password string) (*Pool, *metrics.Metrics) {
	t.Helper()
	m := metrics.New("test")
	opts.Metrics = m
	p, err := New(opts, []UnitConfig{{ID: unitID, URL: "https://sim.invalid", Username: apiUser, Password: password, Client: client}})
	require.NoError(t, err)
	return p, m
}

func closeAtEnd(t *testing.T, p *Pool) { t.Cleanup(func() { p.Close(context.Background()) }) }

func sipAccount(ext string) map[string]any { return map[string]any{"extension": ext} }

func unitState(t *testing.T, p *Pool) State {
	t.Helper()
	st, err := p.Unit(unitID)
	require.NoError(t, err)
	return st.State
}

func loginAttempts(sim *ucmsim.UCM) int {
	c := sim.Counters()
	return c.Logins + c.FailedLogins
}
