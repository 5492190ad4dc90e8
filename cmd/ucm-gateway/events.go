package main

import (
	"crypto/tls"
	"log/slog"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// liveEvents builds one hub per unit with its source: the unit's event WebSocket when it has an
// events user, else a poll loop. Nothing runs until someone subscribes.
func liveEvents(cfg *config.Config, pool *sessionpool.Pool, tlsConfs map[string]*tls.Config, logger *slog.Logger, m *metrics.Metrics) (*events.Set, map[string]*events.WebSocket, error) {
	hubs := make([]*events.Hub, 0, len(cfg.Units))
	sockets := map[string]*events.WebSocket{}
	for _, u := range cfg.Units {
		so := events.SourceOptions{Unit: u.ID, Upstream: pool, Logger: logger, Metrics: m, Location: u.TimeZone}
		var src events.Source
		if u.Events != nil {
			url, err := ucm.EventsURL(u.URL)
			if err != nil {
				return nil, nil, err
			}
			ws := events.NewWebSocket(so, events.WebSocketOptions{URL: url, TLS: tlsConfs[u.ID], Username: u.Events.Username, Password: u.Events.Password})
			sockets[u.ID], src = ws, ws
		} else {
			src = events.NewPoller(so, cfg.Events.PollInterval)
		}
		hubs = append(hubs, events.NewHub(u.ID, src, events.HubOptions{
			BufferSize: cfg.Events.BufferSize, MaxAge: cfg.Events.MaxAge, Linger: cfg.Events.Linger, Logger: logger, Metrics: m,
		}))
	}
	return events.NewSet(hubs...), sockets, nil
}

// upstream is the pool as the handlers see it; resetting a unit also lets its event socket log
// in again after a refused login, so one operator action clears both.
type upstream struct {
	*sessionpool.Pool
	sockets map[string]*events.WebSocket
}

func (u upstream) Reset(id string) (sessionpool.UnitStatus, error) {
	st, err := u.Pool.Reset(id)
	if err == nil {
		if ws := u.sockets[id]; ws != nil {
			ws.Reset()
		}
	}
	return st, err
}
