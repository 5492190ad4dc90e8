package config

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// Redis is the shared state of a fleet of replicas: unit sessions, Idempotency-Key outcomes and
// rate-limit counters live there, so many replicas behave as one gateway. It is off unless Addr
// is set; a single replica with no Redis keeps everything in its own memory, as before. It
// carries secrets (the password and the cookie key), so it formats itself without them.
type Redis struct {
	// Addr is "host:port", or empty when Redis is off. A "url" (redis://user:pass@host:port/db
	// or rediss:// for TLS) fills Addr, Username, Password, DB and TLS.Enabled.
	Addr string
	// Username and Password authenticate to Redis (ACL user; Password from "password" after
	// ${ENV} expansion, or from "password_file").
	Username string
	Password string
	// DB is the logical database (default 0).
	DB int
	// KeyPrefix starts every key the gateway writes (default "ucm-gateway:"), so several
	// gateways (or other programs) can share one Redis.
	KeyPrefix string
	// TLS says whether and how the connection to Redis is encrypted.
	TLS RedisTLS
	// CookieKey is the 32-byte AES-256-GCM key that encrypts the units' cookies in Redis (from
	// "cookie_key", base64, or "cookie_key_file"); required when Redis is on. Every replica must
	// have the same key. `ucm-gateway keygen --cookie-key` prints one.
	CookieKey []byte
	// DialTimeout bounds connecting to Redis (default 2s); OpTimeout each command (default 1s),
	// so a Redis that hangs costs a request a second, not its whole deadline.
	DialTimeout time.Duration
	OpTimeout   time.Duration
}

// RedisTLS is the redis.tls block.
type RedisTLS struct {
	// Enabled turns TLS on (implied by a rediss:// URL or by CAFile).
	Enabled bool
	// CAFile names a PEM file of CAs to trust instead of the system roots; CAPEM is its content.
	CAFile string
	CAPEM  []byte
	// ServerName overrides the name checked in Redis's certificate.
	ServerName string
	// InsecureSkipVerify turns verification off (logged).
	InsecureSkipVerify bool
}

// Enabled reports whether the replicas share state in Redis.
func (r Redis) Enabled() bool { return r.Addr != "" }

// LogValue shows the Redis settings without the password or the cookie key.
func (r Redis) LogValue() slog.Value {
	return slog.GroupValue(slog.String("addr", r.Addr), slog.String("username", r.Username),
		slog.Int("db", r.DB), slog.String("key_prefix", r.KeyPrefix), slog.Bool("tls", r.TLS.Enabled))
}

// String shows the Redis settings without the password or the cookie key.
func (r Redis) String() string {
	return fmt.Sprintf("{Addr:%s Username:%s DB:%d KeyPrefix:%s TLS:%t}", r.Addr, r.Username, r.DB, r.KeyPrefix, r.TLS.Enabled)
}

// GoString is String for %#v, which would otherwise print the secrets.
func (r Redis) GoString() string { return "config.Redis" + r.String() }

