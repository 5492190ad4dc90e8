package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// AllUnits in a key's unit list gives it every unit, including units added later.
const AllUnits = "*"

// Key is one client's entry: a name (what logs and audit lines show; never the key), the hashes
// of its keys (two while a key is being rotated), its scopes and its units.
type Key struct {
	Name   string
	Hashes []string
	Scopes []Scope
	Units  []string // unit ids, or just AllUnits
	// RateLimit, when positive, replaces the gateway's per-key request limit for this key.
	RateLimit int
}

// Principal is an authenticated caller: what a request may do, without the key itself.
type Principal struct {
	// Name is the key's configured name.
	Name string
	// KeyID is the first 8 hex digits of the presented key's hash: it tells which of a client's
	// keys was used during a rotation, and is useless for guessing the key.
	KeyID string
	// RateLimit is the key's own request limit, or 0 for the gateway's default.
	RateLimit int

	scopes   []Scope
	units    []string
	allUnits bool
}

// Can reports whether the principal holds the scope.
func (p *Principal) Can(s Scope) bool { return p != nil && slices.Contains(p.scopes, s) }

// Sees reports whether the principal may touch the unit. A unit it may not see must look exactly
// like one that does not exist.
func (p *Principal) Sees(unit string) bool {
	return p != nil && (p.allUnits || slices.Contains(p.units, unit))
}

// Open is the principal of a gateway started with --demo --insecure-no-auth: everything,
// everywhere. It exists so that handlers never need a "no auth" branch.
func Open() *Principal {
	return &Principal{Name: "anonymous (insecure-no-auth)", scopes: AllScopes, allUnits: true}
}

// Keyring holds the configured keys by the digest of each key.
type Keyring struct {
	digests [][sha256.Size]byte
	owners  []*Principal // owners[i] is the principal of digests[i]
}

// NewKeyring checks the keys and builds the ring. The configuration package checks the same
// things with line numbers; this is the last line of defence for keys built in code.
func NewKeyring(keys []Key) (*Keyring, error) {
	kr := &Keyring{}
	seen := map[[sha256.Size]byte]string{}
	names := map[string]bool{}
	for _, k := range keys {
		if k.Name == "" || names[k.Name] {
			return nil, fmt.Errorf("auth: key name %q is empty or used twice", k.Name)
		}
		names[k.Name] = true
		if len(k.Hashes) == 0 || len(k.Scopes) == 0 || len(k.Units) == 0 {
			return nil, fmt.Errorf("auth: key %q needs at least one hash, one scope and one unit", k.Name)
		}
		p := &Principal{Name: k.Name, RateLimit: k.RateLimit, scopes: slices.Clone(k.Scopes)}
		for _, u := range k.Units {
			if u == AllUnits {
				p.allUnits = true
			} else {
				p.units = append(p.units, u)
			}
		}
		for _, h := range k.Hashes {
			d, err := ParseHash(h)
			if err != nil {
				return nil, fmt.Errorf("auth: key %q: hash %w", k.Name, err)
			}
			if other, dup := seen[d]; dup {
				return nil, fmt.Errorf("auth: keys %q and %q share a hash", other, k.Name)
			}
			seen[d] = k.Name
			kr.digests = append(kr.digests, d)
			// One principal per hash, its KeyID set once: Authenticate hands out the same
			// (read-only) value for every request with that key.
			owner := *p
			owner.KeyID = hex.EncodeToString(d[:4])
			kr.owners = append(kr.owners, &owner)
		}
	}
	return kr, nil
}

// Len is the number of keys (hashes) in the ring.
func (kr *Keyring) Len() int { return len(kr.digests) }

// Authenticate finds the principal of a presented key; it is shared by every request made with
// that key, and callers must not change it. Every stored digest is compared, in
// constant time and without stopping at a match, so the time taken says nothing about which key
// matched or how much of it.
func (kr *Keyring) Authenticate(key string) (*Principal, bool) {
	if kr == nil || key == "" || len(key) > maxKeyLen {
		return nil, false
	}
	sum := sha256.Sum256([]byte(key))
	found := -1
	for i := range kr.digests {
		if subtle.ConstantTimeCompare(sum[:], kr.digests[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil, false
	}
	return kr.owners[found], true
}

// BearerToken extracts the token of an "Authorization: Bearer <token>" header value (the scheme
// is case-insensitive, RFC 9110 §11.1). ok is false for any other form.
func BearerToken(header string) (token string, ok bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
