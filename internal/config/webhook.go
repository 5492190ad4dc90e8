package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
)

// Webhook is one receiver of the units' live events, with its signing key resolved. Its key and
// its URL's user info and query (where receivers often carry a token) are secrets, so it formats
// itself (fmt, %#v, slog, JSON) without them: a stray log line must not leak them.
type Webhook struct {
	// Name identifies the endpoint in logs, metrics and /v1/webhooks/{name}: [A-Za-z0-9._-]{1,64},
	// unique.
	Name string
	// URL is where events are POSTed: https, or http to a loopback host (localhost, 127.0.0.0/8,
	// ::1) for tests and local receivers. It may carry user info and a query; ShownURL hides them.
	URL string
	// Secret is the HMAC-SHA256 key: the base64 part of "whsec_<base64>" (Standard Webhooks),
	// decoded, 24 to 64 bytes.
	Secret []byte
	// Units are the configured unit ids whose events go to this endpoint, in configuration order
	// ("*" in the file is expanded to every unit).
	Units []string
	// Types are event type patterns ("call.*", "cdr.created"); empty means every type. sync events
	// are always sent.
	Types []string
	// Timeout bounds one delivery attempt (default 10s).
	Timeout time.Duration
	// RetryFor is how long one event is retried after its first attempt before the gateway gives
	// up on it (default 1h); time the endpoint spends suspended does not count.
	RetryFor time.Duration
	// QueueSize bounds the events waiting for this endpoint (default 1000); when it is full the
	// oldest is dropped.
	QueueSize int
	// SuspendAfterFailures suspends the endpoint after this many failed attempts in a row
	// (default 10), and SuspendAfter after failing for this long (default 30m), whichever comes
	// first.
	SuspendAfterFailures int
	SuspendAfter         time.Duration
}

// Webhook defaults. Ten failures in a row with the 1s…5m back-off take about 13 minutes, well
// inside RetryFor, so an outage suspends the endpoint with its events kept rather than giving
// them up one by one.
const (
	defaultWebhookTimeout       = 10 * time.Second
	defaultWebhookRetryFor      = time.Hour
	defaultWebhookQueueSize     = 1000
	defaultWebhookSuspendFailed = 10
	defaultWebhookSuspendAfter  = 30 * time.Minute
)

// ShownURL is the URL without user info, query or fragment: what logs and the API may show.
func (w Webhook) ShownURL() string { return shownURL(w.URL) }

func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// String shows the webhook without its secret or the hidden parts of its URL, for %v and %s.
func (w Webhook) String() string {
	return fmt.Sprintf("{Name:%s URL:%s Secret:%s Units:%v Types:%v Timeout:%s RetryFor:%s QueueSize:%d SuspendAfterFailures:%d SuspendAfter:%s}",
		w.Name, w.ShownURL(), redactedSecret(w.Secret), w.Units, w.Types, w.Timeout, w.RetryFor, w.QueueSize, w.SuspendAfterFailures, w.SuspendAfter)
}

// GoString is String for %#v, which would otherwise bypass it.
func (w Webhook) GoString() string { return "config.Webhook" + w.String() }

// LogValue keeps the secret out of slog lines.
func (w Webhook) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", w.Name), slog.String("url", w.ShownURL()),
		slog.Any("units", w.Units), slog.Any("types", w.Types))
}

// MarshalJSON encodes the webhook without its secret, for slog's JSON handler marshalling a whole
// Config.
func (w Webhook) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name  string   `json:"name"`
		URL   string   `json:"url"`
		Units []string `json:"units"`
		Types []string `json:"types,omitempty"`
	}{w.Name, w.ShownURL(), w.Units, w.Types})
}

func redactedSecret(s []byte) string {
	if len(s) == 0 {
		return ""
	}
	return redactedPassword
}

// isLoopbackHost is the one exception to https: a receiver on this machine, which no network
// path can read.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
