package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequiredScope(t *testing.T) {
	tests := []struct {
		method, pattern string
		want            Scope
	}{
		{"GET", "/v1/units", ScopeRead},
		{"GET", "/v1/units/{unit}", ScopeRead},
		{"HEAD", "/v1/units/{unit}/extensions", ScopeRead},
		{"GET", "/v1/units/{unit}/extensions/{ext}", ScopeRead},
		{"POST", "/v1/units/{unit}/extensions", ScopeWrite},
		{"PATCH", "/v1/units/{unit}/extensions/{ext}", ScopeWrite},
		{"DELETE", "/v1/units/{unit}/extensions/{ext}", ScopeWrite},
		{"DELETE", "/v1/units/{unit}/extensions/{ext}/wave-chat", ScopeWrite},
		{"GET", "/v1/units/{unit}/extensions/{ext}/qr", ScopeWrite}, // the QR code carries the SIP credentials
		{"POST", "/v1/units/{unit}/config/apply", ScopeWrite},
		{"PUT", "/v1/units/{unit}/trunks/analog/{trunk}/sla", ScopeWrite},
		{"GET", "/v1/units/{unit}/trunks/sip/{trunk}", ScopeRead},
		{"GET", "/v1/units/{unit}/calls", ScopeRead},
		{"GET", "/v1/units/{unit}/calls/{call}", ScopeRead},
		{"POST", "/v1/units/{unit}/calls", ScopeCalls},
		{"DELETE", "/v1/units/{unit}/calls/{call}", ScopeCalls},
		{"POST", "/v1/units/{unit}/calls/{call}/hold", ScopeCalls},
		{"DELETE", "/v1/units/{unit}/calls/{call}/mute", ScopeCalls},
		{"POST", "/v1/units/{unit}/calls/{call}/transfer", ScopeCalls},
		{"POST", "/v1/units/{unit}/reset", ScopeAdmin},
		{"POST", "/v1/units/{unit}/actions/{action}", ScopeAdmin},
		{"GET", "/v1/units/{unit}/actions/{action}", ScopeAdmin},
		{"GET", "/v1/units/{unit}/queues", ScopeRead},
		{"GET", "/v1/units/{unit}/queues/{queue}/stats", ScopeRead},
		{"GET", "/v1/units/{unit}/queues/{queue}/agents", ScopeRead},
		{"PATCH", "/v1/units/{unit}/queues/{queue}", ScopeWrite},
		{"PATCH", "/v1/units/{unit}/queues/{queue}/agents/{ext}", ScopeCalls}, // an operation, not configuration
		{"PATCH", "/v1/units/{unit}/users/{user_name}", ScopeWrite},
		{"GET", "/v1/units/{unit}/cdrs", ScopeRead},
		{"GET", "/v1/units/{unit}/recordings/{file}", ScopeRead},
		{"DELETE", "/v1/units/{unit}/recordings/{file}", ScopeWrite},
		{"PATCH", "/v1/units/{unit}/trunks/sip/{trunk}", ScopeWrite}, // a trunk id never matters
		{"OPTIONS", "/v1/units/{unit}/extensions", ScopeWrite},
		{"GET", "/v1/webhooks", ScopeAdmin}, // lists every unit's receivers and their errors
		{"POST", "/v1/webhooks/{name}/resume", ScopeAdmin},
		{"GET", "/v1/webhooksx", ScopeRead}, // a prefix of the path segment, not of the string
	}
	for _, tc := range tests {
		if got := RequiredScope(tc.method, tc.pattern, ""); got != tc.want {
			t.Errorf("RequiredScope(%q, %q, \"\") = %q; want %q", tc.method, tc.pattern, got, tc.want)
		}
	}
}

