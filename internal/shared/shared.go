// Package shared connects the gateway's replicas to the Redis they share, so that many replicas
// behave as one gateway: unit sessions, Idempotency-Key outcomes, rate-limit counters (and the
// live-event log) live there. It owns the client, the key layout and the health of the link;
// each concern keeps its own small interface beside its owner (sessionpool, handlers, events),
// with an in-memory implementation for a single replica and a Redis one built on this package.
package shared

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
)

// Open returns a client for the configured Redis. It fails only on a configuration that cannot
// work (a CA file without certificates); a Redis that does not answer is logged (one line naming
// the address, never the password) and the client is returned anyway: go-redis reconnects on
// its own, so the replica recovers when Redis returns, and Health tells callers meanwhile.
func Open(ctx context.Context, cfg config.Redis, logger *slog.Logger) (redis.UniversalClient, error) {
	opts, err := Options(cfg, logger)
	if err != nil {
		return nil, err
	}
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout+cfg.OpTimeout)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		logger.Error("Redis is unreachable: shared state is degraded until it answers (see /readyz)",
			"addr", cfg.Addr, "tls", cfg.TLS.Enabled, "err", redactErr(err, cfg.Password))
	} else {
		logger.Info("connected to Redis: replicas share sessions, idempotency keys and rate limits",
			"addr", cfg.Addr, "db", cfg.DB, "key_prefix", cfg.KeyPrefix, "tls", cfg.TLS.Enabled)
	}
	return client, nil
}

// Options are the client options for the configured Redis, for a second client of the same
// server with settings of its own (the event fleet's, which must not retry); Open logs what
// there is to say about the server once.
func Options(cfg config.Redis, logger *slog.Logger) (*redis.Options, error) {
	if !cfg.Enabled() {
		return nil, errors.New("shared: redis is not configured (redis.addr or redis.url)")
	}
	opts := &redis.Options{
		Addr: cfg.Addr, Username: cfg.Username, Password: cfg.Password, DB: cfg.DB,
		DialTimeout: cfg.DialTimeout, ReadTimeout: cfg.OpTimeout, WriteTimeout: cfg.OpTimeout,
		// A request must not queue behind a dead Redis for its whole deadline.
		PoolTimeout: cfg.OpTimeout + cfg.DialTimeout,
		// Retries hide a failover but double the wait on a dead Redis; one is enough.
		MaxRetries: 1,
		// go-redis dials 5 times by default before a command fails: on a dead Redis that is
		// half a second per command.
		DialerRetries: 1,
		// CLIENT SETINFO is noise on older servers and proxies.
		DisableIdentity: true,
	}
	if cfg.TLS.Enabled {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLS.ServerName, InsecureSkipVerify: cfg.TLS.InsecureSkipVerify} //nolint:gosec // an explicit, logged choice
		if len(cfg.TLS.CAPEM) > 0 {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(cfg.TLS.CAPEM) {
				return nil, fmt.Errorf("shared: redis.tls.ca_file %q holds no usable certificate", cfg.TLS.CAFile)
			}
			tc.RootCAs = pool
		}
		if cfg.TLS.InsecureSkipVerify {
			logger.Warn("TLS verification of Redis is OFF (redis.tls.insecure_skip_verify): anyone on the path can read the shared state", "addr", cfg.Addr)
		}
		opts.TLSConfig = tc
	}
	return opts, nil
}

// redactErr keeps a password out of an error's text (an AUTH failure never quotes it, but a
// URL-shaped address might).
func redactErr(err error, password string) string {
	s := err.Error()
	if password != "" {
		s = strings.ReplaceAll(s, password, "REDACTED")
	}
	return s
}

// Keys builds the gateway's Redis keys under one prefix, so every key it writes is found (and
// can be removed) with one SCAN pattern. The layout:
//
//	<prefix>session:{<unit>}:cookie   the unit's encrypted cookie (sessionpool)
//	<prefix>session:{<unit>}:lock     the login lock (token)
//	<prefix>session:{<unit>}:stop     the login stop (wrong password, ban)
//	<prefix>session:{<unit>}:keepalive the keep-alive lease
//	<prefix>session:{<unit>}:backoff  a transient login failure's back-off
//	<prefix>idem:<sha256>             an Idempotency-Key's outcome (handlers)
//	<prefix>rate:<key name>:<window>  a rate-limit counter (handlers)
//	<prefix>events:…                  the live-event streams and leases (events)
//
// A unit's keys share a hash tag ({unit}), so a Lua script touching several of them works on a
// Redis Cluster too.
type Keys struct{ prefix string }

// NewKeys returns the key builder for a prefix (config.Redis.KeyPrefix).
func NewKeys(prefix string) Keys { return Keys{prefix: prefix} }

// Prefix is the prefix every key starts with.
func (k Keys) Prefix() string { return k.prefix }

// Key joins parts under the prefix with ':'.
func (k Keys) Key(parts ...string) string { return k.prefix + strings.Join(parts, ":") }

// Unit is the key of one of a unit's session records ("cookie", "lock", "stop", "keepalive").
func (k Keys) Unit(unit, what string) string { return k.prefix + "session:{" + unit + "}:" + what }

// ErrUnavailable is what a shared store returns when Redis cannot be used; callers decide per
// feature what that means (fail closed, or fall back to this replica's memory).
var ErrUnavailable = errors.New("shared state (Redis) is unavailable")

// Unavailable wraps a Redis failure as ErrUnavailable, keeping the cause for logs.
func Unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// ttl keeps a TTL at the millisecond Redis needs at least.
func ttl(d time.Duration) time.Duration { return max(d, time.Millisecond) }
