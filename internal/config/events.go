package config

import "time"

// Events tunes live events (SSE and webhooks) for every unit.
type Events struct {
	// PollInterval is how often a unit without an events user has its channel lists and extension
	// states read while anyone follows its events (default 2s, at least 500ms).
	PollInterval time.Duration `yaml:"poll_interval"`
	// BufferSize is how many recent events of each unit are kept for clients that resume with
	// Last-Event-ID (default 1000, 10..100000).
	BufferSize int `yaml:"buffer_size"`
	// MaxAge is how long they are kept (default 1h).
	MaxAge time.Duration `yaml:"max_age"`
	// Linger keeps a unit's event source running this long after its last subscriber left, so a
	// client that reconnects does not cost the unit a new login (default 30s; 0 keeps the default,
	// use 1ms to stop at once).
	Linger time.Duration `yaml:"linger"`
}

// EventsUser is the unit's web (GUI) user the gateway logs in with on the unit's live-event
// WebSocket; the API user cannot log in there (FACTS.md). It carries a secret: Unit's formatting
// methods never show it.
type EventsUser struct {
	Username string
	Password string
}

// fileEvents is units[].events as written.
type fileEvents struct {
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

func defaultEvents() Events {
	return Events{PollInterval: 2 * time.Second, BufferSize: 1000, MaxAge: time.Hour, Linger: 30 * time.Second}
}

func checkEvents(e Events, p *problems) {
	if p.ok("events.poll_interval") && e.PollInterval < 500*time.Millisecond {
		p.add("events.poll_interval", "%s is below 500ms: a UCM is a small appliance", e.PollInterval)
	}
	if p.ok("events.buffer_size") && (e.BufferSize < 10 || e.BufferSize > 100000) {
		p.add("events.buffer_size", "%d is not within 10..100000", e.BufferSize)
	}
	if p.ok("events.max_age") && e.MaxAge < time.Minute {
		p.add("events.max_age", "%s is below 1m", e.MaxAge)
	}
	if p.ok("events.linger") && e.Linger < 0 {
		p.add("events.linger", "must not be negative")
	}
}

// buildEventsUser validates a unit's events block; nil when the unit has none (it is polled).
func buildEventsUser(at string, f *fileEvents, readFile func(string) ([]byte, error), p *problems) *EventsUser {
	if f == nil {
		return nil
	}
	if f.Username == "" && p.ok(at+".username") {
		p.add(at+".username", "is required (a web user of the unit: the API user cannot log in to its event socket)")
	}
	return &EventsUser{Username: f.Username, Password: secret(at, f.Password, f.PasswordFile, readFile, p)}
}
