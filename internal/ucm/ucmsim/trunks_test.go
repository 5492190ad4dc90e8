package ucmsim

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The documented quirks: trunk_index a number in listVoIPTrunk and listAnalogTrunk but a string
// in listDigitalTrunk; chans a string; the list keys voip_trunk, analogtrunk, digital_trunks.
func TestTrunkListShapes(t *testing.T) {
	_, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	tests := []struct {
		action, key string
		wantIndex   any
	}{
		{"listVoIPTrunk", "voip_trunk", json.Number("1")},
		{"listAnalogTrunk", "analogtrunk", json.Number("3")},
		{"listDigitalTrunk", "digital_trunks", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.action, func(t *testing.T) {
			r, st := call(t, post, tc.action, "cookie", cookie, "item_num", "1", "sord", "acs")
			require.Equal(t, 0, st, "%v", r)
			items, isList := r[tc.key].([]any)
			require.True(t, isList, "list key %q: %v", tc.key, r)
			require.Len(t, items, 1)
			assert.Equal(t, tc.wantIndex, items[0].(map[string]any)["trunk_index"])
		})
	}
	r, _ := call(t, post, "getAnalogTrunk", "cookie", cookie, "analogtrunk", "3")
	assert.Equal(t, "1", r["analogtrunk"].(map[string]any)["chans"], "chans is a string in getAnalogTrunk")
	r, _ = call(t, post, "listVoIPTrunk", "cookie", cookie, "options", "trunk_name,trunks.out_of_service")
	assert.Equal(t, map[string]any{"trunk_name": "carrier-register", "out_of_service": "no"}, r["voip_trunk"].([]any)[0])
}

func TestSIPTrunkActions(t *testing.T) {
	_, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	tests := []struct {
		name   string
		action string
		params []any
		want   int
	}{
		{"peer trunk", "addSIPTrunk", []any{"trunk_name", "GStest", "host", "192.168.5.222", "trunk_type", "peer"}, 0},
		{"duplicate name", "addSIPTrunk", []any{"trunk_name", "GStest", "host", "192.168.5.223", "trunk_type", "peer"}, StatusItemExists},
		{"duplicate of an analog trunk's name", "addSIPTrunk", []any{"trunk_name", "pstn-line-1", "host", "h", "trunk_type", "peer"}, StatusItemExists},
		{"register without secret", "addSIPTrunk", []any{"trunk_name", "r1", "host", "h", "trunk_type", "register", "username", "u"}, StatusInvalidParams},
		{"missing host", "addSIPTrunk", []any{"trunk_name", "r1", "trunk_type", "peer"}, StatusInvalidParams},
		{"host of 61 characters", "addSIPTrunk", []any{"trunk_name", "r1", "host", "0123456789012345678901234567890123456789012345678901234567890", "trunk_type", "peer"}, StatusInvalidValue},
		{"qualifyfreq out of range", "updateSIPTrunk", []any{"trunk", "1", "qualifyfreq", "3601"}, StatusInvalidValue},
		{"unknown codec", "updateSIPTrunk", []any{"trunk", "1", "allow", "ulaw,mp3"}, StatusInvalidValue},
		{"trunk_type cannot be updated", "updateSIPTrunk", []any{"trunk", "1", "trunk_type", "peer"}, StatusInvalidParams},
		{"update the guide's sample", "updateSIPTrunk", []any{"trunk", "1", "trunk_name", "GS1"}, 0},
		{"update a missing trunk", "updateSIPTrunk", []any{"trunk", "99", "nat", "yes"}, StatusNoSuchItem},
		{"get a missing trunk", "getSIPTrunk", []any{"trunk", "99"}, StatusNoSuchItem},
		{"delete a missing trunk", "deleteSIPTrunk", []any{"trunk", "99"}, StatusNoSuchItem},
		{"delete without trunk", "deleteSIPTrunk", nil, StatusInvalidParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, st := call(t, post, tc.action, append([]any{"cookie", cookie}, tc.params...)...)
			assert.Equal(t, tc.want, st, "%v", r)
		})
	}
	r, st := call(t, post, "getSIPTrunk", "cookie", cookie, "trunk", "1")
	require.Equal(t, 0, st)
	tr := r["trunk"].(map[string]any)
	assert.Equal(t, "GS1", tr["trunk_name"])
	assert.Equal(t, json.Number("60"), tr["qualifyfreq"], "int columns are numbers")
}

func TestSLATrunk(t *testing.T) {
	u, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	_, st := call(t, post, "updateSLATrunk", "cookie", cookie, "trunk_index", 3, "trunk_name", "pstn-line-1")
	assert.Equal(t, StatusNoSuchItem, st, "not an SLA trunk yet")
	_, st = call(t, post, "addSLATrunk", "cookie", cookie, "trunk_name", "pstn-line-1", "device", "DAHDI/1", "bargeallowed", "yes", "holdaccess", "open")
	require.Equal(t, 0, st)
	_, st = call(t, post, "addSLATrunk", "cookie", cookie, "trunk_name", "pstn-line-1")
	assert.Equal(t, StatusItemExists, st)
	_, st = call(t, post, "updateSLATrunk", "cookie", cookie, "trunk_index", 3, "trunk_name", "43243", "holdaccess", "private")
	require.Equal(t, 0, st)
	tr, sla, found := u.AnalogTrunk(3)
	require.True(t, found)
	assert.Equal(t, "SLA", tr["trunkmode"], "Table 16's casing")
	assert.Equal(t, "43243", tr["trunk_name"])
	assert.Equal(t, "private", sla["holdaccess"])
	// updateAnalogTrunk's sample names the trunk by trunkgroup; its table by trunk_index.
	_, st = call(t, post, "updateAnalogTrunk", "cookie", cookie, "trunkgroup", 3, "ringtimeout", 9000)
	assert.Equal(t, 0, st)
	_, st = call(t, post, "updateAnalogTrunk", "cookie", cookie, "trunk_index", "3", "trunkgroup", 4, "ringtimeout", 9000)
	assert.Equal(t, StatusInvalidValue, st, "two ids that disagree")
	_, st = call(t, post, "updateAnalogTrunk", "cookie", cookie, "trunk_index", "3", "rxgain", 12.5)
	assert.Equal(t, StatusInvalidValue, st)
}

// trunkmode is accepted in either casing (Table 16 "Normal, SLA", the samples "normal") and kept
// as sent, as firmware differs (FACTS.md).
func TestTrunkmodeAnyCase(t *testing.T) {
	u, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	for _, tc := range []struct {
		mode string
		want int
	}{{"Normal", StatusOK}, {"SLA", StatusOK}, {"sla", StatusOK}, {"NORMAL", StatusOK}, {"shared", StatusInvalidValue}} {
		_, st := call(t, post, "updateAnalogTrunk", "cookie", cookie, "trunk_index", "3", "trunkmode", tc.mode)
		require.Equal(t, tc.want, st, tc.mode)
		if st == StatusOK {
			tr, _, _ := u.AnalogTrunk(3)
			assert.Equal(t, tc.mode, tr["trunkmode"], "stored as sent")
		}
	}
}
