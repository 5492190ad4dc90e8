package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Unit is one UCM the gateway fronts, with its credentials resolved. It carries a secret, so it
// formats itself (fmt, %#v, slog, JSON) without the password: a stray log line must not leak it.
type Unit struct {
	// ID is the operator's slug, used in every URL: /v1/units/{id}.
	ID string
	// URL is the unit's base, "https://host[:port]" with no trailing slash; the gateway adds the
	// API path. A default port is not added.
	URL string
	// Username is the UCM API user the gateway logs in as.
	Username string
	// Password is the resolved secret, from "password" (after ${ENV} expansion) or the file named by
	// "password_file" (trailing newline trimmed).
	Password string
	// TLS says how the unit's certificate is verified.
	TLS TLS
	// Events is the web user for the unit's live-event socket; nil means its events are polled.
	Events *EventsUser
	// TimeZone is the zone the unit's clock is set to ("timezone", an IANA name; default UTC).
	// The UCM writes CDR and channel times as wall-clock time without a zone and reads its CDR
	// filters the same way, so the gateway needs it to read and write them; it is never nil.
	TimeZone *time.Location
}

// redactedPassword stands in for a password wherever a Unit is shown.
const redactedPassword = "REDACTED"

// Redacted returns a copy of u that is safe to show: the password is replaced by "REDACTED" (an
// empty password stays empty, so its absence is still visible).
func (u Unit) Redacted() Unit {
	if u.Password != "" {
		u.Password = redactedPassword
	}
	if u.Events != nil && u.Events.Password != "" {
		ev := *u.Events
		ev.Password = redactedPassword
		u.Events = &ev
	}
	return u
}

// String shows the unit without its password, for %v and %s.
func (u Unit) String() string {
	r := u.Redacted()
	return fmt.Sprintf("{ID:%s URL:%s Username:%s Password:%s TLS:{CAFile:%s PinSHA256:%s InsecureSkipVerify:%t LegacyRSAKex:%t}}",
		r.ID, r.URL, r.Username, r.Password, r.TLS.CAFile, r.TLS.PinSHA256, r.TLS.InsecureSkipVerify, r.TLS.LegacyRSAKex)
}

// GoString shows the unit without its password for %#v, which would otherwise bypass String.
func (u Unit) GoString() string {
	r := u.Redacted()
	return fmt.Sprintf("config.Unit{ID:%q, URL:%q, Username:%q, Password:%q, TLS:config.TLS{CAFile:%q, PinSHA256:%q, InsecureSkipVerify:%t, LegacyRSAKex:%t}}",
		r.ID, r.URL, r.Username, r.Password, r.TLS.CAFile, r.TLS.PinSHA256, r.TLS.InsecureSkipVerify, r.TLS.LegacyRSAKex)
}

// LogValue implements slog.LogValuer so a unit logged as an attribute never carries its password.
func (u Unit) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", u.ID),
		slog.String("url", u.URL),
		slog.String("username", u.Username),
		slog.Group("tls",
			slog.String("ca_file", u.TLS.CAFile),
			slog.String("pin_sha256", u.TLS.PinSHA256),
			slog.Bool("insecure_skip_verify", u.TLS.InsecureSkipVerify),
			slog.Bool("legacy_rsa_kex", u.TLS.LegacyRSAKex),
		),
	)
}

// MarshalJSON encodes the unit without its password. slog's JSON handler marshals any value that is
// not itself a LogValuer, such as a whole Config, so this is what keeps the secret out of those lines.
func (u Unit) MarshalJSON() ([]byte, error) {
	type tlsJSON struct {
		CAFile             string `json:"ca_file,omitempty"`
		PinSHA256          string `json:"pin_sha256,omitempty"`
		InsecureSkipVerify bool   `json:"insecure_skip_verify"`
		LegacyRSAKex       bool   `json:"legacy_rsa_kex,omitempty"`
	}
	return json.Marshal(struct {
		ID       string  `json:"id"`
		URL      string  `json:"url"`
		Username string  `json:"username"`
		TLS      tlsJSON `json:"tls"`
	}{u.ID, u.URL, u.Username, tlsJSON{u.TLS.CAFile, u.TLS.PinSHA256, u.TLS.InsecureSkipVerify, u.TLS.LegacyRSAKex}})
}
