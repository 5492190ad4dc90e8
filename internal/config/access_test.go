package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadAccess(t *testing.T) {
	h1 := "sha256:" + strings.Repeat("ab", 32)
	h2 := "sha256:" + strings.Repeat("CD", 32)
	twoUnits := unitYAML + "  - {id: branch, url: https://ucm2, username: api, password: pw}\n"
	tests := []struct {
		name         string
		yaml         string
		env          map[string]string
		wantProblems []string
		notWant      string
		check        func(t *testing.T, c *Config)
	}{
		{
			name: "defaults: no keys, no CORS, 600 requests a minute",
			yaml: unitYAML,
			check: func(t *testing.T, c *Config) {
				assert.Empty(t, c.APIKeys)
				assert.Equal(t, CORS{MaxAge: 10 * time.Minute}, c.CORS)
				assert.Equal(t, RateLimit{Requests: 600, Window: time.Minute}, c.RateLimit)
			},
		},
		{
			name: "every setting",
			yaml: twoUnits + `
api_keys:
  - name: crm
    hashes: [` + h1 + `, "${NEW_HASH}"]
    scopes: [read, calls]
    units: [hq, branch]
    rate_limit: 100
  - name: ops.admin
    hashes: [` + h1[:7] + strings.Repeat("ef", 32) + `]
    scopes: [read, write, calls, admin]
    units: ["*"]
cors:
  allowed_origins: [https://admin.example.com, "http://localhost:3000", "https://*.example.org"]
  max_age: 1h
rate_limit: {requests: 50, window: 10s}
`,
			env: map[string]string{"NEW_HASH": h2},
			check: func(t *testing.T, c *Config) {
				require.Len(t, c.APIKeys, 2)
				assert.Equal(t, APIKey{Name: "crm", Hashes: []string{h1, strings.ToLower(h2)}, Scopes: []string{"read", "calls"}, Units: []string{"hq", "branch"}, RateLimit: 100}, c.APIKeys[0])
				assert.Equal(t, []string{"*"}, c.APIKeys[1].Units)
				assert.Equal(t, CORS{AllowedOrigins: []string{"https://admin.example.com", "http://localhost:3000", "https://*.example.org"}, MaxAge: time.Hour}, c.CORS)
				assert.Equal(t, RateLimit{Requests: 50, Window: 10 * time.Second}, c.RateLimit)
			},
		},
		{
			name: "bad keys",
			yaml: unitYAML + `
api_keys:
  - name: "has space"
    hashes: [ucmgw_SECRETKEYPASTEDHERE, "sha256:SECRET"]
    scopes: [read, root]
    units: [hq, nowhere]
  - hashes: []
    units: ["*", hq]
  - name: dup
    hashes: [` + h1 + `]
    scopes: [read]
    units: [hq]
  - name: dup
    hashes: [` + strings.ToUpper(h1[7:9]) + h1[9:] + `]
    scopes: [read]
    units: []
    rate_limit: -1
`,
			wantProblems: []string{
				`api_keys[0].name: "has space" must be`,
				"api_keys[0].hashes[0]: is an API key, not its hash",
				`api_keys[0].hashes[1]: must be "sha256:" followed by 64 hex digits`,
				`api_keys[0].scopes[1]: "root" is not a scope (use read, write, calls, admin)`,
				`api_keys[0].units[1]: "nowhere" is not a configured unit`,
				"api_keys[1].name: is required",
				"api_keys[1].hashes: at least one hash is required",
				"api_keys[1].scopes: at least one of read, write, calls, admin is required",
				`api_keys[1].units: "*" already means every unit`,
				`api_keys[3].name: "dup" is already used by api_keys[2]`,
				`api_keys[3].hashes[0]: must be "sha256:"`,
				"api_keys[3].units: at least one unit id is required",
				"api_keys[3].rate_limit: -1 must be positive",
			},
			notWant: "SECRET",
		},
		{
			name: "one hash on two clients",
			yaml: unitYAML + `
api_keys:
  - {name: a, hashes: [` + h1 + `], scopes: [read], units: [hq]}
  - {name: b, hashes: [` + strings.ToUpper(h1) + `], scopes: [read], units: [hq]}
`,
			wantProblems: []string{"api_keys[1].hashes[0]: is the same hash as api_keys[0].hashes[0]"},
		},
		{
			name: "bad CORS and rate limit",
			yaml: unitYAML + `
cors:
  allowed_origins: ["https://a.example/", "ftp://b.example", "a.example", "*", "https://*.*.example"]
  max_age: -1s
rate_limit: {requests: 0, window: 10ms}
`,
			wantProblems: []string{
				`cors.allowed_origins[0]: "https://a.example/" must be an origin`,
				`cors.allowed_origins[1]: "ftp://b.example" must be an origin`,
				`cors.allowed_origins[2]: "a.example" must be an origin`,
				`cors.allowed_origins[3]: "*" already allows every origin`,
				`cors.allowed_origins[4]: "https://*.*.example" must be an origin`,
				"cors.max_age: -1s must not be negative",
				"rate_limit.requests: 0 must be positive",
				"rate_limit.window: 10ms must be at least 1s",
			},
		},
		{
			name:         "wrong shapes",
			yaml:         unitYAML + "api_keys: {name: a}\ncors: {allowed_origins: https://a.example}\n",
			wantProblems: []string{"line 7: api_keys: must be a list, not a mapping", "line 8: cors.allowed_origins: must be a list"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load([]byte(tt.yaml), fakeEnv(tt.env), fakeFiles(nil))
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
			if tt.notWant != "" {
				assert.NotContains(t, err.Error(), tt.notWant)
			}
		})
	}
}
