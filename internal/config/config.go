// Package config loads the gateway's YAML configuration: it expands ${ENV} references so secrets stay
// out of the file, decodes strictly so a misspelt key is an error rather than a silent default, fills
// in defaults and validates everything, reporting every problem at once with the place it sits.
package config

import "time"

// Config is the gateway's whole configuration after loading, expansion, defaults and validation.
// Everything in it has been checked, so the rest of the program can use it without second-guessing.
type Config struct {
	// Listen is the address the REST API serves on; default ":8080".
	Listen string
	// LogLevel is "debug", "info", "warn" or "error"; default "info".
	LogLevel string
	// Units are the UCMs the gateway fronts; there is at least one and their IDs are unique.
	Units []Unit
	// Session tunes how the gateway talks to every unit.
	Session Session
	// Server tunes the gateway's own HTTP server.
	Server Server
	// APIKeys are the clients allowed in. The configuration holds only hashes of the keys. An
	// empty list is valid here; whether the gateway may then start is decided by its caller
	// (only --demo may run without keys).
	APIKeys []APIKey
	// CORS lets browser frontends from the listed origins call the API.
	CORS CORS
	// RateLimit bounds the requests of each key.
	RateLimit RateLimit
	// Events tunes live events (SSE, webhooks).
	Events Events
	// Webhooks receive the units' live events, signed per Standard Webhooks.
	Webhooks []Webhook
	// Redis, when enabled, holds the state the replicas of a fleet share.
	Redis Redis
	// Metrics tunes /metrics.
	Metrics Metrics
}

// Metrics tunes what /metrics exposes.
type Metrics struct {
	// PerUnit labels the upstream series (UCM calls, logins, session state, refusals…) with each
	// unit's id (default true). About fifteen series per configured unit: a gateway in front of
	// thousands of units sets it false, and every unit then reports under unit="_all" (counters
	// summed, session_state counting units per state, breaker_state left out).
	PerUnit bool `yaml:"per_unit"`
}

// APIKey is one client: a name for the logs, the hashes of its keys (two during a rotation), its
// scopes and its units. Everything in it has been checked; Hashes are normalised to lower case.
type APIKey struct {
	// Name identifies the client in logs and audit lines: [A-Za-z0-9._-]{1,64}, unique.
	Name string `yaml:"name"`
	// Hashes are "sha256:<64 hex digits>" as printed by `ucm-gateway keygen`.
	Hashes []string `yaml:"hashes"`
	// Scopes are some of read, write, calls, admin.
	Scopes []string `yaml:"scopes"`
	// Units are configured unit ids, or the single entry "*" for every unit.
	Units []string `yaml:"units"`
	// RateLimit, when set, replaces rate_limit.requests for this key.
	RateLimit int `yaml:"rate_limit"`
}

// CORS is the browser allow-list. With no origins, no CORS headers are sent at all, so browsers
// refuse cross-origin calls.
type CORS struct {
	// AllowedOrigins are "scheme://host[:port]" (one "*" allowed in the host, as in
	// https://*.example.com), or the single entry "*".
	AllowedOrigins []string `yaml:"allowed_origins"`
	// MaxAge is how long a browser may cache a preflight answer (default 10m).
	MaxAge time.Duration `yaml:"max_age"`
}

// RateLimit is the per-key request budget: Requests in any sliding Window. It protects the units
// (small appliances) from one runaway client, and bounds what a leaked key can do quickly.
type RateLimit struct {
	// Requests per window per key (default 600).
	Requests int `yaml:"requests"`
	// Window defaults to 1m.
	Window time.Duration `yaml:"window"`
}

