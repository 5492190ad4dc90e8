package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// unitYAML is a valid units list to prepend other keys to.
const unitYAML = `
units:
  - id: hq
    url: https://192.0.2.10:8089
    username: api
    password: pw
`

func TestLoad(t *testing.T) {
	cert := testCertPEM(t)
	files := map[string][]byte{
		"/run/secrets/hq":   []byte("from-file\n"),
		"/run/secrets/crlf": []byte("from-file\r\n"),
		"/run/secrets/two":  []byte("line1\nSECRET-line2\n"),
		"/run/secrets/nl":   []byte("\n"),
		"/etc/ucm/hq.pem":   cert,
		"/etc/ucm/bad.pem":  []byte("not a certificate\n"),
	}
	tests := []struct {
		name         string
		yaml         string
		env          map[string]string
		wantProblems []string // substrings, one per expected problem, in any order
		notWant      string   // must not appear in the error text
		check        func(t *testing.T, c *Config)
	}{
		{
			name: "minimal config gets defaults",
			yaml: unitYAML,
			check: func(t *testing.T, c *Config) {
				want := defaults()
				if c.Listen != ":8080" || c.LogLevel != "info" || c.Session != want.Session || c.Server != want.Server {
					t.Errorf("Load(minimal) = %+v; want the defaults %+v", c, want)
				}
				if c.Session.ApplyTimeout != 90*time.Second || c.Server.MaxBodyBytes != 1<<20 {
					t.Errorf("defaults: apply %s, max body %d", c.Session.ApplyTimeout, c.Server.MaxBodyBytes)
				}
				u := c.Units[0]
				if len(c.Units) != 1 || u.ID != "hq" || u.URL != "https://192.0.2.10:8089" || u.Username != "api" || u.Password != "pw" {
					t.Errorf("Units = %#v (password %q)", c.Units, u.Password)
				}
			},
		},
		{
			name: "every setting given",
			yaml: `
listen: 127.0.0.1:9090
log_level: DEBUG
session: {idle_timeout: 5m, request_timeout: "20s", call_timeout: 12s, apply_timeout: 2m, max_in_flight: "4",
  slot_wait: 1500ms, breaker_failures: 3, breaker_open: 1s, breaker_open_max: 30s, list_freshness: 0s,
  contact_at_start: false}
server:
  read_header_timeout: 1s
  read_timeout: 2s
  write_timeout: 3m
  idle_timeout: 4s
  shutdown_timeout: 5s
  max_body_bytes: 2048
` + unitYAML,
			check: func(t *testing.T, c *Config) {
				wantSession := Session{IdleTimeout: 5 * time.Minute, RequestTimeout: 20 * time.Second, CallTimeout: 12 * time.Second,
					ApplyTimeout: 2 * time.Minute, MaxInFlight: 4, SlotWait: 1500 * time.Millisecond,
					BreakerFailures: 3, BreakerOpen: time.Second, BreakerOpenMax: 30 * time.Second, ListFreshness: 0, ContactAtStart: false}
				wantServer := Server{ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Minute,
					IdleTimeout: 4 * time.Second, ShutdownTimeout: 5 * time.Second, MaxBodyBytes: 2048}
				if c.Listen != "127.0.0.1:9090" || c.LogLevel != "debug" || c.Session != wantSession || c.Server != wantServer {
					t.Errorf("Load = %+v; want session %+v server %+v", c, wantSession, wantServer)
				}
			},
		},
		{
			name: "env expansion in strings and numbers",
			yaml: `
session:
  max_in_flight: ${N}
units:
  - id: hq
    url: https://${HOST}:8089/
    username: ${USER_NAME}
    password: ${UCM_HQ_PASSWORD}
`,
			env: map[string]string{"N": "3", "HOST": "ucm.example", "USER_NAME": "api", "UCM_HQ_PASSWORD": "s3cret"},
			check: func(t *testing.T, c *Config) {
				u := c.Units[0]
				if c.Session.MaxInFlight != 3 || u.URL != "https://ucm.example:8089" || u.Username != "api" || u.Password != "s3cret" {
					t.Errorf("expanded = max_in_flight %d, %v, password %q", c.Session.MaxInFlight, u, u.Password)
				}
			},
		},
		{
			name: "a unit's time zone, UTC by default",
			yaml: `
units:
  - id: hq
    url: https://ucm
    username: api
    password: pw
    timezone: America/New_York
  - id: branch
    url: https://ucm2
    username: api
    password: pw
`,
			check: func(t *testing.T, c *Config) {
				if got := c.Units[0].TimeZone.String(); got != "America/New_York" {
					t.Errorf("units[0].TimeZone = %s; want America/New_York", got)
				}
				if got := c.Units[1].TimeZone; got != time.UTC {
					t.Errorf("units[1].TimeZone = %v; want UTC when not set", got)
				}
			},
		},
		{
			name: "time zones that are not IANA names",
			yaml: `
units:
  - id: hq
    url: https://ucm
    username: api
    password: pw
    timezone: CEST
  - id: b
    url: https://ucm
    username: api
    password: pw
    timezone: Local
  - id: c
    url: https://ucm
    username: api
    password: pw
    timezone: /etc/localtime
`,
			wantProblems: []string{`units[0].timezone: "CEST" is not an IANA time zone name`, `units[1].timezone: "Local" is not`, `units[2].timezone: "/etc/localtime" is not`},
		},
		{
			name: "expanded secret is never re-read as YAML",
			yaml: "units:\n  - id: hq\n    url: https://ucm\n    username: api\n    password: ${PW}\n",
			env:  map[string]string{"PW": `a #b: c, "d' *e`},
			check: func(t *testing.T, c *Config) {
				if got := c.Units[0].Password; got != `a #b: c, "d' *e` {
					t.Errorf("password = %q; want it byte for byte", got)
				}
			},
		},
		{
			name: "dollar in a password survives",
			yaml: `
units:
  - id: hq
    url: https://ucm
    username: api
    password: pa$$word$ $HOME $
`,
			check: func(t *testing.T, c *Config) {
				if got := c.Units[0].Password; got != "pa$$word$ $HOME $" {
					t.Errorf("password = %q; want %q", got, "pa$$word$ $HOME $")
				}
			},
		},
		{
			name: "$${ escapes a literal ${",
			yaml: `
units:
  - id: hq
    url: https://ucm
    username: api
    password: x$${PW}y
`,
			env: map[string]string{"PW": "expanded"},
			check: func(t *testing.T, c *Config) {
				if got := c.Units[0].Password; got != "x${PW}y" {
					t.Errorf("password = %q; want %q", got, "x${PW}y")
				}
			},
		},
		{
			name: "missing env var",
			yaml: `
units:
  - id: hq
    url: https://ucm
    username: api
    password: ${UCM_HQ_PASSWORD}
`,
			wantProblems: []string{"units[0].password: ${UCM_HQ_PASSWORD} is not set in the environment"},
		},
		{
			name: "not a ${NAME} reference",
			yaml: `
units:
  - id: hq
    url: https://ucm
    username: api
    password: ${PW:-default}
`,
			wantProblems: []string{`units[0].password: has a "${" that is not a ${NAME} reference`},
		},
		{
			name: "password_file with trailing newline",
			yaml: `
units:
  - id: hq
    url: https://ucm
    username: api
    password_file: /run/secrets/hq
  - id: branch
    url: https://ucm2
    username: api
    password_file: /run/secrets/crlf
`,
			check: func(t *testing.T, c *Config) {
				if c.Units[0].Password != "from-file" || c.Units[1].Password != "from-file" {
					t.Errorf("passwords = %q, %q; want %q", c.Units[0].Password, c.Units[1].Password, "from-file")
				}
			},
		},
		{
			name: "password_file problems",
			yaml: `
units:
  - {id: a, url: https://ucm, username: api, password_file: /run/secrets/missing}
  - {id: b, url: https://ucm, username: api, password_file: /run/secrets/nl}
  - {id: c, url: https://ucm, username: api, password_file: /run/secrets/two}
`,
			wantProblems: []string{
				"units[0].password_file: cannot read: open /run/secrets/missing: file does not exist",
				`units[1].password_file: "/run/secrets/nl" is empty`,
				`units[2].password_file: "/run/secrets/two" holds more than one line`,
			},
			notWant: "SECRET",
		},
		{
			name: "password and password_file",
			yaml: `
units:
  - id: hq
    url: https://ucm
    username: api
    password: pw
    password_file: /run/secrets/hq
`,
			wantProblems: []string{"units[0]: set password or password_file, not both"},
		},
		{
			name:         "neither password nor password_file",
			yaml:         "units:\n  - {id: hq, url: https://ucm, username: api}\n",
			wantProblems: []string{"units[0]: password or password_file is required"},
		},
		{
			name: "unknown keys",
			yaml: `
lissen: ":80"
units:
  - id: hq
    url: https://ucm
    username: api
    pasword: pw
    tls: {pin: x}
`,
			wantProblems: []string{
				`line 2: unknown key "lissen" (known keys: listen, log_level, units, session, server, api_keys, cors, rate_limit`,
				`line 7: units[0]: unknown key "pasword"`,
				`line 8: units[0].tls: unknown key "pin" (known keys: ca_file, pin_sha256, insecure_skip_verify, legacy_rsa_kex)`,
				"units[0]: password or password_file is required",
			},
		},
		{
			name: "wrong types",
			yaml: `
session:
  max_in_flight: lots
  apply_timeout: 90
server: [1, 2]
units:
  - id: hq
    url: [https://ucm]
    username: api
    password: {a: b}
    tls:
      insecure_skip_verify: maybe
`,
			wantProblems: []string{
				`line 3: session.max_in_flight: must be a whole number, not "lots"`,
				`line 4: session.apply_timeout: must be a duration such as "90s" or "10m", not "90"`,
				"line 5: server: must be a mapping of keys, not a list",
				"line 8: units[0].url: must be a single value, not a list",
				"line 10: units[0].password: must be a single value, not a mapping",
				`line 12: units[0].tls.insecure_skip_verify: must be true or false, not "maybe"`,
			},
		},
		{
			name:         "units not a list",
			yaml:         "units:\n  hq: {url: https://ucm}\n",
			wantProblems: []string{"line 2: units: must be a list, not a mapping"},
		},
		{
			name:         "key set twice",
			yaml:         "listen: :1\nlisten: :2\n" + unitYAML,
			wantProblems: []string{"line 2: listen: is set twice (first on line 1)"},
		},
		{
			name:         "syntax error",
			yaml:         "listen: :80\nunits: [\n",
			wantProblems: []string{"line 2: did not find expected node content"},
		},
		{
			name:         "empty file",
			yaml:         "",
			wantProblems: []string{"units: at least one unit is required"},
		},
		{
			name: "http url",
			yaml: `
units:
  - {id: a, url: http://x, username: api, password: pw}
  - {id: b, url: "https://user:SECRET@ucm", username: api, password: pw}
  - {id: c, url: https://ucm/api, username: api, password: pw}
  - {id: d, url: ucm:8089, username: api, password: pw}
  - {id: e, url: "https://:8089", username: api, password: pw}
  - {id: f, url: "https://ucm:70000", username: api, password: pw}
  - {id: g, username: api, password: pw}
`,
			wantProblems: []string{
				`units[0].url: "http://x" must use https (the UCM serves its API only over HTTPS)`,
				"units[1].url: must not carry a user name or password",
				`units[2].url: "https://ucm/api" must be only https://host[:port]`,
				"units[3].url: is not a URL of the form https://host[:port]",
				`units[4].url: "https://:8089" has no host`,
				`units[5].url: "https://ucm:70000" has a port outside 1..65535`,
				"units[6].url: is required",
			},
			notWant: "SECRET",
		},
		{
			name: "bad and duplicate ids",
			yaml: `
units:
  - {id: HQ, url: https://ucm, username: api, password: pw}
  - {id: hq, url: https://ucm, username: api, password: pw}
  - {id: -x, url: https://ucm, username: api, password: pw}
  - {id: hq, url: https://ucm, username: api, password: pw}
  - {url: https://ucm, password: pw}
`,
			wantProblems: []string{
				`units[0].id: "HQ" must be 1 to 63 lower-case letters`,
				`units[2].id: "-x" must be 1 to 63`,
				`units[3].id: "hq" is already used by units[1]`,
				"units[4].id: is required",
				"units[4].username: is required",
			},
		},
		{
			name: "pin normalised",
			yaml: unitYAML + "    tls:\n      pin_sha256: " +
				strings.Repeat("AB:", 31) + "AB\n",
			check: func(t *testing.T, c *Config) {
				if got, want := c.Units[0].TLS.PinSHA256, strings.Repeat("ab", 32); got != want {
					t.Errorf("pin = %q; want %q", got, want)
				}
			},
		},
		{
			name: "bad pins",
			yaml: `
units:
  - {id: a, url: https://ucm, username: api, password: pw, tls: {pin_sha256: abcd}}
  - {id: b, url: https://ucm, username: api, password: pw, tls: {pin_sha256: ` + strings.Repeat("zz", 32) + `}}
`,
			wantProblems: []string{
				`units[0].tls.pin_sha256: "abcd" is not a SHA-256 as 64 hex digits`,
				`units[1].tls.pin_sha256: "zzzz`,
			},
		},
		{
			name: "ca_file read at load time",
			yaml: unitYAML + "    tls: {ca_file: /etc/ucm/hq.pem}\n",
			check: func(t *testing.T, c *Config) {
				if tls := c.Units[0].TLS; tls.CAFile != "/etc/ucm/hq.pem" || string(tls.CAPEM) != string(cert) {
					t.Errorf("TLS = %+v; want CAPEM read from the file", tls)
				}
			},
		},
		{
			name: "ca_file missing or not PEM",
			yaml: `
units:
  - {id: a, url: https://ucm, username: api, password: pw, tls: {ca_file: /etc/ucm/nope.pem}}
  - {id: b, url: https://ucm, username: api, password: pw, tls: {ca_file: /etc/ucm/bad.pem}}
`,
			wantProblems: []string{
				"units[0].tls.ca_file: cannot read: open /etc/ucm/nope.pem: file does not exist",
				`units[1].tls.ca_file: "/etc/ucm/bad.pem" contains no PEM certificate`,
			},
		},
		{
			name: "insecure contradicts pin or CA",
			yaml: `
units:
  - {id: a, url: https://ucm, username: api, password: pw, tls: {insecure_skip_verify: true, pin_sha256: ` + strings.Repeat("ab", 32) + `}}
  - {id: b, url: https://ucm, username: api, password: pw, tls: {insecure_skip_verify: true, ca_file: /etc/ucm/hq.pem}}
  - {id: c, url: https://ucm, username: api, password: pw, tls: {ca_file: /etc/ucm/hq.pem, pin_sha256: ` + strings.Repeat("ab", 32) + `}}
  - {id: d, url: https://ucm, username: api, password: pw, tls: {insecure_skip_verify: true}}
`,
			wantProblems: []string{
				"units[0].tls: insecure_skip_verify contradicts pin_sha256",
				"units[1].tls: insecure_skip_verify contradicts ca_file",
				"units[2].tls: set ca_file or pin_sha256, not both",
			},
		},
		{
			name: "timeouts out of order",
			yaml: `
session: {idle_timeout: 10s, request_timeout: 1m, apply_timeout: 30s, max_in_flight: 0}
server: {write_timeout: 30s, shutdown_timeout: 0s, max_body_bytes: 0}
` + unitYAML,
			wantProblems: []string{
				"session.idle_timeout: 10s is too short: at least 30s",
				"session.apply_timeout: 30s must be at least session.request_timeout (1m0s)",
				"session.max_in_flight: 0 is outside 1..256",
				"server.write_timeout: 30s must exceed session.apply_timeout (30s)",
				"server.shutdown_timeout: 0s must be positive",
				"server.max_body_bytes: 0 must be positive",
			},
		},
		{
			name: "unit protections out of order",
			yaml: `
session: {request_timeout: 5s, call_timeout: 6s, slot_wait: 5s, breaker_failures: 0, breaker_open: 10s, breaker_open_max: 5s}
` + unitYAML,
			wantProblems: []string{
				"session.call_timeout: 6s must be at most session.request_timeout (5s)",
				"session.slot_wait: 5s must be shorter than session.request_timeout (5s)",
				"session.breaker_failures: 0 is outside 1..100",
				"session.breaker_open_max: 5s must be at least session.breaker_open (10s)",
			},
		},
		{
			name: "protections must be positive",
			yaml: `
session: {call_timeout: 0s, slot_wait: -1s, breaker_open: 0s, breaker_open_max: 0s}
` + unitYAML,
			wantProblems: []string{
				"session.call_timeout: 0s must be positive",
				"session.slot_wait: -1s must be positive",
				"session.breaker_open: 0s must be positive",
				"session.breaker_open_max: 0s must be positive",
			},
		},
		{
			name: "legacy RSA key exchange for one unit only",
			yaml: `
units:
  - {id: old, url: https://ucm-old, username: api, password: pw, tls: {pin_sha256: ` + strings.Repeat("ab", 32) + `, legacy_rsa_kex: true}}
  - {id: new, url: https://ucm-new, username: api, password: pw}
`,
			check: func(t *testing.T, c *Config) {
				if !c.Units[0].TLS.LegacyRSAKex || c.Units[1].TLS.LegacyRSAKex {
					t.Errorf("legacy_rsa_kex = %t, %t; want true for the unit that says so only", c.Units[0].TLS.LegacyRSAKex, c.Units[1].TLS.LegacyRSAKex)
				}
				if s := c.Units[0].String(); !strings.Contains(s, "LegacyRSAKex:true") {
					t.Errorf("String() = %s; want the choice shown", s)
				}
			},
		},
		{
			name: "listen and log level",
			yaml: "listen: \"8080\"\nlog_level: verbose\n" + unitYAML,
			wantProblems: []string{
				`listen: "8080" is not host:port`,
				`log_level: "verbose" is not one of debug, info, warn, error`,
			},
		},
		{
			name:         "empty listen",
			yaml:         "listen: \"\"\n" + unitYAML,
			wantProblems: []string{"listen: must not be empty"},
		},
		{
			name: "many problems reported together",
			yaml: `
listen: "8080"
units:
  - id: hq
    url: http://192.0.2.10
    username: api
    password: ${UCM_HQ_PASSWORD}
  - id: Branch
    url: https://192.0.2.11
    password: pw
`,
			wantProblems: []string{
				`listen: "8080" is not host:port`,
				`units[0].url: "http://192.0.2.10" must use https`,
				"units[0].password: ${UCM_HQ_PASSWORD} is not set in the environment",
				`units[1].id: "Branch" must be`,
				"units[1].username: is required",
			},
		},
		{
			name: "secrets never appear in the error",
			yaml: `
session:
  max_in_flight: ${PW}
units:
  - id: hq
    url: https://ucm
    username: api
    password: ${PW_NL}
  - id: b
    url: https://ucm
    username: api
    password: "SECRET\u0007bell"
  - id: c
    url: ${URL}
    username: api
    password: pw
`,
			env: map[string]string{"PW": "SECRET1", "PW_NL": "SECRET\nline", "URL": "https://admin:SECRET@ucm"},
			wantProblems: []string{
				"line 3: session.max_in_flight: must be a whole number; ${PW} does not expand to one",
				"units[0].password: contains a line break or other control character (the value is not shown)",
				"units[1].password: contains a line break",
				"units[2].url: must not carry a user name or password",
			},
			notWant: "SECRET",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load([]byte(tt.yaml), fakeEnv(tt.env), fakeFiles(files))
			if len(tt.wantProblems) == 0 {
				if err != nil {
					t.Fatalf("Load(%q) error:\n%v\nwant none", tt.yaml, err)
				}
				tt.check(t, c)
				return
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load(%q) = %v, %v; want an *Error", tt.yaml, c, err)
			}
			if c != nil {
				t.Errorf("Load returned a config alongside problems: %v", c)
			}
			if len(cerr.Problems) != len(tt.wantProblems) {
				t.Errorf("Load(%q) gave %d problems:\n%v\nwant %d", tt.yaml, len(cerr.Problems), err, len(tt.wantProblems))
			}
			for _, want := range tt.wantProblems {
				if !containsLine(cerr.Problems, want) {
					t.Errorf("Load(%q) problems:\n%v\nwant one containing %q", tt.yaml, err, want)
				}
			}
			if err.Error() != strings.Join(cerr.Problems, "\n") {
				t.Errorf("Error() = %q; want the problems joined by newlines", err.Error())
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("Load error leaks %q:\n%v", tt.notWant, err)
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

func TestEventsConfig(t *testing.T) {
	doc := `
units:
  - id: hq
    url: https://192.0.2.10:8089
    username: api
    password: x
    events:
      username: web
      password: ${WEB_PW}
  - id: branch
    url: https://192.0.2.11:8089
    username: api
    password: y
events:
  poll_interval: 1s
  buffer_size: 50
`
	cfg, err := Load([]byte(doc), func(k string) string {
		if k == "WEB_PW" {
			return "s3cret-web"
		}
		return ""
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Units[0].Events == nil || cfg.Units[0].Events.Username != "web" || cfg.Units[0].Events.Password != "s3cret-web" {
		t.Fatalf("units[0].events = %+v", cfg.Units[0].Events)
	}
	if cfg.Units[1].Events != nil {
		t.Fatalf("units[1].events = %+v; want nil (polled)", cfg.Units[1].Events)
	}
	if cfg.Events.PollInterval != time.Second || cfg.Events.BufferSize != 50 || cfg.Events.MaxAge != time.Hour {
		t.Fatalf("events = %+v", cfg.Events)
	}
	for _, shown := range []string{fmt.Sprint(cfg.Units[0]), fmt.Sprintf("%#v", cfg.Units[0]), fmt.Sprintf("%+v", cfg.Units[0].Redacted().Events)} {
		if strings.Contains(shown, "s3cret-web") {
			t.Fatalf("events password shown: %s", shown)
		}
	}

	bad := `
units:
  - id: hq
    url: https://192.0.2.10:8089
    username: api
    password: x
    events:
      password: pw
      password_file: /nope
events:
  poll_interval: 10ms
`
	_, err = Load([]byte(bad), func(string) string { return "" }, nil)
	if err == nil {
		t.Fatal("bad events config loaded")
	}
	for _, want := range []string{"units[0].events.username", "units[0].events: set password or password_file, not both", "events.poll_interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
