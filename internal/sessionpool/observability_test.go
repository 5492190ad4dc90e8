package sessionpool

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// cookieSpy remembers every cookie the unit handed out, so a test can check what became of them.
type cookieSpy struct {
	Caller
	mu      sync.Mutex
	cookies []string
}

func (s *cookieSpy) Login(ctx context.Context, user, password string) (string, error) {
	c, err := s.Caller.Login(ctx, user, password)
	if err == nil {
		s.mu.Lock()
		s.cookies = append(s.cookies, c)
		s.mu.Unlock()
	}
	return c, err
}

func (s *cookieSpy) issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cookies...)
}

func TestMetricsTellTheSessionStory(t *testing.T) {
	good, bad := simOn(ucmsim.Config{}), simOn(ucmsim.Config{})
	goodClient, _ := inProcessClient(good)
	badClient, _ := inProcessClient(bad)
	m := metrics.New("test")
	var mu sync.Mutex
	var infos []CallInfo
	p, err := New(Options{Metrics: m, OnCall: func(_ context.Context, ci CallInfo) {
		mu.Lock()
		infos = append(infos, ci)
		mu.Unlock()
	}}, []UnitConfig{
		{ID: "u1", Username: apiUser, Password: simPassword, Client: goodClient},
		{ID: "u2", Username: apiUser, Password: wrongPasswd, Client: badClient},
	})
	require.NoError(t, err)
	closeAtEnd(t, p)
	ctx := context.Background()
	calls := func(unit, action, outcome string) float64 {
		return testutil.ToFloat64(m.UCMCalls.WithLabelValues(unit, action, outcome))
	}
	state := func(unit, s string) float64 { return testutil.ToFloat64(m.SessionState.WithLabelValues(unit, s)) }

	assert.Equal(t, 1.0, state("u1", "cold"), "a fresh unit is cold")
	_, err = p.Do(ctx, "u1", "getSystemStatus", nil)
	require.NoError(t, err)
	good.FailNext(1, ucmsim.StatusCookieError)
	_, err = p.Do(ctx, "u1", "getSystemStatus", nil)
	require.NoError(t, err)
	_, err = p.Do(ctx, "u2", "getSystemStatus", nil)
	var stop *LoginStoppedError
	require.ErrorAs(t, err, &stop)

	assert.Equal(t, 2.0, testutil.ToFloat64(m.Logins.WithLabelValues("u1", "success")), "first login and the re-login after -6")
	assert.Zero(t, testutil.ToFloat64(m.Logins.WithLabelValues("u1", "failure")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.Logins.WithLabelValues("u2", "failure")))
	assert.Zero(t, testutil.ToFloat64(m.Logins.WithLabelValues("u2", "success")))
	assert.Equal(t, 1.0, calls("u1", "getSystemStatus", "status_-6"), "the rejected cookie shows as status_-6")
	assert.Equal(t, 2.0, calls("u1", "getSystemStatus", "ok"))
	assert.Equal(t, 2.0, calls("u1", "login", "ok"))
	assert.Equal(t, 1.0, calls("u2", "login", "status_-37"), "the refused login shows the unit's status")
	assert.Equal(t, 1.0, state("u1", "ready"))
	assert.Zero(t, state("u1", "cold"), "exactly one state is 1")
	assert.Equal(t, 1.0, state("u2", "auth_failed"))
	assert.Zero(t, state("u2", "cold"))
	assert.Zero(t, testutil.ToFloat64(m.BreakerState.WithLabelValues("u1")), "breaker closed")
	lint, err := testutil.GatherAndLint(m.Registry, "ucm_gateway_ucm_calls_total", "ucm_gateway_logins_total", "ucm_gateway_session_state")
	require.NoError(t, err)
	assert.Empty(t, lint)

	units := p.Units()
	require.Len(t, units, 2)
	assert.Equal(t, []string{"u1", "u2"}, []string{units[0].ID, units[1].ID}, "units are listed in configuration order")
	assert.Equal(t, StateReady, units[0].State)
	assert.EqualValues(t, 2, units[0].Logins)
	assert.False(t, units[0].LastLogin.IsZero())
	assert.Equal(t, StateAuthFailed, units[1].State)
	assert.Equal(t, -37, units[1].LastErrorStatus)
	assert.True(t, units[1].LastLogin.IsZero())

	mu.Lock()
	defer mu.Unlock()
	want := []CallInfo{
		{Unit: "u1", Action: "login", Outcome: "ok"},
		{Unit: "u1", Action: "getSystemStatus", Outcome: "ok"},
		{Unit: "u1", Action: "getSystemStatus", Outcome: "status_-6"},
		{Unit: "u1", Action: "login", Outcome: "ok"},
		{Unit: "u1", Action: "getSystemStatus", Outcome: "ok"},
		{Unit: "u2", Action: "login", Outcome: "status_-37"},
	}
	require.Len(t, infos, len(want), "OnCall must report every UCM call, logins included")
	for i := range want {
		infos[i].Duration = 0
	}
	assert.Equal(t, want, infos)
}