// The pass-through's scope follows the action it relays: reads need read, the rest admin.
func TestRequiredScopeOfPassThroughActions(t *testing.T) {
	const actions = "/v1/units/{unit}/actions/{action}"
	tests := []struct {
		method, pattern, action string
		want                    Scope
	}{
		{"POST", actions, "getIVR", ScopeRead},
		{"POST", actions, "listPinSets", ScopeRead},
		{"POST", actions, "getDigitalTrunk", ScopeRead},
		{"POST", actions, "deleteIVR", ScopeAdmin},
		{"POST", actions, "MulticastPaging", ScopeAdmin},
		{"POST", actions, "GetIVR", ScopeAdmin},                  // not the vendor's spelling: no read
		{"POST", actions, "login", ScopeAdmin},                   // refused by the allow-list anyway
		{"POST", actions, "", ScopeAdmin},                        // no action: the stronger scope
		{"POST", "/v1/units/{unit}/reset", "getIVR", ScopeAdmin}, // an action name elsewhere means nothing
		{"POST", "/v1/units/{unit}/calls", "listQueue", ScopeCalls},
	}
	for _, tc := range tests {
		if got := RequiredScope(tc.method, tc.pattern, tc.action); got != tc.want {
			t.Errorf("RequiredScope(%q, %q, %q) = %q; want %q", tc.method, tc.pattern, tc.action, got, tc.want)
		}
	}
}

func TestKeyringAuthenticate(t *testing.T) {
	oldKey, oldHash, err := Generate()
	require.NoError(t, err)
	newKey, newHash, err := Generate()
	require.NoError(t, err)
	roKey, roHash, err := Generate()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(oldKey, KeyPrefix))
	assert.Len(t, oldKey, len(KeyPrefix)+43)
	assert.NotEqual(t, oldKey, newKey)

	kr, err := NewKeyring([]Key{
		{Name: "crm", Hashes: []string{oldHash, strings.ToUpper(newHash[:7]) + newHash[7:]}, Scopes: []Scope{ScopeRead, ScopeCalls}, Units: []string{"hq"}},
		{Name: "monitor", Hashes: []string{roHash}, Scopes: []Scope{ScopeRead}, Units: []string{AllUnits}, RateLimit: 5},
	})
	require.NoError(t, err)

	for _, key := range []string{oldKey, newKey} {
		p, ok := kr.Authenticate(key)
		require.True(t, ok, "both keys of a rotation work")
		assert.Equal(t, "crm", p.Name)
		assert.True(t, p.Can(ScopeCalls))
		assert.False(t, p.Can(ScopeWrite))
		assert.True(t, p.Sees("hq"))
		assert.False(t, p.Sees("branch"))
		assert.Equal(t, Hash(key)[len(HashPrefix):len(HashPrefix)+8], p.KeyID)
	}
	p, ok := kr.Authenticate(roKey)
	require.True(t, ok)
	assert.True(t, p.Sees("anything"))
	assert.Equal(t, 5, p.RateLimit)

	for _, bad := range []string{"", "ucmgw_nope", oldKey + "x", oldKey[:len(oldKey)-1], oldHash, strings.Repeat("a", 300)} {
		_, ok := kr.Authenticate(bad)
		assert.False(t, ok, "Authenticate(%q)", bad)
	}
	var nilRing *Keyring
	_, ok = nilRing.Authenticate(oldKey)
	assert.False(t, ok)
}

func TestNewKeyringRefusesBadKeys(t *testing.T) {
	key, hash, err := Generate()
	require.NoError(t, err)
	tests := []struct {
		name string
		keys []Key
	}{
		{"the key instead of its hash", []Key{{Name: "a", Hashes: []string{key}, Scopes: AllScopes, Units: []string{"*"}}}},
		{"not hex", []Key{{Name: "a", Hashes: []string{"sha256:" + strings.Repeat("z", 64)}, Scopes: AllScopes, Units: []string{"*"}}}},
		{"no scope", []Key{{Name: "a", Hashes: []string{hash}, Units: []string{"*"}}}},
		{"shared hash", []Key{{Name: "a", Hashes: []string{hash}, Scopes: AllScopes, Units: []string{"*"}}, {Name: "b", Hashes: []string{hash}, Scopes: AllScopes, Units: []string{"*"}}}},
		{"duplicate name", []Key{{Name: "a", Hashes: []string{hash}, Scopes: AllScopes, Units: []string{"*"}}, {Name: "a", Hashes: []string{Hash("x")}, Scopes: AllScopes, Units: []string{"*"}}}},
	}
	for _, tc := range tests {
		_, err := NewKeyring(tc.keys)
		require.Error(t, err, tc.name)
		assert.NotContains(t, err.Error(), key, "%s: the error quotes the key", tc.name)
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header, want string
		ok           bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"Basic abc", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"abc", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := BearerToken(tc.header)
		if got != tc.want || ok != tc.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}