// Session holds the limits for calls to the units. They live in configuration because they depend on
// the UCM model and firmware, which the operator knows and the gateway cannot discover.
type Session struct {
	// IdleTimeout is the UCM's cookie lifetime (default 10m); keep-alive runs before it lapses.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// RequestTimeout bounds one request to a unit from start to end: the wait for a slot, a
	// login, the call and its one retry (default 15s). No client waits longer.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// CallTimeout bounds each single call to the unit (default 10s, at most RequestTimeout); a
	// call that runs out counts against the unit's breaker.
	CallTimeout time.Duration `yaml:"call_timeout"`
	// ApplyTimeout is the deadline for applyChanges (default 90s), which the UCM takes far longer
	// to answer than anything else.
	ApplyTimeout time.Duration `yaml:"apply_timeout"`
	// MaxInFlight bounds concurrent calls per unit (default 8, 1..256): a UCM is a small appliance.
	MaxInFlight int `yaml:"max_in_flight"`
	// SlotWait is how long a request waits for one of those slots before it is answered 503
	// (default 2s, less than RequestTimeout).
	SlotWait time.Duration `yaml:"slot_wait"`
	// BreakerFailures is how many failed calls in a row (transport, timeout, a reply that is not
	// the API) open a unit's circuit breaker (default 5, 1..100).
	BreakerFailures int `yaml:"breaker_failures"`
	// BreakerOpen is how long an open breaker fails fast before it lets one probe through
	// (default 2s); it doubles while the probes fail, up to BreakerOpenMax (default 8s).
	BreakerOpen    time.Duration `yaml:"breaker_open"`
	BreakerOpenMax time.Duration `yaml:"breaker_open_max"`
	// ListFreshness is how long a unit's reply to a list read (extensions, channels, queues…)
	// answers identical list reads without a call (default 1s, at most 1m; 0s disables): 200
	// clients polling GET …/calls once a second cost the unit one read a second. Any write
	// through the gateway ends the window at once, so what follows a change sees it.
	ListFreshness time.Duration `yaml:"list_freshness"`
	// ContactAtStart logs in to every unit in the background at start, so each unit's first
	// contact (and what is wrong with it) is in the log at once (default true). A gateway in
	// front of thousands of units sets it false: each unit is then contacted at its first
	// request, and units nobody uses cost no login, socket or memory.
	ContactAtStart bool `yaml:"contact_at_start"`
}

// Server holds the gateway's HTTP server limits, so that slow or hostile clients cannot hold
// connections or memory without bound.
type Server struct {
	// ReadHeaderTimeout defaults to 5s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout defaults to 30s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout defaults to 120s; it must exceed Session.ApplyTimeout or an apply's reply is cut off.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout (keep-alive connections) defaults to 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout is how long a graceful shutdown waits for requests in flight; default 20s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MaxBodyBytes bounds a request body; default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// TLS says how the gateway verifies a unit's certificate. UCMs usually carry self-signed
// certificates, so the operator names a CA file or pins the certificate; skipping verification is
// possible but must be said explicitly. At most one of the three is set.
type TLS struct {
	// CAFile names a PEM file holding at least one certificate to trust for this unit.
	CAFile string
	// PinSHA256 is the SHA-256 of the unit's certificate: 64 lowercase hex digits, no colons.
	PinSHA256 string
	// InsecureSkipVerify turns verification off; the gateway is expected to log that choice.
	InsecureSkipVerify bool
	// CAPEM is the content of CAFile, read at load time so a bad file stops the start.
	CAPEM []byte
	// LegacyRSAKex also offers TLS 1.2 cipher suites with RSA key exchange to this unit (and to
	// no other), for old firmware that offers nothing else; the gateway logs the choice.
	LegacyRSAKex bool
}

// defaults returns the configuration a file that only lists units would produce.
func defaults() Config {
	return Config{
		Listen:   ":8080",
		LogLevel: "info",
		Session: Session{
			IdleTimeout:     10 * time.Minute,
			RequestTimeout:  15 * time.Second,
			CallTimeout:     10 * time.Second,
			ApplyTimeout:    90 * time.Second,
			MaxInFlight:     8,
			SlotWait:        2 * time.Second,
			BreakerFailures: 5,
			BreakerOpen:     2 * time.Second,
			BreakerOpenMax:  8 * time.Second,
			ListFreshness:   time.Second,
			ContactAtStart:  true,
		},
		Server: Server{
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      120 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   20 * time.Second,
			MaxBodyBytes:      1 << 20,
		},
		CORS:      CORS{MaxAge: 10 * time.Minute},
		RateLimit: RateLimit{Requests: 600, Window: time.Minute},
		Events:    defaultEvents(),
		Metrics:   Metrics{PerUnit: true},
	}
}
