package handlers

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// The one-pass encoder must write exactly what the generated struct wrote before it: the same
// fields, values, order and required zero values.
func TestAppendObjectMatchesStructPath(t *testing.T) {
	e := newEnv(t)
	raw, err := e.pool.Do(t.Context(), "demo", "getSIPAccount", map[string]any{"extension": "1000"})
	require.NoError(t, err)
	var reply map[string]any
	require.NoError(t, json.Unmarshal(raw, &reply))
	ext := reply["extension"].(map[string]any)
	ext["sip_presence_settings"] = reply["sip_presence_settings"]
	ext["voicemail"] = reply["voicemail"]
	c := newCodec(mustSpec(t))
	schema := c.schema("Extension")

	cases := map[string]map[string]any{
		"simulator reply": ext,
		"odd values": {
			"allow": "ulaw, alaw,,h264,not-a-codec", "max_contacts": "3", "dnd": "yes", "ring_timeout": "",
			"presence_status": "AVAILABLE", "secret": "never shown", "fullname": "<b>&</b>", "qualifyfreq": 1.5,
			"sip_presence_settings": []any{map[string]any{"presence_status": "away", "cfb": nil}, "junk", nil},
		},
		"no extension field": {"fullname": "x"},
		"nothing":            {},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			var want api.Extension
			require.NoError(t, decodeInto(objectFromUCM(schema, m), &want))
			wantJSON, err := json.Marshal(want)
			require.NoError(t, err)
			got := c.appendObject(nil, schema, m)
			require.Equal(t, string(wantJSON), string(got))
		})
	}
}
