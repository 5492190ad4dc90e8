package config

import (
	"crypto/x509"
	"encoding/hex"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// unitID is the slug the REST paths carry: /v1/units/{unit}.
var unitID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// buildUnit validates one unit as written and resolves its secret and CA file.
func buildUnit(at string, f fileUnit, readFile func(string) ([]byte, error), p *problems) Unit {
	switch {
	case !p.ok(at + ".id"):
	case f.ID == "":
		p.add(at+".id", "is required")
	case !unitID.MatchString(f.ID):
		p.add(at+".id", "%q must be 1 to 63 lower-case letters, digits or hyphens, starting with a letter or digit (it appears in URLs)", f.ID)
	}
	if f.Username == "" && p.ok(at+".username") {
		p.add(at+".username", "is required")
	}
	return Unit{
		ID:       f.ID,
		URL:      unitURL(at+".url", f.URL, p),
		Username: f.Username,
		Password: password(at, f, readFile, p),
		TLS:      unitTLS(at+".tls", f.TLS, readFile, p),
		Events:   buildEventsUser(at+".events", f.Events, readFile, p),
		TimeZone: timeZone(at+".timezone", f.TimeZone, p),
	}
}

// timeZone resolves the unit's IANA zone name. "Local" is refused: it would be the gateway's
// own zone, which says nothing about the unit's clock (and a container's is UTC anyway).
func timeZone(at, name string, p *problems) *time.Location {
	if name == "" || !p.ok(at) {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" || strings.HasPrefix(name, "/") {
		p.add(at, "%q is not an IANA time zone name such as Europe/Berlin, America/New_York or UTC (the zone the unit's clock is set to)", name)
		return time.UTC
	}
	return loc
}

// unitURL checks that the URL is only https://host[:port] and returns it without a trailing slash.
// Messages show the URL redacted: an operator may have put credentials into it.
func unitURL(at, raw string, p *problems) string {
	if !p.ok(at) {
		return ""
	}
	if raw == "" {
		p.add(at, "is required (for example https://192.0.2.10:8089)")
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(raw, "://") {
		// url.Parse's error quotes the whole URL, which may carry a password.
		p.add(at, "is not a URL of the form https://host[:port]")
		return ""
	}
	shown := u.Redacted()
	switch {
	case u.User != nil:
		p.add(at, "must not carry a user name or password (use username and password or password_file)")
	case u.Scheme != "https":
		p.add(at, "%q must use https (the UCM serves its API only over HTTPS)", shown)
	case u.Hostname() == "":
		p.add(at, "%q has no host", shown)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		p.add(at, "%q must be only https://host[:port] (the gateway adds the API path)", shown)
	case !validPort(u.Port()):
		p.add(at, "%q has a port outside 1..65535", shown)
	default:
		return "https://" + u.Host
	}
	return ""
}

// validPort accepts an absent port (the scheme's default) or 1..65535.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// password resolves the unit's secret from exactly one of password and password_file. No message
// here quotes the secret, whatever is wrong with it.
func password(at string, f fileUnit, readFile func(string) ([]byte, error), p *problems) string {
	return secret(at, f.Password, f.PasswordFile, readFile, p)
}

// secret resolves a password given inline (after ${ENV} expansion) or as a file; messages never
// show it.
func secret(at, value, file string, readFile func(string) ([]byte, error), p *problems) string {
	switch {
	case value != "" && file != "":
		p.add(at, "set password or password_file, not both")
	case file != "":
		data, err := readFile(file)
		if err != nil {
			p.add(at+".password_file", "cannot read: %v", err)
			return ""
		}
		secret := strings.TrimRight(string(data), "\r\n")
		switch {
		case secret == "":
			p.add(at+".password_file", "%q is empty", file)
		case strings.ContainsFunc(secret, unicode.IsControl):
			p.add(at+".password_file", "%q holds more than one line or a control character (the content is not shown)", file)
		default:
			return secret
		}
	case value != "":
		if strings.ContainsFunc(value, unicode.IsControl) {
			p.add(at+".password", "contains a line break or other control character (the value is not shown)")
			return ""
		}
		return value
	case p.ok(at+".password") && p.ok(at+".password_file"):
		p.add(at, "password or password_file is required")
	}
	return ""
}

// unitTLS checks the unit's verification choice and reads its CA file, so a missing or wrong file
// stops the start rather than the first call to that unit.
func unitTLS(at string, f fileTLS, readFile func(string) ([]byte, error), p *problems) TLS {
	t := TLS{CAFile: f.CAFile, InsecureSkipVerify: f.InsecureSkipVerify, LegacyRSAKex: f.LegacyRSAKex}
	var chosen []string
	if f.CAFile != "" {
		chosen = append(chosen, "ca_file")
	}
	if f.PinSHA256 != "" {
		chosen = append(chosen, "pin_sha256")
	}
	switch {
	case f.InsecureSkipVerify && len(chosen) > 0:
		p.add(at, "insecure_skip_verify contradicts %s: verification cannot be both off and pinned to something", strings.Join(chosen, " and "))
	case len(chosen) > 1:
		p.add(at, "set ca_file or pin_sha256, not both")
	}
	if f.CAFile != "" {
		data, err := readFile(f.CAFile)
		switch {
		case err != nil:
			p.add(at+".ca_file", "cannot read: %v", err)
		case !x509.NewCertPool().AppendCertsFromPEM(data):
			p.add(at+".ca_file", "%q contains no PEM certificate", f.CAFile)
		default:
			t.CAPEM = data
		}
	}
	if f.PinSHA256 != "" {
		pin := strings.ToLower(strings.ReplaceAll(f.PinSHA256, ":", ""))
		if _, err := hex.DecodeString(pin); err != nil || len(pin) != 64 {
			p.add(at+".pin_sha256", "%q is not a SHA-256 as 64 hex digits (colons allowed)", f.PinSHA256)
		} else {
			t.PinSHA256 = pin
		}
	}
	return t
}
