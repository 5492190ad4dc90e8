package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/config"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/handlers"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/webhooks"
)

// reloader re-reads the configuration on SIGHUP or POST /v1/admin/reload, as Prometheus and its
// exporters do. The whole file is checked first; only a file that loads is swapped in: units
// (sessions of unchanged units survive), their live-event hubs (an added or changed unit gets a
// new one; streams of a removed or changed unit end, and their clients reconnect), webhooks, API
// keys and rate limits. The rest needs a restart and is named when it changed. Requests in flight
// finish on the settings they started with.
type reloader struct {
	load func() (*config.Config, error) // nil: nothing to reload (--demo alone)
	pool *sessionpool.Pool
	live *handlers.Live
	demo string // the demo key, kept across reloads
	open bool   // --insecure-no-auth: no keys at all
	// demoSim: the unit "demo" is this process's own simulator, so its session is never shared.
	demoSim bool
	logger  *slog.Logger
	m       *metrics.Metrics

	// The live events: hubs and their sockets, the fleet they share, the webhooks that follow
	// them, and how long an old hub or webhook service may take to stop.
	evs          *events.Set
	sockets      *socketSet
	fleet        *events.Fleet
	hooks        *hookHolder
	closeTimeout time.Duration

	mu      sync.Mutex
	cur     *config.Config
	clients map[string]unitClient // unit id -> its client, reused while the unit's settings stay
}

// unitClient is a unit's client and the settings it was built from.
type unitClient struct {
	unit   config.Unit
	client *ucm.Client
	tls    *ucm.TLSConfig
}

// reload loads, checks and swaps; it reports what changed, or why nothing did.
func (r *reloader) reload(_ context.Context) (handlers.ReloadResult, error) {
	if r.load == nil {
		return handlers.ReloadResult{}, errors.New("no configuration file to reload")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	res, err := r.apply()
	if err != nil {
		r.m.ConfigReloadSuccess.Set(0)
		var ce *config.Error
		if errors.As(err, &ce) {
			r.logger.Error("configuration reload failed: nothing changed", "problems", ce.Problems)
			return res, &handlers.ConfigError{Problems: ce.Problems}
		}
		r.logger.Error("configuration reload failed: nothing changed", "err", err)
		return res, &handlers.ConfigError{Problems: []string{err.Error()}}
	}
	r.m.ConfigReloadSuccess.Set(1)
	r.m.ConfigReloadTime.Set(float64(res.At.Unix()))
	r.logger.Info("configuration reloaded", "units_added", res.Added, "units_removed", res.Removed, "units_changed", res.Changed,
		"units_unchanged", len(res.Unchanged), "api_keys", res.APIKeys, "restart_required", res.RestartRequired)
	return res, nil
}

func (r *reloader) apply() (handlers.ReloadResult, error) {
	cfg, err := r.load()
	if err != nil {
		return handlers.ReloadResult{}, err
	}
	ring, err := keyring(cfg, r.demo, r.open)
	if err != nil {
		return handlers.ReloadResult{}, err
	}
	// Every unit's client is built before anything is swapped, so a unit that cannot be set up
	// (a CA file that went bad) leaves the running configuration alone.
	clients := make(map[string]unitClient, len(cfg.Units))
	units := make([]sessionpool.UnitConfig, 0, len(cfg.Units))
	var fresh []*ucm.Client
	for _, u := range cfg.Units {
		uc, ok := r.clients[u.ID]
		if !ok || !sameUnitSettings(uc.unit, u) {
			c, tc, err := unitClientFor(u, r.logger)
			if err != nil {
				for _, f := range fresh {
					f.CloseIdle()
				}
				return handlers.ReloadResult{}, err
			}
			fresh = append(fresh, c)
			uc = unitClient{unit: u, client: c, tls: tc}
		}
		clients[u.ID] = uc
		units = append(units, sessionpool.UnitConfig{ID: u.ID, URL: u.URL, Username: u.Username, Password: u.Password, Client: uc.client,
			Private: r.demoSim && u.ID == "demo"})
	}
	ch, err := r.pool.Update(units)
	if err != nil {
		return handlers.ReloadResult{}, err
	}
	zones := make(map[string]*time.Location, len(cfg.Units))
	for _, u := range cfg.Units {
		zones[u.ID] = u.TimeZone
	}
	if err := r.swapEvents(cfg, clients, ch); err != nil {
		return handlers.ReloadResult{}, err
	}
	r.live.Swap(handlers.LiveSettings{Keys: ring, RateLimit: handlers.RateLimit{Requests: cfg.RateLimit.Requests, Window: cfg.RateLimit.Window}, TimeZones: zones})
	for id, uc := range r.clients {
		if clients[id].client != uc.client {
			uc.client.CloseIdle()
		}
	}
	res := handlers.ReloadResult{At: time.Now(), Added: ch.Added, Removed: ch.Removed, Changed: ch.Changed, Unchanged: ch.Unchanged,
		APIKeys: len(cfg.APIKeys), RestartRequired: restartRequired(r.cur, cfg)}
	r.cur, r.clients = cfg, clients
	return res, nil
}

// restartRequired names the settings that changed but are read only at start.
func restartRequired(old, cfg *config.Config) []string {
	var out []string
	for _, c := range []struct {
		name     string
		old, new any
	}{
		{"listen", old.Listen, cfg.Listen}, {"log_level", old.LogLevel, cfg.LogLevel}, {"server", old.Server, cfg.Server},
		{"session", old.Session, cfg.Session}, {"cors", old.CORS, cfg.CORS}, {"redis", old.Redis, cfg.Redis},
		{"events", old.Events, cfg.Events},
	} {
		if !reflect.DeepEqual(c.old, c.new) {
			out = append(out, c.name)
		}
	}
	return out
}

// swapEvents gives every added or changed unit a new hub, keeps the hubs of unchanged units
// (their streams and sources go on), and, when the units or the webhooks changed, starts a new
// webhook service on the new hubs before the old one stops: an event in between may reach a
// receiver twice, under the same webhook-id, never not at all. The old service and the hubs no
// longer used stop in the background, within the shutdown timeout.
func (r *reloader) swapEvents(cfg *config.Config, clients map[string]unitClient, ch sessionpool.Changes) error {
	if r.evs == nil {
		return nil
	}
	renew := make(map[string]bool, len(ch.Added)+len(ch.Changed))
	for _, id := range append(append([]string(nil), ch.Added...), ch.Changed...) {
		renew[id] = true
	}
	hubs := make([]*events.Hub, 0, len(cfg.Units))
	sockets := make(map[string]*events.WebSocket, len(cfg.Units))
	var made []*events.Hub
	for _, u := range cfg.Units {
		if h := r.evs.Hub(u.ID); h != nil && !renew[u.ID] {
			hubs = append(hubs, h)
			sockets[u.ID] = r.sockets.get(u.ID)
			continue
		}
		h, ws, err := unitHub(cfg.Events, u, r.pool, clients[u.ID].tls, r.fleet, r.logger, r.m)
		if err != nil {
			_ = events.CloseHubs(context.Background(), made)
			return err
		}
		made = append(made, h)
		hubs = append(hubs, h)
		sockets[u.ID] = ws
	}
	gone := r.evs.Swap(hubs)
	r.sockets.swap(sockets)
	var oldHooks *webhooks.Service
	if len(gone) > 0 || len(made) > 0 || !reflect.DeepEqual(r.cur.Webhooks, cfg.Webhooks) {
		svc, err := startWebhooks(cfg, r.evs, r.logger, r.m)
		if err != nil { // the configuration was checked: this is a bug worth the log, not a stop
			r.logger.Error("webhooks not restarted after the reload; the previous ones go on", "err", err)
		} else {
			oldHooks = r.hooks.swap(svc)
		}
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), r.closeTimeout)
		defer cancel()
		if oldHooks != nil {
			_ = oldHooks.Close(ctx)
		}
		_ = events.CloseHubs(ctx, gone)
	}()
	return nil
}

