package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/handlers"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

// run is the whole program: flags, configuration, wiring, serving and graceful shutdown. Tests
// call it directly with their own args, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	sub := ""
	if len(args) > 1 {
		sub = args[1]
		switch sub {
		case "keygen":
			return keygen(args[2:], stdout)
		case "healthcheck":
			return healthcheck(ctx, args[2:], getenv, stdout)
		}
	}
	fs := flag.NewFlagSet("ucm-gateway", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() { printUsage(fs.Output(), fs) }
	configPath := fs.String("config", envOr(getenv, "UCM_GATEWAY_CONFIG", ""), "YAML configuration `file` (env UCM_GATEWAY_CONFIG; default ucm-gateway.yaml)")
	listen := fs.String("listen", getenv("UCM_GATEWAY_LISTEN"), "listen `address`, overriding the configuration (env UCM_GATEWAY_LISTEN)")
	logLevel := fs.String("log-level", getenv("UCM_GATEWAY_LOG_LEVEL"), "debug, info, warn or error, overriding the configuration (env UCM_GATEWAY_LOG_LEVEL)")
	demo := fs.Bool("demo", false, "start the built-in UCM simulator and serve it as unit \"demo\" (no hardware needed)")
	insecureNoAuth := fs.Bool("insecure-no-auth", false, "with --demo only: serve the API without API keys (anyone who can reach the port can use it)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if sub == "help" {
		if len(args) > 2 {
			return strayArgs("ucm-gateway help", args[2:], false)
		}
		fs.Usage()
		return nil
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return strayArgs("ucm-gateway", fs.Args(), fs.NArg() == len(args)-1)
	}
	if *showVersion {
		fmt.Fprintln(stdout, "ucm-gateway", version)
		return nil
	}

	if *insecureNoAuth && (!*demo || *configPath != "") {
		return errors.New("--insecure-no-auth is only for --demo without --config: a gateway in front of real units must not run open (create a key with: ucm-gateway keygen)")
	}

	var sim *ucmsim.Server
	var cfg *config.Config
	var reload func() (*config.Config, error) // the file again, for a reload; nil: no file
	var err error
	if *demo {
		sim, cfg, reload, err = startDemo(getenv, *configPath)
		if err != nil {
			return err
		}
		defer sim.Close()
	} else {
		path := *configPath
		if path == "" {
			path = "ucm-gateway.yaml"
		}
		if cfg, err = config.LoadFile(path, getenv); err != nil {
			return missingConfig(path, err)
		}
		reload = func() (*config.Config, error) { return config.LoadFile(path, getenv) }
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *logLevel != "" {
		cfg.LogLevel = *logLevel
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("log level %q: use debug, info, warn or error", cfg.LogLevel)
	}
	text := humanLogs(*demo, stdout)
	logger := slog.New(newLogHandler(stdout, level, text))
	acc, err := setUpAccess(cfg, *demo, *insecureNoAuth, getenv, logger)
	if err != nil {
		return err
	}
	// The audit trail is written at Info whatever the log level: quieter logs must not hide
	// who changed what.
	acc.audit = slog.New(newLogHandler(stdout, slog.LevelInfo, text))
	return serve(ctx, cfg, reload, logger, acc, sim, stdout, text)
}

// serve runs the gateway until ctx ends. terminal says a person reads stdout (the demo's
// banner then shows a fixed key itself).
func serve(ctx context.Context, cfg *config.Config, reload func() (*config.Config, error), logger *slog.Logger, acc access, sim *ucmsim.Server, stdout io.Writer, terminal bool) error {
	m := metrics.NewWithOptions(version, metrics.Options{PerUnit: cfg.Metrics.PerUnit})
	units := make([]sessionpool.UnitConfig, 0, len(cfg.Units))
	tlsConfs := make(map[string]*ucm.TLSConfig, len(cfg.Units))
	zones := make(map[string]*time.Location, len(cfg.Units))
	clients := make(map[string]unitClient, len(cfg.Units))
	for _, u := range cfg.Units {
		zones[u.ID] = u.TimeZone
		client, tc, err := unitClientFor(u, logger)
		if err != nil {
			return err
		}
		tlsConfs[u.ID] = tc
		clients[u.ID] = unitClient{unit: u, client: client, tls: tc}
		units = append(units, sessionpool.UnitConfig{ID: u.ID, URL: u.URL, Username: u.Username, Password: u.Password, Client: client,
			Private: sim != nil && u.ID == "demo"})
	}
	state, err := openFleet(ctx, cfg.Redis, logger, m)
	if err != nil {
		return err
	}
	defer state.stop()
	pool, err := sessionpool.New(sessionpool.Options{
		Sessions:        state.sessionStore(),
		IdleTimeout:     cfg.Session.IdleTimeout,
		RequestTimeout:  cfg.Session.RequestTimeout,
		CallTimeout:     cfg.Session.CallTimeout,
		ActionTimeouts:  map[string]time.Duration{"applyChanges": cfg.Session.ApplyTimeout},
		MaxInFlight:     cfg.Session.MaxInFlight,
		SlotWait:        cfg.Session.SlotWait,
		BreakerFailures: cfg.Session.BreakerFailures,
		BreakerOpen:     cfg.Session.BreakerOpen,
		BreakerOpenMax:  cfg.Session.BreakerOpenMax,
		ListFreshness:   cfg.Session.ListFreshness,
		Logger:          logger,
		Metrics:         m,
		OnCall: func(ctx context.Context, c sessionpool.CallInfo) {
			handlers.RecordUCMCall(ctx, handlers.UCMCall{Unit: c.Unit, Action: c.Action, Outcome: c.Outcome, Duration: c.Duration})
		},
	}, units)
	if err != nil {
		return err
	}
	if cfg.Session.ContactAtStart {
		pool.Contact() // each unit's first contact, and what went wrong with it, is in the log at start
	}

	evFleet, stopFleet, err := eventFleet(ctx, cfg, logger)
	if err != nil {
		pool.Close(ctx)
		return err
	}
	defer stopFleet() // deferred first, so it runs after the hubs and webhooks have stopped
	evs, sockets, err := liveEvents(cfg, pool, tlsConfs, evFleet, logger, m)
	if err != nil {
		pool.Close(ctx)
		return err
	}
	defer closeEvents(evs, cfg.Server.ShutdownTimeout)
	svc, err := startWebhooks(cfg, evs, logger, m)
	if err != nil {
		pool.Close(ctx)
		return err
	}
	hooks := &hookHolder{svc: svc} // a reload may replace the service
	defer hooks.Close(context.Background())

	m.ConfigReloadTime.Set(float64(time.Now().Unix()))
	settings := handlers.NewLive(handlers.LiveSettings{Keys: acc.keys, RateLimit: handlers.RateLimit{Requests: cfg.RateLimit.Requests, Window: cfg.RateLimit.Window}, TimeZones: zones})
	rl := &reloader{load: reload, pool: pool, live: settings, demoSim: sim != nil, demo: acc.demo, open: acc.open, logger: logger, m: m, cur: cfg, clients: clients,
		evs: evs, sockets: sockets, fleet: evFleet, hooks: hooks, closeTimeout: cfg.Server.ShutdownTimeout}
	defer rl.close()
	var reloadFn func(context.Context) (handlers.ReloadResult, error)
	if reload != nil {
		reloadFn = rl.reload
		hupCtx, stopHUP := context.WithCancel(ctx)
		hupDone := rl.onSIGHUP(hupCtx)
		defer func() { stopHUP(); <-hupDone }()
	}

	var ready atomic.Bool
	h, err := handlers.New(handlers.Options{Live: settings, Reload: reloadFn,
		Upstream: upstream{Pool: pool, sockets: sockets}, Events: evs, Webhooks: hooks, Logger: logger, Metrics: m, MaxBodyBytes: cfg.Server.MaxBodyBytes,
		Ready: ready.Load, LogLevel: slog.LevelInfo,
		Keys: acc.keys, InsecureNoAuth: acc.open, AuditLogger: acc.audit,
		RateLimit:   handlers.RateLimit{Requests: cfg.RateLimit.Requests, Window: cfg.RateLimit.Window},
		CORS:        handlers.CORS{AllowedOrigins: cfg.CORS.AllowedOrigins, MaxAge: cfg.CORS.MaxAge},
		TimeZones:   zones,
		Idempotency: state.idem, RateLimits: state.limits, NotReady: state.notReady,
	})
	if err != nil {
		pool.Close(ctx)
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		pool.Close(ctx)
		return busyPort(cfg.Listen, err)
	}
	// Loading and wiring a large configuration (thousands of units) leaves megabytes of garbage
	// (YAML nodes, the spec's parse) that the runtime would hand back to the OS only slowly:
	// give it back before serving, so the resident size is what the gateway really holds.
	debug.FreeOSMemory()
	srv := newHTTPServer(cfg.Server, h, logger)
	// Event streams last until their client leaves: shutting down ends them first, so that
	// Shutdown's wait for requests in flight is not a wait for every SSE client.
	srv.RegisterOnShutdown(func() { closeEvents(evs, cfg.Server.ShutdownTimeout) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	ready.Store(true)
	logger.Info("listening", "addr", ln.Addr().String(), "units", len(units), "version", version)
	if sim != nil {
		try := "curl -H \"Authorization: Bearer $UCM_GATEWAY_KEY\" http://" + displayAddr(ln.Addr()) + "/v1/units/demo/extensions/1000"
		if acc.open {
			try = "curl http://" + displayAddr(ln.Addr()) + "/v1/units/demo/extensions/1000"
		}
		logger.Info("demo mode: unit \"demo\" is the built-in UCM simulator", "try", try, "simulator", sim.URL())
		printDemoBanner(stdout, acc, try, terminal)
	}

	select {
	case err := <-errc:
		pool.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	// The signal context is already cancelled; shutdown gets its own deadline.
	ready.Store(false)
	logger.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Server.ShutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	_ = hooks.Close(sctx) // healthy receivers get what is still queued, within the deadline
	_ = evs.Close(sctx)
	pool.Close(sctx)
	if shutErr != nil {
		return fmt.Errorf("shutdown: %w", shutErr)
	}
	logger.Info("stopped")
	return nil
}

// unitClientFor builds a unit's client from its settings, logging the TLS choices that weaken
// its protection. The TLS configuration is checked now and built at the unit's first
// connection (its API client's or its event socket's, which share it).
func unitClientFor(u config.Unit, logger *slog.Logger) (*ucm.Client, *ucm.TLSConfig, error) {
	if u.TLS.InsecureSkipVerify {
		logger.Warn("TLS verification is OFF for this unit (insecure_skip_verify): anyone on the path can read its password hash exchange and impersonate it; prefer pin_sha256 or ca_file", "unit", u.ID)
	}
	if u.TLS.LegacyRSAKex {
		logger.Warn("this unit is also offered TLS with RSA key exchange (legacy_rsa_kex), which has no forward secrecy; other units are not", "unit", u.ID)
	}
	tc, err := ucm.TLSOptions{CAPEM: u.TLS.CAPEM, PinSHA256: u.TLS.PinSHA256, InsecureSkipVerify: u.TLS.InsecureSkipVerify,
		LegacyRSAKeyExchange: u.TLS.LegacyRSAKex}.Lazy()
	if err != nil {
		return nil, nil, fmt.Errorf("unit %s: %w", u.ID, err)
	}
	client, err := ucm.NewClientTLS(u.URL, tc)
	if err != nil {
		return nil, nil, fmt.Errorf("unit %s: %w", u.ID, err)
	}
	return client, tc, nil
}

// closeEvents ends every event stream and stops every event source (idempotent).
func closeEvents(live *events.Set, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = live.Close(ctx)
}

// newHTTPServer applies the configured limits, so that slow or idle clients cannot hold
// connections: headers within read_header_timeout, the whole request within read_timeout, the
// answer within write_timeout, an idle keep-alive connection for idle_timeout.
func newHTTPServer(c config.Server, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// startDemo starts the simulator on a loopback port and returns a configuration with one unit,
// "demo", pinned to the simulator's certificate (verification stays on, as it should in
// production). A --config given with --demo is loaded and the demo unit added to it.
func startDemo(getenv func(string) string, configPath string) (*ucmsim.Server, *config.Config, func() (*config.Config, error), error) {
	password, webPassword := randomHex(12), randomHex(12)
	inbound := 60 * time.Second
	if v := getenv("UCM_GATEWAY_DEMO_INBOUND_EVERY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, nil, nil, fmt.Errorf("UCM_GATEWAY_DEMO_INBOUND_EVERY=%q: want a duration such as 30s, or 0 for no inbound calls", v)
		}
		inbound = d
	}
	// The demo unit has a web user for its event socket, so its live events come from the
	// WebSocket as on a real unit with units[].events, and Call Control on, so inbound calls
	// (one a minute, from the demo trunk) wait to be accepted, refused or deflected.
	unit := ucmsim.New(ucmsim.Config{Username: "api", Password: password, Seed: true, ApplyDuration: 500 * time.Millisecond,
		WebUsers: map[string]string{"events": webPassword}, CallControl: true, InboundCallEvery: inbound})
	// A caller waiting in the Support queue, so the call-center tour has someone to watch.
	if _, err := unit.AddQueueCaller("6500", "+15550002222", time.Now().Add(-40*time.Second)); err != nil {
		return nil, nil, nil, fmt.Errorf("demo: seed a queue caller: %w", err)
	}
	sim, err := ucmsim.Listen(unit, "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("demo: start simulator: %w", err)
	}
	doc := fmt.Sprintf("listen: 127.0.0.1:8080\nunits:\n  - id: demo\n    url: %s\n    username: api\n    password: ${UCM_DEMO_PASSWORD}\n    events:\n      username: events\n      password: ${UCM_DEMO_WEB_PASSWORD}\n    tls:\n      pin_sha256: %s\n", sim.URL(), sim.CertSHA256())
	env := func(k string) string {
		switch k {
		case "UCM_DEMO_PASSWORD":
			return password
		case "UCM_DEMO_WEB_PASSWORD":
			return webPassword
		}
		return getenv(k)
	}
	cfg, err := config.Load([]byte(doc), env, os.ReadFile)
	var reload func() (*config.Config, error)
	if err == nil && configPath != "" {
		// The file's keys and webhooks may name the demo unit: it is added before the file is
		// checked (and again at every reload).
		unit := doc[strings.Index(doc, "units:\n")+len("units:\n"):]
		reload = func() (*config.Config, error) { return config.LoadFileWithUnits(configPath, env, unit) }
		if cfg, err = reload(); err != nil {
			err = missingConfig(configPath, err)
		}
	}
	if err != nil {
		sim.Close()
		return nil, nil, nil, err
	}
	return sim, cfg, reload, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
	}
	return a.String()
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
