package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
)

// fileWebhook is a webhook as written: the secret is named, not yet resolved.
type fileWebhook struct {
	Name                 string        `yaml:"name"`
	URL                  string        `yaml:"url"`
	Secret               string        `yaml:"secret"`
	SecretFile           string        `yaml:"secret_file"`
	Units                []string      `yaml:"units"`
	Types                []string      `yaml:"types"`
	Timeout              time.Duration `yaml:"timeout"`
	RetryFor             time.Duration `yaml:"retry_for"`
	QueueSize            int           `yaml:"queue_size"`
	SuspendAfterFailures int           `yaml:"suspend_after_failures"`
	SuspendAfter         time.Duration `yaml:"suspend_after"`
}

// buildWebhooks checks the webhooks list against the configured units (given in order). No
// message quotes a secret, or a URL's user info or query.
func buildWebhooks(list []fileWebhook, unitOrder []string, readFile func(string) ([]byte, error), p *problems) []Webhook {
	units := map[string]int{}
	for i, u := range unitOrder {
		units[u] = i
	}
	names := map[string]int{}
	out := make([]Webhook, 0, len(list))
	for i, f := range list {
		at := fmt.Sprintf("webhooks[%d]", i)
		switch {
		case !p.ok(at + ".name"):
		case f.Name == "":
			p.add(at+".name", "is required (it names the endpoint in logs, metrics and /v1/webhooks/{name})")
		case !keyName.MatchString(f.Name):
			p.add(at+".name", "%q must be 1 to 64 letters, digits, dots, hyphens or underscores", f.Name)
		default:
			if j, dup := names[f.Name]; dup {
				p.add(at+".name", "%q is already used by webhooks[%d]", f.Name, j)
			} else {
				names[f.Name] = i
			}
		}
		w := Webhook{
			Name:                 f.Name,
			URL:                  webhookURL(at+".url", f.URL, p),
			Secret:               webhookSecret(at, f, readFile, p),
			Units:                webhookUnits(at+".units", f.Units, units, unitOrder, p),
			Types:                webhookTypes(at+".types", f.Types, p),
			Timeout:              orDefault(p, at+".timeout", f.Timeout, defaultWebhookTimeout),
			RetryFor:             orDefault(p, at+".retry_for", f.RetryFor, defaultWebhookRetryFor),
			QueueSize:            orDefault(p, at+".queue_size", f.QueueSize, defaultWebhookQueueSize),
			SuspendAfterFailures: orDefault(p, at+".suspend_after_failures", f.SuspendAfterFailures, defaultWebhookSuspendFailed),
			SuspendAfter:         orDefault(p, at+".suspend_after", f.SuspendAfter, defaultWebhookSuspendAfter),
		}
		if p.ok(at+".timeout") && w.Timeout > 5*time.Minute {
			p.add(at+".timeout", "%s is too long: at most 5m (one hanging receiver holds its own queue that long)", w.Timeout)
		}
		if p.ok(at+".queue_size") && w.QueueSize > 100000 {
			p.add(at+".queue_size", "%d is too large: at most 100000 (the queue is held in memory)", w.QueueSize)
		}
		out = append(out, w)
	}
	return out
}

// orDefault takes a value left out (zero) as the default and refuses a negative one.
func orDefault[T int | time.Duration](p *problems, at string, v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0 && p.ok(at):
		p.add(at, "%v must be positive (or left out for the default %v)", v, def)
	}
	return v
}