// sameUnitSettings: everything the unit's client and session are built from is the same, so
// its session may be kept.
func sameUnitSettings(a, b config.Unit) bool {
	return a.URL == b.URL && a.Username == b.Username && a.Password == b.Password &&
		a.TLS.PinSHA256 == b.TLS.PinSHA256 && a.TLS.InsecureSkipVerify == b.TLS.InsecureSkipVerify &&
		a.TLS.LegacyRSAKex == b.TLS.LegacyRSAKex && bytes.Equal(a.TLS.CAPEM, b.TLS.CAPEM) &&
		reflect.DeepEqual(a.Events, b.Events) && a.TimeZone.String() == b.TimeZone.String()
}

// onSIGHUP reloads on every SIGHUP until ctx ends; the caller waits for the returned channel.
func (r *reloader) onSIGHUP(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer close(done)
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				r.logger.Info("SIGHUP: reloading the configuration")
				_, _ = r.reload(ctx) // the outcome is logged and in the metrics
			}
		}
	}()
	return done
}

// close lets go of the clients' idle connections.
func (r *reloader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, uc := range r.clients {
		uc.client.CloseIdle()
	}
}

// keyring builds the API keys of cfg, with the demo key when there is one.
func keyring(cfg *config.Config, demoKey string, open bool) (*auth.Keyring, error) {
	if open {
		return nil, nil
	}
	keys := configKeys(cfg)
	if demoKey != "" {
		keys = append(keys, auth.Key{Name: "demo", Hashes: []string{auth.Hash(demoKey)}, Scopes: auth.AllScopes, Units: []string{"demo"}})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("api_keys: no keys left: the gateway would be open to anyone who can reach it")
	}
	return auth.NewKeyring(keys)
}
