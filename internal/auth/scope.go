package auth

import (
	"fmt"
	"strings"
)

// Scope is one kind of thing a key may do. Scopes are independent: a key has exactly the scopes
// its configuration lists (admin does not imply write, write does not imply read), so reading a
// key's entry tells the whole story.
type Scope string

// The scopes. Which requests need which is decided in one place: policy.go.
const (
	// ScopeRead: every GET and HEAD.
	ScopeRead Scope = "read"
	// ScopeWrite: configuration changes (create, update, delete, apply).
	ScopeWrite Scope = "write"
	// ScopeCalls: dialling and call control (everything under /calls that is not a read). Kept
	// apart from write because a key that can place calls can run up a phone bill.
	ScopeCalls Scope = "calls"
	// ScopeAdmin: operator actions (/actions/…, unit resets).
	ScopeAdmin Scope = "admin"
)

// AllScopes lists every scope, in the order the documentation gives them.
var AllScopes = []Scope{ScopeRead, ScopeWrite, ScopeCalls, ScopeAdmin}

// ParseScope accepts a scope by name.
func ParseScope(s string) (Scope, error) {
	for _, sc := range AllScopes {
		if s == string(sc) {
			return sc, nil
		}
	}
	names := make([]string, len(AllScopes))
	for i, sc := range AllScopes {
		names[i] = string(sc)
	}
	return "", fmt.Errorf("%q is not a scope (use %s)", s, strings.Join(names, ", "))
}
