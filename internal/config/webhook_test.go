package config

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadWebhooks(t *testing.T) {
	key := bytes.Repeat([]byte("k"), 32)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	twoUnits := unitYAML + "  - {id: branch, url: https://ucm2, username: api, password: pw}\n"
	files := map[string][]byte{
		"/run/secrets/crm":   []byte(secret + "\n"),
		"/run/secrets/short": []byte("whsec_" + base64.StdEncoding.EncodeToString([]byte("SECRETshort")) + "\n"),
	}
	tests := []struct {
		name         string
		yaml         string
		env          map[string]string
		wantProblems []string
		notWant      []string
		check        func(t *testing.T, c *Config)
	}{
		{
			name: "no webhooks",
			yaml: unitYAML,
			check: func(t *testing.T, c *Config) {
				assert.Empty(t, c.Webhooks)
			},
		},
		{
			name: "defaults, star units, secret from the environment and from a file",
			yaml: twoUnits + `
webhooks:
  - name: crm
    url: https://crm.example.com/hooks/ucm?token=abc
    secret: ${CRM_SECRET}
    units: ["*"]
  - name: local.test
    url: http://127.0.0.1:9999/in
    secret_file: /run/secrets/crm
    units: [branch]
    types: ["call.*", cdr.created]
    timeout: 2s
    retry_for: 24h
    queue_size: 50
    suspend_after_failures: 3
    suspend_after: 5m
  - {name: ip6, url: "http://[::1]:8000/", secret: "` + base64.RawStdEncoding.EncodeToString(key) + `", units: [hq]}
  - {name: lh, url: "http://localhost:8000/", secret: "` + secret + `", units: [hq]}
`,
			env: map[string]string{"CRM_SECRET": secret},
			check: func(t *testing.T, c *Config) {
				require.Len(t, c.Webhooks, 4)
				assert.Equal(t, Webhook{Name: "crm", URL: "https://crm.example.com/hooks/ucm?token=abc", Secret: key, Units: []string{"hq", "branch"},
					Timeout: 10 * time.Second, RetryFor: time.Hour, QueueSize: 1000, SuspendAfterFailures: 10, SuspendAfter: 30 * time.Minute}, c.Webhooks[0])
				assert.Equal(t, Webhook{Name: "local.test", URL: "http://127.0.0.1:9999/in", Secret: key, Units: []string{"branch"}, Types: []string{"call.*", "cdr.created"},
					Timeout: 2 * time.Second, RetryFor: 24 * time.Hour, QueueSize: 50, SuspendAfterFailures: 3, SuspendAfter: 5 * time.Minute}, c.Webhooks[1])
				assert.Equal(t, key, c.Webhooks[2].Secret, "the whsec_ prefix and base64 padding are optional")
				assert.Equal(t, "https://crm.example.com/hooks/ucm", c.Webhooks[0].ShownURL())
			},
		},
		{
			name: "bad webhooks",
			yaml: twoUnits + `
webhooks:
  - name: "has space"
    url: http://crm.example.com/hook?token=SECRETTOKEN
    secret: whsec_SECRET!!notbase64
    units: [hq, nowhere, hq]
    types: [call.rang, "call.*,cdr.created", "sms.*"]
  - url: ftp://x.example/
    secret_file: /run/secrets/short
    units: ["*", hq]
    timeout: -1s
    queue_size: 200000
  - name: dup
    url: https://user:SECRETPW@crm.example.com/h#frag
    units: []
    retry_for: -5m
  - name: dup
    url: "https://crm.example.com:99999/x"
    secret: SECRET
    secret_file: /run/secrets/crm
    units: [hq]
    suspend_after_failures: -2
    timeout: 10m
  - name: nohost
    url: "https:///x"
    secret_file: /run/secrets/absent
    units: [hq]
  - name: nourl
    secret: "SECRET with space"
    units: [hq]
  - name: http-public
    url: http://192.0.2.1/in
    secret: ` + secret + `
    units: [hq]
`,
			wantProblems: []string{
				`webhooks[0].name: "has space" must be`,
				`webhooks[0].url: "http://crm.example.com/hook" must use https (plain http is allowed only to a loopback receiver`,
				"webhooks[0].secret: must be whsec_ followed by base64",
				`webhooks[0].units[1]: "nowhere" is not a configured unit`,
				`webhooks[0].units[2]: "hq" is listed twice`,
				`webhooks[0].types[0]: "call.rang" matches no event type`,
				`webhooks[0].types[1]: "call.*,cdr.created" must be one event type or pattern per entry`,
				`webhooks[0].types[2]: "sms.*" matches no event type`,
				"webhooks[1].name: is required",
				`webhooks[1].url: "ftp://x.example/" must use https`,
				"webhooks[1].secret_file: decodes to 11 bytes: a Standard Webhooks key has 24 to 64",
				`webhooks[1].units: "*" already means every unit`,
				"webhooks[1].timeout: -1s must be positive (or left out for the default 10s)",
				"webhooks[1].queue_size: 200000 is too large",
				`webhooks[2].url: "https://crm.example.com/h" must not have a #fragment`,
				"webhooks[2]: secret or secret_file is required",
				"webhooks[2].units: at least one unit id is required",
				"webhooks[2].retry_for: -5m0s must be positive",
				`webhooks[3].name: "dup" is already used by webhooks[2]`,
				`webhooks[3].url: "https://crm.example.com:99999/x" has a port outside 1..65535`,
				"webhooks[3]: set secret or secret_file, not both",
				"webhooks[3].suspend_after_failures: -2 must be positive",
				"webhooks[3].timeout: 10m0s is too long",
				`webhooks[4].url: "https:///x" has no host`,
				"webhooks[4].secret_file: cannot read",
				"webhooks[5].url: is required",
				"webhooks[5].secret: holds a space",
				`webhooks[6].url: "http://192.0.2.1/in" must use https`,
			},
			notWant: []string{"SECRET", "token=", "user"},
		},
		{
			name:         "secret from an unset variable",
			yaml:         unitYAML + "webhooks: [{name: a, url: https://x.example, secret: '${NOPE}', units: [hq]}]\n",
			wantProblems: []string{"webhooks[0].secret: ${NOPE} is not set in the environment"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load([]byte(tt.yaml), fakeEnv(tt.env), fakeFiles(files))
			if len(tt.wantProblems) == 0 {
				require.NoError(t, err, "Load(%q)", tt.yaml)
				tt.check(t, c)
				return
			}
			var cerr *Error
			require.True(t, errors.As(err, &cerr), "Load(%q) = %v; want an *Error", tt.yaml, err)
			assert.Len(t, cerr.Problems, len(tt.wantProblems), "problems:\n%v", err)
			for _, want := range tt.wantProblems {
				assert.True(t, containsLine(cerr.Problems, want), "problems:\n%v\nwant one containing %q", err, want)
			}
			for _, nw := range tt.notWant {
				assert.NotContains(t, err.Error(), nw)
			}
		})
	}
}

