package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/handlers"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// Unit is one unit the gateway under measurement fronts.
type Unit struct {
	ID, URL, CertSHA256, Username, Password string
}

// StackOptions tune the gateway under measurement; zero values are the gateway's defaults.
type StackOptions struct {
	Pool    sessionpool.Options
	Handler handlers.Options
	// Events, if set, builds the live events from the pool (GET /v1/units/{unit}/events).
	Events func(pool *sessionpool.Pool, m *metrics.Metrics, logger *slog.Logger) *events.Set
}

// Stack is the whole gateway as cmd/ucm-gateway wires it (API key, rate limiter, validator, pool,
// HTTPS client per unit), served by an httptest server on loopback.
type Stack struct {
	Server  *httptest.Server
	Pool    *sessionpool.Pool
	Metrics *metrics.Metrics
	Key     string
	Handler http.Handler
	Events  *events.Set
	clients []*ucm.Client
}

// CertPin is the pin_sha256 of an httptest TLS server's certificate.
func CertPin(s *httptest.Server) string {
	sum := sha256.Sum256(s.Certificate().Raw)
	return hex.EncodeToString(sum[:])
}

// NewStack builds a gateway in front of units and starts serving it (serve=false builds it
// without a listener, for memory measurements).
func NewStack(units []Unit, o StackOptions, serve bool) (*Stack, error) {
	m := o.Pool.Metrics
	if m == nil {
		m = metrics.New("bench")
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := &Stack{Metrics: m}
	cfgs := make([]sessionpool.UnitConfig, 0, len(units))
	for _, u := range units {
		tc, err := ucm.TLSOptions{PinSHA256: u.CertSHA256}.Config()
		if err != nil {
			return nil, err
		}
		c, err := ucm.NewClient(u.URL, tc)
		if err != nil {
			return nil, err
		}
		st.clients = append(st.clients, c)
		user, pass := u.Username, u.Password
		if user == "" {
			user, pass = "api", "bench-password"
		}
		cfgs = append(cfgs, sessionpool.UnitConfig{ID: u.ID, URL: u.URL, Username: user, Password: pass, Client: c})
	}
	po := o.Pool
	po.Logger, po.Metrics = logger, m
	pool, err := sessionpool.New(po, cfgs)
	if err != nil {
		return nil, err
	}
	st.Pool = pool
	key, hash, err := auth.Generate()
	if err != nil {
		return nil, err
	}
	keys, err := auth.NewKeyring([]auth.Key{{Name: "bench", Hashes: []string{hash}, Scopes: auth.AllScopes, Units: []string{auth.AllUnits}}})
	if err != nil {
		return nil, err
	}
	st.Key = key
	ho := o.Handler
	ho.Upstream, ho.Logger, ho.Metrics, ho.Keys = pool, logger, m, keys
	if o.Events != nil {
		st.Events = o.Events(pool, m, logger)
		ho.Events = st.Events
	}
	if ho.RateLimit.Requests == 0 {
		ho.RateLimit = handlers.RateLimit{Requests: 1 << 30, Window: time.Minute}
	}
	h, err := handlers.New(ho)
	if err != nil {
		pool.Close(context.Background())
		return nil, err
	}
	st.Handler = h
	if serve {
		st.Server = httptest.NewServer(h)
	}
	return st, nil
}

// Close stops the server and the pool.
func (s *Stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.Events != nil {
		_ = s.Events.Close(ctx)
	}
	if s.Server != nil {
		s.Server.Close()
	}
	s.Pool.Close(ctx)
	for _, c := range s.clients {
		c.CloseIdle()
	}
}

// Client is an HTTP client that presents the stack's key.
func (s *Stack) Client(conns int) *http.Client {
	return &http.Client{Transport: &keyed{key: s.Key, base: &http.Transport{MaxIdleConnsPerHost: conns, MaxIdleConns: conns}}}
}

type keyed struct {
	key  string
	base http.RoundTripper
}

func (k *keyed) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+k.key)
	return k.base.RoundTrip(r)
}
