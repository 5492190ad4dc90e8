package shared

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Sealer encrypts the credentials the replicas share (unit cookies) with AES-256-GCM, so that
// whoever reads Redis (a backup, a MONITOR, a shared instance) cannot use them on the units. The
// record's name is bound in as additional data: a cookie copied to another unit's key does not
// open.
type Sealer struct{ aead cipher.AEAD }

// NewSealer takes the 32-byte key (config.Redis.CookieKey).
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("shared: the cookie key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns nonce|ciphertext of plaintext, bound to name.
func (s *Sealer) Seal(name string, plaintext []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand never fails on supported platforms
	return s.aead.Seal(nonce, nonce, plaintext, []byte(name))
}

// ErrSealed is returned for a record that does not open with this key and name: written with
// another key (replicas configured differently) or tampered with.
var ErrSealed = errors.New("shared: a sealed record does not open with this cookie key (do all replicas have the same redis.cookie_key?)")

// Open reverses Seal.
func (s *Sealer) Open(name string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrSealed
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(name))
	if err != nil {
		return nil, ErrSealed
	}
	return out, nil
}