func TestCloseLogsOut(t *testing.T) {
	sim := simOn(ucmsim.Config{})
	client := httpsClient(t, sim)
	spy := &cookieSpy{Caller: client}
	p, m := newPool(t, Options{}, spy, simPassword)
	_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
	require.NoError(t, err)
	require.Len(t, spy.issued(), 1)

	p.Close(context.Background())
	p.Close(context.Background()) // closing twice is harmless

	assert.Equal(t, 1, sim.Counters().Logouts, "graceful shutdown must log out of the unit")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.UCMCalls.WithLabelValues(unitID, "logout", "ok")))
	_, err = client.Call(context.Background(), "getSystemStatus", spy.issued()[0], nil)
	require.ErrorIs(t, err, ucm.StatusCookie, "the cookie must be dead after shutdown")
	assert.Equal(t, StateCold, unitState(t, p))
}

func TestCloseStopsKeepAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simOn(ucmsim.Config{})
		client, rt := inProcessClient(sim)
		p, _ := newPool(t, Options{}, client, simPassword)
		_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
		require.NoError(t, err)
		p.Close(context.Background())
		trips := rt.trips.Load()
		time.Sleep(time.Hour)
		assert.Equal(t, trips, rt.trips.Load(), "the pool kept talking to the unit after Close")
	})
}

func TestCloseAfterIdleSpellSendsNoDeadCookie(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		var logMu sync.Mutex
		sim := simOn(ucmsim.Config{})
		client, _ := inProcessClient(sim)
		p, _ := newPool(t, Options{Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &logMu}, nil))}, client, simPassword)
		_, err := p.Do(context.Background(), unitID, "getSystemStatus", nil)
		require.NoError(t, err)
		time.Sleep(time.Hour) // the unit drops the idle session
		p.Close(context.Background())

		assert.Zero(t, sim.Calls("logout"), "shutdown sent a logout with a cookie the unit dropped long ago")
		logMu.Lock()
		defer logMu.Unlock()
		assert.NotContains(t, buf.String(), "logout failed", "an idle gateway's shutdown logged a spurious warning")
	})
}

var cookieRE = regexp.MustCompile(`sid[0-9]+-[0-9]+`)

func TestSecretsNeverReachTheLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		var logMu sync.Mutex
		logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))

		good, bad, down := simOn(ucmsim.Config{}), simOn(ucmsim.Config{}), simOn(ucmsim.Config{})
		goodClient, goodRT := inProcessClient(good)
		badClient, _ := inProcessClient(bad)
		downClient, downRT := inProcessClient(down)
		downRT.down.Store(true)
		spy := &cookieSpy{Caller: goodClient}
		p, err := New(Options{Logger: logger, BreakerFailures: 2}, []UnitConfig{
			{ID: "good", Username: apiUser, Password: simPassword, Client: spy},
			{ID: "bad", Username: apiUser, Password: wrongPasswd, Client: badClient},
			{ID: "down", Username: apiUser, Password: simPassword, Client: downClient},
		})
		require.NoError(t, err)
		ctx := context.Background()
		var errs []error
		do := func(unit string) {
			_, err := p.Do(ctx, unit, "getSIPAccount", sipAccount("1000"))
			errs = append(errs, err)
		}

		do("good")
		good.ForgetCookies() // re-login after -6
		do("good")
		do("bad")
		do("bad")
		do("down")
		goodRT.down.Store(true) // transport failures: breaker opens, keep-alive fails
		do("good")
		do("good")
		do("good")
		time.Sleep(7 * time.Minute)
		synctest.Wait()
		goodRT.down.Store(false)
		time.Sleep(time.Minute)
		do("good")
		p.Close(ctx)

		logMu.Lock()
		out := buf.String()
		logMu.Unlock()
		for _, want := range []string{"logged in to unit", "refused the gateway's credentials", "backing off", "breaker", "logged out"} {
			assert.Contains(t, out, want, "the scenario should have logged %q", want)
		}
		for name, secret := range map[string]string{"unit password": simPassword, "wrong password": wrongPasswd} {
			assert.NotContains(t, out, secret, "the %s reached the log", name)
			for _, err := range errs {
				if err != nil {
					assert.NotContains(t, err.Error(), secret, "the %s reached an error a client may see", name)
				}
			}
		}
		assert.Empty(t, cookieRE.FindAllString(out, -1), "a session cookie reached the log")
		for _, c := range spy.issued() {
			assert.NotContains(t, out, c)
		}
		require.Len(t, spy.issued(), 2, "the scenario logged in twice on the good unit")
	})
}

// lockedWriter serialises writes from the pool's goroutines into one buffer.
type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
