package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/shared"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// eventFleet connects the live events to the configured Redis, so that replicas share each
// unit's events (nil without Redis: one replica, events in memory). It has a client of its own:
// every unit's follower and every webhook's reader of a unit waits in a blocking stream read on
// a connection, and the pool must have room for them and for the lease renewals besides, or a
// renewal would queue behind them and the lease lapse. It never retries a command by itself: an
// append whose answer was lost may have been applied, and sent again it would store the event
// twice under two ids; the hub restarts its source (with a sync) instead. stop closes the client.
func eventFleet(ctx context.Context, cfg *config.Config, logger *slog.Logger) (f *events.Fleet, stop func(), err error) {
	if !cfg.Redis.Enabled() {
		return nil, func() {}, nil
	}
	// A client of its own: every unit's follower and webhook reader holds a connection in a
	// blocking read, and a retried write whose reply was lost would store an event twice. The
	// server's state is logged once, by the shared client (openFleet).
	o, err := shared.Options(cfg.Redis, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	o.PoolSize = max(o.PoolSize, len(cfg.Units)*(1+len(cfg.Webhooks))+2*len(cfg.Units)+8)
	o.MaxRetries = -1
	client := redis.NewClient(o)
	f, err = events.NewFleet(events.FleetOptions{Client: client, Prefix: cfg.Redis.KeyPrefix, Logger: logger})
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	logger.Info("live events are shared through Redis: one replica runs each unit's source, any replica serves its streams", "replica", f.Replica())
	return f, func() { _ = client.Close() }, nil
}

// liveEvents builds one hub per unit with its source: the unit's event WebSocket when it has an
// events user, else a poll loop. Nothing runs until someone subscribes. With a fleet, the hubs
// share their events with the other replicas (see events.Fleet).
func liveEvents(cfg *config.Config, pool *sessionpool.Pool, tlsConfs map[string]*ucm.TLSConfig, fleet *events.Fleet, logger *slog.Logger, m *metrics.Metrics) (*events.Set, *socketSet, error) {
	hubs := make([]*events.Hub, 0, len(cfg.Units))
	sockets := &socketSet{byUnit: map[string]*events.WebSocket{}}
	for _, u := range cfg.Units {
		h, ws, err := unitHub(cfg.Events, u, pool, tlsConfs[u.ID], fleet, logger, m)
		if err != nil {
			return nil, nil, err
		}
		hubs = append(hubs, h)
		sockets.byUnit[u.ID] = ws
	}
	return events.NewSet(hubs...), sockets, nil
}

// unitHub is one unit's hub and, when the unit has an events user, its WebSocket source (nil
// otherwise), which a reset of the unit must reach.
func unitHub(ec config.Events, u config.Unit, pool *sessionpool.Pool, tc *ucm.TLSConfig, fleet *events.Fleet, logger *slog.Logger, m *metrics.Metrics) (*events.Hub, *events.WebSocket, error) {
	so := events.SourceOptions{Unit: u.ID, Upstream: pool, Logger: logger, Metrics: m, Location: u.TimeZone}
	var src events.Source
	var ws *events.WebSocket
	if u.Events != nil {
		url, err := ucm.EventsURL(u.URL)
		if err != nil {
			return nil, nil, err
		}
		ws = events.NewWebSocket(so, events.WebSocketOptions{URL: url, TLS: tc, Username: u.Events.Username, Password: u.Events.Password})
		src = ws
	} else {
		src = events.NewPoller(so, ec.PollInterval)
	}
	return events.NewHub(u.ID, src, events.HubOptions{
		BufferSize: ec.BufferSize, MaxAge: ec.MaxAge, Linger: ec.Linger, Logger: logger, Metrics: m, Fleet: fleet,
	}), ws, nil
}

// socketSet is the units' WebSocket sources, which a reload replaces with their hubs.
type socketSet struct {
	mu     sync.RWMutex
	byUnit map[string]*events.WebSocket
}

func (s *socketSet) get(unit string) *events.WebSocket {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byUnit[unit]
}

func (s *socketSet) swap(next map[string]*events.WebSocket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byUnit = next
}

type upstream struct {
	*sessionpool.Pool
	sockets *socketSet
}

func (u upstream) Reset(id string) (sessionpool.UnitStatus, error) {
	st, err := u.Pool.Reset(id)
	if err == nil {
		if ws := u.sockets.get(id); ws != nil {
			ws.Reset()
		}
	}
	return st, err
}
