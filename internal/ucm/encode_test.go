package ucm

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The hand-written request encoder writes what encoding/json writes for the request map.
func TestEncodeRequestMatchesEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		action, cookie string
		params         map[string]any
	}{
		{"getSIPAccount", "sid1-2", map[string]any{"extension": "1000"}},
		{"challenge", "", map[string]any{"user": "api", "version": "1.0"}},
		{"listAccount", "sid", nil},
		{"updateSIPAccount", "sid", map[string]any{"fullname": "<Ada & \"Bob\">\u2028", "n": 3, "list": []any{"a", nil, map[string]any{"z": 1, "a": true}},
			"action": "deleteUser", "cookie": "stolen"}},
	} {
		want := map[string]any{}
		for k, v := range tc.params {
			want[k] = v
		}
		want["action"] = tc.action
		if tc.cookie != "" {
			want["cookie"] = tc.cookie
		} else {
			delete(want, "cookie")
		}
		wantJSON, err := json.Marshal(map[string]any{"request": want})
		require.NoError(t, err)
		got, err := encodeRequest(tc.action, tc.cookie, tc.params)
		require.NoError(t, err)
		require.Equal(t, string(wantJSON), string(got))
	}
}
