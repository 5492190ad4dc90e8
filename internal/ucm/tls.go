package ucm

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
)

// TLSOptions says how to trust one unit. UCMs ship a self-signed web certificate, so besides the
// system roots an operator can name a CA file or pin the certificate itself; turning verification
// off is possible only by saying so.
type TLSOptions struct {
	CAPEM              []byte // PEM bundle to trust instead of the system roots
	PinSHA256          string // hex SHA-256 of the leaf certificate's DER; colons and case are ignored
	InsecureSkipVerify bool
	ServerName         string // override SNI/verification name (rarely needed)
	// LegacyRSAKeyExchange also offers the TLS 1.2 cipher suites with RSA key exchange, which Go
	// no longer offers by default (they have no forward secrecy). Some older UCM firmware offers
	// nothing else; without them the handshake fails with "remote error: tls: handshake
	// failure". It is set per unit, so no other unit's connections are weakened.
	LegacyRSAKeyExchange bool
}

// modernSuites are the TLS 1.2 suites Go offers by default (ECDHE key exchange, AEAD first).
// legacyRSASuites are added for a unit that needs them: AES with RSA key exchange, still no RC4,
// 3DES or CBC-SHA256. TLS 1.3 suites are not configurable and stay as they are.
var (
	modernSuites = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	}
	legacyRSASuites = []uint16{
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	}
)

// Config builds the tls.Config. With a pin, the chain and host name are not checked (a
// self-signed appliance certificate has neither), but the exact certificate is.
func (o TLSOptions) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if o.LegacyRSAKeyExchange {
		// An explicit list is the only per-connection way to offer them (GODEBUG=tlsrsakex=1
		// would weaken every unit of the process).
		cfg.CipherSuites = append(append([]uint16(nil), modernSuites...), legacyRSASuites...)
	}
	switch {
	case o.PinSHA256 != "":
		want, err := hex.DecodeString(strings.ToLower(strings.ReplaceAll(o.PinSHA256, ":", "")))
		if err != nil || len(want) != sha256.Size {
			return nil, errors.New("ucm: pin_sha256 must be 64 hex characters")
		}
		cfg.InsecureSkipVerify = true // replaced by the pin check below
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("ucm: unit presented no certificate")
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return &PinMismatchError{Got: hex.EncodeToString(got[:])}
			}
			return nil
		}
	case len(o.CAPEM) > 0:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(o.CAPEM) {
			return nil, errors.New("ucm: ca file holds no PEM certificate")
		}
		cfg.RootCAs = pool
	case o.InsecureSkipVerify:
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

// TLSConfig is a unit's TLS configuration, built the first time a connection needs it. Of
// thousands of configured units most are never contacted by a given replica, and a built
// tls.Config (with its pin check or CA pool) is about half a kilobyte a unit. Get is safe for
// concurrent use; the configuration is shared read-only.
type TLSConfig struct {
	opts TLSOptions
	once sync.Once
	conf *tls.Config
}

// Lazy checks the options now (a bad pin or CA file is a configuration error at load, not at
// the first request) and returns the configuration to build when first used.
func (o TLSOptions) Lazy() (*TLSConfig, error) {
	if _, err := o.Config(); err != nil {
		return nil, err
	}
	return &TLSConfig{opts: o}, nil
}

// ReadyTLS wraps a configuration already built (nil for Go's defaults).
func ReadyTLS(conf *tls.Config) *TLSConfig {
	t := &TLSConfig{conf: conf}
	t.once.Do(func() {})
	return t
}

// Get builds the configuration once (Lazy has checked it builds) and returns it.
func (t *TLSConfig) Get() *tls.Config {
	if t == nil {
		return nil
	}
	t.once.Do(func() { t.conf, _ = t.opts.Config() })
	return t.conf
}