// MarshalJSON keeps the secrets out of a JSON-encoded Config.
func (r Redis) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"addr":%q,"username":%q,"db":%d,"key_prefix":%q,"tls":%t}`, r.Addr, r.Username, r.DB, r.KeyPrefix, r.TLS.Enabled), nil
}

// fileRedis is the redis block as written.
type fileRedis struct {
	Addr          string        `yaml:"addr"`
	URL           string        `yaml:"url"`
	Username      string        `yaml:"username"`
	Password      string        `yaml:"password"`
	PasswordFile  string        `yaml:"password_file"`
	DB            int           `yaml:"db"`
	KeyPrefix     string        `yaml:"key_prefix"`
	TLS           fileRedisTLS  `yaml:"tls"`
	CookieKey     string        `yaml:"cookie_key"`
	CookieKeyFile string        `yaml:"cookie_key_file"`
	DialTimeout   time.Duration `yaml:"dial_timeout"`
	OpTimeout     time.Duration `yaml:"op_timeout"`
}

type fileRedisTLS struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

func defaultRedis() fileRedis {
	return fileRedis{KeyPrefix: "ucm-gateway:", DialTimeout: 2 * time.Second, OpTimeout: time.Second}
}

var keyPrefix = regexp.MustCompile(`^[A-Za-z0-9._:{}-]{1,64}$`)

// buildRedis validates the redis block. Nothing in it is required unless addr or url is set.
func buildRedis(f fileRedis, readFile func(string) ([]byte, error), p *problems) Redis {
	r := Redis{Addr: f.Addr, Username: f.Username, DB: f.DB, KeyPrefix: f.KeyPrefix,
		DialTimeout: f.DialTimeout, OpTimeout: f.OpTimeout,
		TLS: RedisTLS{Enabled: f.TLS.Enabled || f.TLS.CAFile != "", CAFile: f.TLS.CAFile,
			ServerName: f.TLS.ServerName, InsecureSkipVerify: f.TLS.InsecureSkipVerify}}
	password := f.Password
	if f.URL != "" {
		if f.Addr != "" {
			p.add("redis.url", "set addr or url, not both")
		}
		redisURL(f.URL, &r, &password, p)
	}
	if !r.Enabled() {
		if f.CookieKey != "" || f.CookieKeyFile != "" || f.Password != "" || f.PasswordFile != "" {
			p.add("redis.addr", "is required when the redis block sets credentials (or remove the block: Redis is off by default)")
		}
		return Redis{KeyPrefix: f.KeyPrefix}
	}
	if _, _, err := net.SplitHostPort(r.Addr); err != nil && p.ok("redis.addr") {
		p.add("redis.addr", "%q is not host:port (for example redis:6379)", r.Addr)
	}
	if p.ok("redis.db") && (r.DB < 0 || r.DB > 15) {
		p.add("redis.db", "%d is outside 0..15", r.DB)
	}
	if p.ok("redis.key_prefix") && !keyPrefix.MatchString(r.KeyPrefix) {
		p.add("redis.key_prefix", "%q must be 1 to 64 letters, digits or . _ : { } -", r.KeyPrefix)
	}
	positive(p, "redis.dial_timeout", r.DialTimeout)
	positive(p, "redis.op_timeout", r.OpTimeout)
	switch {
	case password != "" && f.PasswordFile != "":
		p.add("redis", "set password or password_file, not both")
	case f.PasswordFile != "":
		r.Password = secretFile("redis.password_file", f.PasswordFile, readFile, p)
	case strings.ContainsFunc(password, unicode.IsControl):
		p.add("redis.password", "contains a line break or other control character (the value is not shown)")
	default:
		r.Password = password
	}
	if r.TLS.CAFile != "" {
		pem, err := readFile(r.TLS.CAFile)
		switch {
		case err != nil:
			p.add("redis.tls.ca_file", "cannot read: %v", err)
		case !strings.Contains(string(pem), "-----BEGIN CERTIFICATE-----"):
			p.add("redis.tls.ca_file", "%q holds no PEM certificate", r.TLS.CAFile)
		default:
			r.TLS.CAPEM = pem
		}
	}
	r.CookieKey = cookieKey(f, readFile, p)
	return r
}

// redisURL reads redis://[user[:password]@]host[:port][/db] (rediss:// for TLS).
func redisURL(raw string, r *Redis, password *string, p *problems) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		p.add("redis.url", "is not a URL of the form redis://[user:password@]host:port[/db] (rediss:// for TLS)")
		return
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "6379")
	}
	r.Addr = host
	r.TLS.Enabled = r.TLS.Enabled || u.Scheme == "rediss"
	if u.User != nil {
		if name := u.User.Username(); name != "" {
			r.Username = name
		}
		if pw, ok := u.User.Password(); ok {
			*password = pw
		}
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		var n int
		if _, err := fmt.Sscanf(db, "%d", &n); err != nil || fmt.Sprint(n) != db {
			p.add("redis.url", "%q: the path must be a database number", u.Redacted())
			return
		}
		r.DB = n
	}
}

// cookieKey decodes the 32-byte key that encrypts cookies at rest in Redis.
func cookieKey(f fileRedis, readFile func(string) ([]byte, error), p *problems) []byte {
	raw := f.CookieKey
	at := "redis.cookie_key"
	switch {
	case f.CookieKey != "" && f.CookieKeyFile != "":
		p.add("redis", "set cookie_key or cookie_key_file, not both")
		return nil
	case f.CookieKeyFile != "":
		at = "redis.cookie_key_file"
		if raw = secretFile(at, f.CookieKeyFile, readFile, p); raw == "" {
			return nil
		}
	case raw == "":
		p.add("redis.cookie_key", "is required with Redis: 32 bytes, base64 (print one with: ucm-gateway keygen --cookie-key); every replica needs the same key")
		return nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
	if err != nil || len(key) != 32 {
		p.add(at, "must be 32 bytes in base64 (44 characters; the value is not shown)")
		return nil
	}
	return key
}

// secretFile reads a one-line secret from a file; the content never appears in a message.
func secretFile(at, name string, readFile func(string) ([]byte, error), p *problems) string {
	data, err := readFile(name)
	if err != nil {
		p.add(at, "cannot read: %v", err)
		return ""
	}
	s := strings.TrimRight(string(data), "\r\n")
	switch {
	case s == "":
		p.add(at, "%q is empty", name)
	case strings.ContainsFunc(s, unicode.IsControl):
		p.add(at, "%q holds more than one line or a control character (the content is not shown)", name)
	default:
		return s
	}
	return ""
}
