package config

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const redisUnits = "units:\n  - id: hq\n    url: https://192.0.2.10:8089\n    username: api\n    password: pw\n"

func TestRedisIsOffByDefault(t *testing.T) {
	cfg, err := Load([]byte(redisUnits), nil, nil)
	require.NoError(t, err)
	assert.False(t, cfg.Redis.Enabled())
}

func TestRedisFromAddrAndFiles(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	doc := redisUnits + "redis:\n  addr: redis:6379\n  username: gw\n  password_file: redis-pw\n  db: 2\n  key_prefix: \"gw1:\"\n  cookie_key_file: ck\n"
	cfg, err := Load([]byte(doc), nil, fakeFiles(map[string][]byte{"redis-pw": []byte("s3cret$\n"), "ck": []byte(key + "\n")}))
	require.NoError(t, err)
	r := cfg.Redis
	assert.Equal(t, "redis:6379", r.Addr)
	assert.Equal(t, "gw", r.Username)
	assert.Equal(t, "s3cret$", r.Password)
	assert.Equal(t, 2, r.DB)
	assert.Equal(t, "gw1:", r.KeyPrefix)
	assert.Len(t, r.CookieKey, 32)
	// The secrets stay out of every way a Config is shown.
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	for _, shown := range []string{fmt.Sprint(r), fmt.Sprintf("%#v", r), fmt.Sprintf("%+v", cfg), string(js)} {
		assert.NotContains(t, shown, "s3cret")
		assert.NotContains(t, shown, key)
	}
}

func TestRedisFromURL(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	doc := redisUnits + "redis:\n  url: ${REDIS_URL}\n  cookie_key: ${CK}\n"
	cfg, err := Load([]byte(doc), fakeEnv(map[string]string{"REDIS_URL": "rediss://gw:p%40ss@cache.example:6380/3", "CK": key}), nil)
	require.NoError(t, err)
	r := cfg.Redis
	assert.Equal(t, "cache.example:6380", r.Addr)
	assert.Equal(t, "gw", r.Username)
	assert.Equal(t, "p@ss", r.Password)
	assert.Equal(t, 3, r.DB)
	assert.True(t, r.TLS.Enabled)
}

func TestRedisProblems(t *testing.T) {
	for name, tc := range map[string]struct{ block, want string }{
		"no cookie key":  {"  addr: redis:6379\n", "redis.cookie_key: is required"},
		"short key":      {"  addr: redis:6379\n  cookie_key: c2hvcnQ=\n", "redis.cookie_key: must be 32 bytes"},
		"bad addr":       {"  addr: redis\n  cookie_key: " + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n", `redis.addr: "redis" is not host:port`},
		"addr and url":   {"  addr: a:1\n  url: redis://b:2\n", "redis.url: set addr or url, not both"},
		"bad url":        {"  url: http://b:2\n", "redis.url: is not a URL"},
		"key, no addr":   {"  cookie_key: x\n", "redis.addr: is required"},
		"unknown key":    {"  adress: a:1\n", `redis: unknown key "adress"`},
		"bad db":         {"  addr: a:1\n  db: 99\n", "redis.db: 99 is outside 0..15"},
		"missing pwfile": {"  addr: a:1\n  password_file: nope\n", "redis.password_file: cannot read"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load([]byte(redisUnits+"redis:\n"+tc.block), nil, fakeFiles(nil))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "c2hvcnQ=")
		})
	}
}
