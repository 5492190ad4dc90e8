package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// keyName is what audit lines show for a client.
var keyName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// keyHash is the stored form of an API key, as `ucm-gateway keygen` prints it.
var keyHash = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

var scopes = []string{"read", "write", "calls", "admin"}

// buildKeys checks the api_keys list against the configured units. No message quotes a hash: an
// operator who pasted a key where its hash belongs must not see it printed back into a log.
func buildKeys(keys []APIKey, units map[string]int, p *problems) []APIKey {
	names := map[string]int{}
	hashes := map[string]string{}
	out := make([]APIKey, 0, len(keys))
	for i, k := range keys {
		at := fmt.Sprintf("api_keys[%d]", i)
		switch {
		case !p.ok(at + ".name"):
		case k.Name == "":
			p.add(at+".name", "is required (it names the client in logs and audit lines)")
		case !keyName.MatchString(k.Name):
			p.add(at+".name", "%q must be 1 to 64 letters, digits, dots, hyphens or underscores", k.Name)
		default:
			if j, dup := names[k.Name]; dup {
				p.add(at+".name", "%q is already used by api_keys[%d]", k.Name, j)
			} else {
				names[k.Name] = i
			}
		}
		if len(k.Hashes) == 0 && p.ok(at+".hashes") {
			p.add(at+".hashes", "at least one hash is required (run `ucm-gateway keygen`)")
		}
		for j, h := range k.Hashes {
			hat := fmt.Sprintf("%s.hashes[%d]", at, j)
			if !p.ok(hat) {
				continue
			}
			h = strings.ToLower(h)
			k.Hashes[j] = h
			switch {
			case strings.HasPrefix(h, "ucmgw_"):
				p.add(hat, "is an API key, not its hash: store only the hash that `ucm-gateway keygen` prints, and treat this key as leaked (the value is not shown)")
			case !keyHash.MatchString(h):
				p.add(hat, `must be "sha256:" followed by 64 hex digits, as printed by ucm-gateway keygen (the value is not shown)`)
			default:
				if other, dup := hashes[h]; dup {
					p.add(hat, "is the same hash as %s: one key must belong to one client", other)
				} else {
					hashes[h] = hat
				}
			}
		}
		if len(k.Scopes) == 0 && p.ok(at+".scopes") {
			p.add(at+".scopes", "at least one of %s is required", strings.Join(scopes, ", "))
		}
		for j, s := range k.Scopes {
			if sat := fmt.Sprintf("%s.scopes[%d]", at, j); p.ok(sat) && !slices.Contains(scopes, s) {
				p.add(sat, "%q is not a scope (use %s)", s, strings.Join(scopes, ", "))
			}
		}
		checkKeyUnits(at+".units", k.Units, units, p)
		if k.RateLimit < 0 && p.ok(at+".rate_limit") {
			p.add(at+".rate_limit", "%d must be positive (or left out for rate_limit.requests)", k.RateLimit)
		}
		out = append(out, k)
	}
	return out
}

// checkKeyUnits refuses a unit id that is not configured: a typo would silently lock a client out.
func checkKeyUnits(at string, list []string, units map[string]int, p *problems) {
	if !p.ok(at) {
		return
	}
	if len(list) == 0 {
		p.add(at, `at least one unit id is required, or ["*"] for every unit`)
		return
	}
	if slices.Contains(list, "*") && len(list) > 1 {
		p.add(at, `"*" already means every unit: list it alone`)
		return
	}
	for j, u := range list {
		if _, ok := units[u]; !ok && u != "*" {
			p.add(fmt.Sprintf("%s[%d]", at, j), "%q is not a configured unit", u)
		}
	}
}

// buildCORS checks the origins: a browser compares them literally with its Origin header, so a
// path or a trailing slash would never match.
func buildCORS(c CORS, p *problems) CORS {
	for i, o := range c.AllowedOrigins {
		at := fmt.Sprintf("cors.allowed_origins[%d]", i)
		if !p.ok(at) {
			continue
		}
		if o == "*" {
			if len(c.AllowedOrigins) > 1 {
				p.add(at, `"*" already allows every origin: list it alone`)
			}
			continue
		}
		u, err := url.Parse(strings.Replace(o, "*", "wildcard", 1))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || strings.Count(o, "*") > 1 {
			p.add(at, `%q must be an origin such as "https://admin.example.com" or "http://localhost:3000" (no path, at most one "*")`, o)
		}
	}
	if p.ok("cors.max_age") && c.MaxAge < 0 {
		p.add("cors.max_age", "%s must not be negative", c.MaxAge)
	}
	return c
}

// checkRateLimit keeps the per-key budget usable.
func checkRateLimit(r RateLimit, p *problems) {
	if p.ok("rate_limit.requests") && r.Requests < 1 {
		p.add("rate_limit.requests", "%d must be positive", r.Requests)
	}
	if p.ok("rate_limit.window") && r.Window < time.Second {
		p.add("rate_limit.window", "%s must be at least 1s", r.Window)
	}
}