// webhookURL checks the receiver's URL: https, or plain http only to a loopback host, where no
// network path can read the events or their signatures. User info and a query are allowed
// (receivers use them for their own authentication) but never shown.
func webhookURL(at, raw string, p *problems) string {
	if !p.ok(at) {
		return ""
	}
	if raw == "" {
		p.add(at, "is required (for example https://crm.example.com/hooks/ucm)")
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(raw, "://") {
		// url.Parse's error quotes the whole URL, which may carry a token.
		p.add(at, "is not a URL of the form https://host[:port]/path")
		return ""
	}
	shown := shownURL(raw)
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		p.add(at, "%q must use https", shown)
	case u.Hostname() == "":
		p.add(at, "%q has no host", shown)
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		p.add(at, "%q must use https (plain http is allowed only to a loopback receiver: localhost, 127.0.0.0/8, ::1)", shown)
	case u.Fragment != "":
		p.add(at, "%q must not have a #fragment (it is never sent)", shown)
	case !validPort(u.Port()):
		p.add(at, "%q has a port outside 1..65535", shown)
	default:
		return raw
	}
	return ""
}

// webhookSecret resolves the signing key from exactly one of secret and secret_file. Standard
// Webhooks secrets are "whsec_" and the key in base64; the prefix may be left out. No message
// here quotes the secret, whatever is wrong with it.
func webhookSecret(at string, f fileWebhook, readFile func(string) ([]byte, error), p *problems) []byte {
	var raw, where string
	switch {
	case f.Secret != "" && f.SecretFile != "":
		p.add(at, "set secret or secret_file, not both")
		return nil
	case f.SecretFile != "":
		data, err := readFile(f.SecretFile)
		if err != nil {
			p.add(at+".secret_file", "cannot read: %v", err)
			return nil
		}
		raw, where = strings.TrimRight(string(data), "\r\n"), at+".secret_file"
	case f.Secret != "":
		raw, where = f.Secret, at+".secret"
	default:
		if p.ok(at+".secret") && p.ok(at+".secret_file") {
			p.add(at, "secret or secret_file is required (a Standard Webhooks key: whsec_ followed by base64 of 24 to 64 random bytes)")
		}
		return nil
	}
	if strings.ContainsFunc(raw, unicode.IsSpace) {
		p.add(where, "holds a space, line break or control character (the value is not shown)")
		return nil
	}
	enc := strings.TrimPrefix(raw, "whsec_")
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(enc)
	}
	switch {
	case err != nil:
		p.add(where, "must be whsec_ followed by base64 (Standard Webhooks); it is not valid base64 (the value is not shown)")
	case len(key) < 24 || len(key) > 64:
		p.add(where, "decodes to %d bytes: a Standard Webhooks key has 24 to 64 (make one with: echo whsec_$(openssl rand -base64 32))", len(key))
	default:
		return key
	}
	return nil
}

// webhookUnits refuses a unit id that is not configured (a typo would silently send nothing) and
// expands "*" to every unit.
func webhookUnits(at string, list []string, units map[string]int, order []string, p *problems) []string {
	if !p.ok(at) {
		return nil
	}
	switch {
	case len(list) == 0:
		p.add(at, `at least one unit id is required, or ["*"] for every unit`)
		return nil
	case slices.Contains(list, "*") && len(list) > 1:
		p.add(at, `"*" already means every unit: list it alone`)
		return nil
	case list[0] == "*":
		return slices.Clone(order)
	}
	seen := map[string]bool{}
	for j, u := range list {
		uat := fmt.Sprintf("%s[%d]", at, j)
		if _, ok := units[u]; !ok {
			p.add(uat, "%q is not a configured unit", u)
		} else if seen[u] {
			p.add(uat, "%q is listed twice", u)
		}
		seen[u] = true
	}
	return list
}

// webhookTypes checks each pattern against the event types, so a misspelt type is found at start
// rather than by a receiver that never hears of it.
func webhookTypes(at string, list []string, p *problems) []string {
	for j, t := range list {
		tat := fmt.Sprintf("%s[%d]", at, j)
		if !p.ok(tat) {
			continue
		}
		if strings.TrimSpace(t) == "" || strings.Contains(t, ",") {
			p.add(tat, "%q must be one event type or pattern per entry", t)
			continue
		}
		if _, bad := events.ParseFilter([]string{t}); bad != "" {
			p.add(tat, "%q matches no event type (types: %s; a prefix pattern such as \"call.*\" is allowed)", t, strings.Join(events.Types, ", "))
		}
	}
	return list
}
