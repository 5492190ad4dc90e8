package config

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// build validates the decoded file and resolves it into a Config, adding every problem it finds.
func build(f fileConfig, readFile func(string) ([]byte, error), p *problems) *Config {
	cfg := &Config{
		Listen:   f.Listen,
		LogLevel: strings.ToLower(f.LogLevel),
		Session:  f.Session,
		Server:   f.Server,
		Metrics:  f.Metrics,
	}
	checkListen(cfg.Listen, p)
	if p.ok("log_level") && !validLogLevel(cfg.LogLevel) {
		p.add("log_level", "%q is not one of debug, info, warn, error", f.LogLevel)
	}
	checkSession(cfg.Session, p)
	checkServer(cfg.Server, cfg.Session, p)

	if len(f.Units) == 0 && p.ok("units") {
		p.add("units", "at least one unit is required")
	}
	firstUse := map[string]int{}
	var unitOrder []string
	for i, fu := range f.Units {
		at := fmt.Sprintf("units[%d]", i)
		u := buildUnit(at, fu, readFile, p)
		if j, dup := firstUse[u.ID]; dup && u.ID != "" {
			p.add(at+".id", "%q is already used by units[%d]", u.ID, j)
		} else {
			firstUse[u.ID] = i
			unitOrder = append(unitOrder, u.ID)
		}
		cfg.Units = append(cfg.Units, u)
	}
	cfg.APIKeys = buildKeys(f.APIKeys, firstUse, p)
	cfg.CORS = buildCORS(f.CORS, p)
	cfg.RateLimit = f.RateLimit
	checkRateLimit(cfg.RateLimit, p)
	cfg.Events = f.Events
	checkEvents(cfg.Events, p)
	cfg.Webhooks = buildWebhooks(f.Webhooks, unitOrder, readFile, p)
	cfg.Redis = buildRedis(f.Redis, readFile, p)
	return cfg
}

// checkListen catches the common slip of writing "8080" for ":8080" at load time, not at bind time.
func checkListen(listen string, p *problems) {
	if !p.ok("listen") {
		return
	}
	if listen == "" {
		p.add("listen", `must not be empty (for example ":8080")`)
		return
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		p.add("listen", `%q is not host:port (for example ":8080" or "127.0.0.1:8080")`, listen)
	}
}

// validLogLevel accepts the slog levels by name.
func validLogLevel(level string) bool {
	switch level {
	case "debug", "info", "warn", "error":
		return true
	}
	return false
}

// checkSession keeps the timeouts in an order that works: keep-alive needs room before the cookie
// lapses, and an apply must be allowed at least as long as an ordinary call.
func checkSession(s Session, p *problems) {
	positive(p, "session.idle_timeout", s.IdleTimeout)
	positive(p, "session.request_timeout", s.RequestTimeout)
	positive(p, "session.apply_timeout", s.ApplyTimeout)
	if p.ok("session.idle_timeout") && s.IdleTimeout > 0 && s.IdleTimeout < 30*time.Second {
		p.add("session.idle_timeout", "%s is too short: at least 30s, so keep-alive can run before the UCM drops the cookie", s.IdleTimeout)
	}
	if p.ok("session.apply_timeout") && p.ok("session.request_timeout") && s.ApplyTimeout < s.RequestTimeout {
		p.add("session.apply_timeout", "%s must be at least session.request_timeout (%s)", s.ApplyTimeout, s.RequestTimeout)
	}
	if p.ok("session.list_freshness") && (s.ListFreshness < 0 || s.ListFreshness > time.Minute) {
		p.add("session.list_freshness", "%s is outside 0..1m (0 disables the window)", s.ListFreshness)
	}
	if p.ok("session.max_in_flight") && (s.MaxInFlight < 1 || s.MaxInFlight > 256) {
		p.add("session.max_in_flight", "%d is outside 1..256", s.MaxInFlight)
	}
	checkProtection(s, p)
}

// checkProtection keeps the per-unit protections meaningful: a call must fit in its request, a
// request must outlast its wait for a slot, and the breaker must open after a sane run of
// failures for a period that can grow.
func checkProtection(s Session, p *problems) {
	positive(p, "session.call_timeout", s.CallTimeout)
	positive(p, "session.slot_wait", s.SlotWait)
	positive(p, "session.breaker_open", s.BreakerOpen)
	positive(p, "session.breaker_open_max", s.BreakerOpenMax)
	if p.ok("session.call_timeout") && p.ok("session.request_timeout") && s.CallTimeout > s.RequestTimeout {
		p.add("session.call_timeout", "%s must be at most session.request_timeout (%s), which bounds the whole request", s.CallTimeout, s.RequestTimeout)
	}
	if p.ok("session.slot_wait") && p.ok("session.request_timeout") && s.SlotWait > 0 && s.SlotWait >= s.RequestTimeout {
		p.add("session.slot_wait", "%s must be shorter than session.request_timeout (%s), or a request may spend its whole deadline waiting", s.SlotWait, s.RequestTimeout)
	}
	if p.ok("session.breaker_failures") && (s.BreakerFailures < 1 || s.BreakerFailures > 100) {
		p.add("session.breaker_failures", "%d is outside 1..100", s.BreakerFailures)
	}
	if p.ok("session.breaker_open") && p.ok("session.breaker_open_max") && s.BreakerOpen > 0 && s.BreakerOpenMax < s.BreakerOpen {
		p.add("session.breaker_open_max", "%s must be at least session.breaker_open (%s)", s.BreakerOpenMax, s.BreakerOpen)
	}
}

// checkServer keeps the server's limits positive and its write timeout beyond the longest UCM call,
// or an apply that succeeds on the unit would reach the client as a cut connection.
func checkServer(s Server, sess Session, p *problems) {
	positive(p, "server.read_header_timeout", s.ReadHeaderTimeout)
	positive(p, "server.read_timeout", s.ReadTimeout)
	positive(p, "server.write_timeout", s.WriteTimeout)
	positive(p, "server.idle_timeout", s.IdleTimeout)
	positive(p, "server.shutdown_timeout", s.ShutdownTimeout)
	if p.ok("server.write_timeout") && p.ok("session.apply_timeout") && s.WriteTimeout > 0 && s.WriteTimeout <= sess.ApplyTimeout {
		p.add("server.write_timeout", "%s must exceed session.apply_timeout (%s), or the reply to an apply is cut off", s.WriteTimeout, sess.ApplyTimeout)
	}
	if p.ok("server.max_body_bytes") && s.MaxBodyBytes <= 0 {
		p.add("server.max_body_bytes", "%d must be positive", s.MaxBodyBytes)
	}
}

// positive reports a zero or negative duration, which would make a timeout fire at once.
func positive(p *problems, path string, d time.Duration) {
	if p.ok(path) && d <= 0 {
		p.add(path, "%s must be positive", d)
	}
}