func TestWebhookNeverShowsSecrets(t *testing.T) {
	w := Webhook{Name: "crm", URL: "https://bob:PASSWORD@crm.example.com/hook?token=TOKEN", Secret: []byte("KEYBYTES-KEYBYTES-KEYBYTES"), Units: []string{"hq"}}
	cfg := Config{Webhooks: []Webhook{w}}
	var logged, text bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("webhook", "webhook", w, "config", cfg)
	slog.New(slog.NewTextHandler(&text, nil)).Info("webhook", "webhook", w, "config", cfg)
	encoded, err := json.Marshal(cfg)
	require.NoError(t, err)
	shown := map[string]string{
		"%v": fmt.Sprintf("%v", w), "%+v": fmt.Sprintf("%+v", w), "%#v": fmt.Sprintf("%#v", w),
		"%#v cfg": fmt.Sprintf("%#v", cfg), "%+v &cfg": fmt.Sprintf("%+v", &cfg),
		"slog": logged.String(), "slog text": text.String(), "json": string(encoded),
	}
	for how, s := range shown {
		for _, secret := range []string{"PASSWORD", "TOKEN", "KEYBYTES", "bob", base64.StdEncoding.EncodeToString(w.Secret)} {
			assert.NotContains(t, s, secret, "%s leaks it", how)
		}
		assert.Contains(t, s, "https://crm.example.com/hook", "%s shows the URL without its secrets", how)
	}
}
