package sessionpool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// Test fixtures. The passwords are distinctive so a leak into a log is easy to spot.
const (
	unitID       = "u1"
	apiUser      = "api"
	simPassword  = "Corr3ct-H0rse-Battery!"
	wrongPasswd  = "Wr0ng-Passw0rd-Typo?"
	harmlessEdit = "alertinfo" // an updateSIPAccount field with no side effect worth noticing
)

// simOn builds a simulated unit that already knows the API user and password.
func simOn(cfg ucmsim.Config) *ucmsim.UCM {
	cfg.Seed = true
	if cfg.Password == "" {
		cfg.Password = simPassword
	}
	return ucmsim.New(cfg)
}

// httpsClient serves sim over real HTTPS on loopback and returns a client pinned to its
// certificate, as the gateway talks to a unit with a self-signed certificate.
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

// simTransport carries requests to the simulator in-process (no sockets, so a synctest bubble's
// fake clock keeps running). While down is set it fails like an unreachable unit, without the
// simulator seeing anything. trips counts every round trip attempted, failed ones included.
type simTransport struct {
	sim   *ucmsim.UCM
	down  atomic.Bool
	trips atomic.Int64

	active, peak atomic.Int64 // requests inside the unit now, and at most
	// resetAfter makes the next n round trips reach the unit and then fail as a connection reset
	// before the answer: the unit acted, the client cannot know it.
	resetAfter atomic.Int64

	mu         sync.Mutex
	replyDelay map[string]time.Duration // per action: hold the reply this long after the unit handled it
}

func (rt *simTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.trips.Add(1)
	// Report what net/http's own transport reports, so the client can tell a request that
	// never left from one the unit received.
	trace := httptrace.ContextClientTrace(req.Context())
	if trace != nil && trace.GetConn != nil {
		trace.GetConn("sim.invalid:443")
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	if rt.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: no route to host")}
	}
	if trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{})
	}
	n := rt.active.Add(1)
	for cur := rt.peak.Load(); n > cur && !rt.peak.CompareAndSwap(cur, n); cur = rt.peak.Load() {
	}
	defer rt.active.Add(-1)
	in := httptest.NewRequestWithContext(req.Context(), req.Method, "/api", bytes.NewReader(body))
	in.Header = req.Header.Clone()
	rec := httptest.NewRecorder()
	rt.sim.ServeHTTP(rec, in)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	for n := rt.resetAfter.Load(); n > 0; n = rt.resetAfter.Load() {
		if rt.resetAfter.CompareAndSwap(n, n-1) {
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("read: connection reset by peer")}
		}
	}
	if d := rt.delayFor(body); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return rec.Result(), nil
}

func (rt *simTransport) delayFor(body []byte) time.Duration {
	var env struct {
		Request struct {
			Action string `json:"action"`
		} `json:"request"`
	}
	_ = json.Unmarshal(body, &env)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.replyDelay[env.Request.Action]
}

func (rt *simTransport) delayReplies(action string, d time.Duration) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.replyDelay == nil {
		rt.replyDelay = map[string]time.Duration{}
	}
	rt.replyDelay[action] = d
}

// inProcessClient is a protocol client whose requests reach sim through rt.
func inProcessClient(sim *ucmsim.UCM) (*ucm.Client, *simTransport) {
	rt := &simTransport{sim: sim}
	return ucm.NewClientWithHTTP("https://sim.invalid", &http.Client{Transport: rt}), rt
}

// newPools builds a pool of the given units (id -> client) with its own metrics registry.
func newMultiPool(t *testing.T, opts Options, clients map[string]Caller) (*Pool, *metrics.Metrics) {
	t.Helper()
	m := metrics.New("test")
	opts.Metrics = m
	var units []UnitConfig
	for _, id := range sortedKeys(clients) {
		units = append(units, UnitConfig{ID: id, URL: "https://" + id + ".invalid", Username: apiUser, Password: simPassword, Client: clients[id]})
	}
	p, err := New(opts, units)
	require.NoError(t, err)
	return p, m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// newPool builds a one-unit pool with its own metrics registry. The caller closes it (inside a
// synctest bubble, before the bubble ends).
func newPool(t *testing.T, opts Options, client Caller, password string) (*Pool, *metrics.Metrics) {
	t.Helper()
	m := metrics.New("test")
	opts.Metrics = m
	p, err := New(opts, []UnitConfig{{ID: unitID, URL: "https://sim.invalid", Username: apiUser, Password: password, Client: client}})
	require.NoError(t, err)
	return p, m
}

// closeAtEnd closes the pool when a real-time test ends.
func closeAtEnd(t *testing.T, p *Pool) {
	t.Cleanup(func() { p.Close(context.Background()) })
}

func sipAccount(ext string) map[string]any { return map[string]any{"extension": ext} }

func unitState(t *testing.T, p *Pool) State {
	t.Helper()
	st, err := p.Unit(unitID)
	require.NoError(t, err)
	return st.State
}

// fakeCaller is a unit whose login answers are scripted, for login outcomes the simulator cannot
// produce. Calls succeed with {} for any cookie it issued.
type fakeCaller struct {
	mu       sync.Mutex
	loginErr []error // consumed in order; when empty, logins succeed
	logins   int
	calls    int
}

func (f *fakeCaller) Login(context.Context, string, string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins++
	if len(f.loginErr) > 0 {
		err := f.loginErr[0]
		f.loginErr = f.loginErr[1:]
		return "", err
	}
	return "sid1-1", nil
}

func (f *fakeCaller) Call(context.Context, string, string, map[string]any) (json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return json.RawMessage(`{}`), nil
}

func (f *fakeCaller) Logout(context.Context, string) error { return nil }

func (f *fakeCaller) Open(context.Context, string, string, map[string]any) (*http.Response, error) {
	return nil, errors.New("fakeCaller: Open is not used by these tests")
}

func (f *fakeCaller) counts() (logins, calls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins, f.calls
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }
