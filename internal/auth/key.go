// Package auth decides who may call the gateway and what they may touch: API keys presented as
// bearer tokens, stored only as hashes, each with scopes and a list of units. It knows nothing of
// HTTP beyond the method and route pattern that the policy table (policy.go) maps to a scope.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// KeyPrefix starts every key the gateway generates, so secret scanners and people recognise one
// pasted where it does not belong (a configuration file, a ticket).
const KeyPrefix = "ucmgw_"

// HashPrefix names the hash function in a stored key hash: "sha256:<64 hex digits>".
//
// SHA-256, not bcrypt or argon2id: a generated key carries 256 random bits, so nobody can guess
// it however fast the hash is; slow hashes exist to protect low-entropy passwords. A slow hash
// would instead cost tens of milliseconds of CPU on every request, and let anyone with no key at
// all burn that CPU by sending random tokens.
const HashPrefix = "sha256:"

// maxKeyLen bounds what is hashed; a real key is 49 characters.
const maxKeyLen = 256

// Generate returns a new random key and the hash to put in the configuration.
func Generate() (key, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return key, Hash(key), nil
}

// Hash returns the stored form of a key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return HashPrefix + hex.EncodeToString(sum[:])
}

// ParseHash checks a stored hash ("sha256:" and 64 hex digits, either case) and returns its
// digest. Its errors never quote the value: an operator may have pasted the key itself.
func ParseHash(s string) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	if strings.HasPrefix(s, KeyPrefix) {
		return d, errors.New("is an API key, not its hash: store only the hash that `ucm-gateway keygen` prints, and treat this key as leaked")
	}
	hexPart, ok := strings.CutPrefix(strings.ToLower(s), HashPrefix)
	if !ok {
		return d, errors.New(`must be "sha256:" followed by 64 hex digits (as printed by ucm-gateway keygen)`)
	}
	raw, err := hex.DecodeString(hexPart)
	if err != nil || len(raw) != sha256.Size {
		return d, errors.New(`must be "sha256:" followed by 64 hex digits (as printed by ucm-gateway keygen)`)
	}
	copy(d[:], raw)
	return d, nil
}
