package handlers

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const jsonType = "application/json"

func TestTrunkAndActionBadInputNeverReachesTheUnit(t *testing.T) {
	sip := "/v1/units/demo/trunks/sip"
	reg := func(extra string) string {
		return `{"trunk_name": "t-new", "trunk_type": "register", "host": "sip.example.net", "username": "u1", "secret": "S3cret-1"` + extra + `}`
	}
	tests := []struct {
		name       string
		method     string
		path       string
		ctype      string
		body       string
		wantStatus int
		wantField  string
	}{
		{"host longer than 60", "POST", sip, jsonType, reg(`, "host": "` + strings.Repeat("h", 61) + `"`), 400, "body.host"},
		{"transport not in enum", "POST", sip, jsonType, reg(`, "transport": "sctp"`), 400, "body.transport"},
		{"qualifyfreq 0", "POST", sip, jsonType, reg(`, "qualifyfreq": 0`), 400, "body.qualifyfreq"},
		{"qualifyfreq 3601", "POST", sip, jsonType, reg(`, "qualifyfreq": 3601`), 400, "body.qualifyfreq"},
		{"out_maxchans 1000", "POST", sip, jsonType, reg(`, "out_maxchans": 1000`), 400, "body.out_maxchans"},
		{"unknown codec", "POST", sip, jsonType, reg(`, "allow": ["ulaw", "mp3"]`), 400, "body.allow.1"},
		{"trunk_type not in enum", "POST", sip, jsonType, `{"trunk_name": "t-new", "trunk_type": "friend", "host": "h"}`, 400, "body.trunk_type"},
		{"trunk_type missing", "POST", sip, jsonType, `{"trunk_name": "t-new", "host": "h"}`, 400, "body.trunk_type"},
		{"register trunk without username", "POST", sip, jsonType, `{"trunk_name": "t-new", "trunk_type": "register", "host": "h", "secret": "S3cret-1"}`, 400, "body.username"},
		{"register trunk without secret", "POST", sip, jsonType, `{"trunk_name": "t-new", "trunk_type": "register", "host": "h", "username": "u1"}`, 400, "body.secret"},
		{"register trunk with null username", "POST", sip, jsonType, `{"trunk_name": "t-new", "trunk_type": "register", "host": "h", "username": null, "secret": "S3cret-1"}`, 400, "body.username"},
		{"keepcid without cidnumber", "POST", sip, jsonType, reg(`, "keepcid": true`), 400, "body.cidnumber"},
		{"tel_uri enabled with rmv_obp_from_route", "POST", sip, jsonType, reg(`, "tel_uri": "enabled", "rmv_obp_from_route": true`), 400, "body.rmv_obp_from_route"},
		{"ldap sync on a register trunk", "POST", sip, jsonType, reg(`, "ldap_sync_enable": true`), 400, "body.ldap_sync_enable"},
		{"ldap_sync_passwd with a space", "POST", sip, jsonType, reg(`, "ldap_sync_passwd": "a b c d"`), 400, "body.ldap_sync_passwd"},
		{"trunk_name too short", "POST", sip, jsonType, reg(`, "trunk_name": "t"`), 400, "body.trunk_name"},
		{"read-only status in a create", "POST", sip, jsonType, reg(`, "status": "Registered"`), 400, "body.status"},
		{"unknown field", "POST", sip, jsonType, reg(`, "Host": "x"`), 400, "body.Host"},
		{"trunk type cannot change", "PATCH", sip + "/1", mergePatch, `{"trunk_type": "peer"}`, 400, "body.trunk_type"},
		{"patch keepcid and null cidnumber", "PATCH", sip + "/1", mergePatch, `{"keepcid": true, "cidnumber": null}`, 400, "body.cidnumber"},
		{"empty patch", "PATCH", sip + "/1", mergePatch, `{}`, 400, "body"},
		{"trunk id 0", "GET", sip + "/0", "", "", 400, "path.trunk"},
		{"trunk id not a number", "GET", sip + "/abc", "", "", 400, ""},
		{"sip sort unknown", "GET", sip + "?sort=host", "", "", 400, "query.sort"},
		{"analog ringtimeout below range", "PATCH", "/v1/units/demo/trunks/analog/3", mergePatch, `{"ringtimeout": 3999}`, 400, "body.ringtimeout"},
		{"analog rxgain above range", "POST", "/v1/units/demo/trunks/analog", jsonType, `{"trunk_name": "a", "chans": 2, "rxgain": 12.5}`, 400, "body.rxgain"},
		{"analog without chans", "POST", "/v1/units/demo/trunks/analog", jsonType, `{"trunk_name": "a"}`, 400, "body.chans"},
		{"analog trunkgroup is the gateway's", "PATCH", "/v1/units/demo/trunks/analog/3", mergePatch, `{"trunkgroup": 9}`, 400, "body.trunkgroup"},
		{"sla holdaccess not in enum", "PUT", "/v1/units/demo/trunks/analog/3/sla", jsonType, `{"holdaccess": "shared"}`, 400, "body.holdaccess"},
		{"digital page_size 0", "GET", "/v1/units/demo/trunks/digital?page_size=0", "", "", 400, "query.page_size"},
		{"action challenge", "POST", "/v1/units/demo/actions/challenge", jsonType, `{"user": "api"}`, 400, "path.action"},
		{"action login", "POST", "/v1/units/demo/actions/login", jsonType, `{}`, 400, "path.action"},
		{"action logout", "POST", "/v1/units/demo/actions/logout", "", "", 400, "path.action"},
		{"action unknown", "POST", "/v1/units/demo/actions/rebootSystem", "", "", 400, "path.action"},
		{"smuggled action name with NUL", "POST", "/v1/units/demo/actions/getIVR", jsonType, `{"Action\u0000": "login"}`, 400, "body"},
		{"smuggled action name with a space", "POST", "/v1/units/demo/actions/getIVR", jsonType, `{"action ": "login"}`, 400, "body"},
		{"control character in a parameter", "POST", "/v1/units/demo/actions/getIVR", jsonType, `{"ivr": "7000\r\n"}`, 400, "body.ivr"},
		{"line break in a trunk field", "POST", "/v1/units/demo/trunks/sip", jsonType, `{"trunk_name": "x1", "trunk_type": "peer", "host": "sip.example.net", "fromuser": "abc\ncontext=from-internal"}`, 400, "body.fromuser"},
		{"call control is not relayed", "POST", "/v1/units/demo/actions/dialExtension", jsonType, `{"caller": "1000", "callee": "1001"}`, 400, "path.action"},
		{"hangup is not relayed", "POST", "/v1/units/demo/actions/Hangup", jsonType, `{"channel": "PJSIP/1000-1"}`, 400, "path.action"},
		{"cdrapi is not relayed", "POST", "/v1/units/demo/actions/cdrapi", "", "", 400, "path.action"},
		{"an action with a resource", "POST", "/v1/units/demo/actions/addSIPTrunk", "", "", 400, "path.action"},
		{"parameter named action", "POST", "/v1/units/demo/actions/listPinSets", jsonType, `{"action": "login"}`, 400, "body.action"},
		{"parameter named cookie", "POST", "/v1/units/demo/actions/getIVR", jsonType, `{"ivr": "7000", "Cookie": "sid1-2"}`, 400, "body.Cookie"},
		{"parameters not an object", "POST", "/v1/units/demo/actions/getIVR", jsonType, `["7000"]`, 400, "body"},
		{"qr of a malformed extension", "GET", "/v1/units/demo/extensions/1a/qr", "", "", 400, "path.ext"},
	}
	// One unit for every case: none of them may reach it, so its counters stay at zero throughout.
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := e.do(t, tc.method, tc.path, tc.ctype, tc.body)
			assert.Equal(t, tc.wantStatus, code, "%s %s = %d; want %d; body %s", tc.method, tc.path, code, tc.wantStatus, body)
			p := problem(t, h, body)
			if tc.wantField != "" {
				var locs []string
				for _, fe := range p.Errors {
					locs = append(locs, fe.Location)
				}
				assert.Contains(t, locs, tc.wantField, "problem names the field: %s", body)
			}
			assert.Zero(t, e.sim.Counters().Challenges+e.sim.TotalCalls(), "the unit was called for a request the gateway could refuse itself")
			assert.NotContains(t, string(body), "S3cret-1", "a problem echoes a secret")
		})
	}
}

func TestSIPTrunkLifecycle(t *testing.T) {
	e := newEnv(t)
	sip := "/v1/units/demo/trunks/sip"

	// Create: 201, Location with the id the UCM did not return, staged, secret stored not shown.
	code, h, body := e.do(t, "POST", sip, jsonType,
		`{"trunk_name": "carrier-2", "trunk_type": "register", "host": "sip2.example.net", "username": "4930999", "secret": "Tr-Secret-42", "transport": "tls", "allow": ["opus", "ulaw"], "qualifyfreq": 30, "out_maxchans": 4, "keepcid": true, "cidnumber": "4930999"}`)
	require.Equal(t, http.StatusCreated, code, "body: %s", body)
	loc := h.Get("Location")
	require.Regexp(t, `^/v1/units/demo/trunks/sip/[0-9]+$`, loc)
	assert.Equal(t, "true", h.Get("X-Pending-Apply"))
	assert.NotContains(t, string(body), "Tr-Secret-42")
	var created map[string]any
	require.NoError(t, json.Unmarshal(body, &created))
	assert.Equal(t, loc, sip+"/"+jsonNumber(created["trunk_index"]))
	assert.Equal(t, true, created["pending_apply"])
	assert.Equal(t, []any{"opus", "ulaw"}, created["allow"])
	assert.Equal(t, true, created["keepcid"])
	assert.EqualValues(t, 30, created["qualifyfreq"])
	assert.Equal(t, "register", created["trunk_type"])
	assert.NotContains(t, created, "secret")
	idx := int(created["trunk_index"].(float64))
	stored, ok := e.sim.SIPTrunk(idx)
	require.True(t, ok)
	assert.Equal(t, "Tr-Secret-42", stored["secret"], "the secret reached the unit")
	assert.Equal(t, "opus,ulaw", stored["allow"], "codecs sent as the UCM's comma list")
	assert.Equal(t, "yes", stored["keepcid"])
	assert.Equal(t, 1, e.sim.Calls("addSIPTrunk"))

	// Read it back through Location.
	var got map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, loc, &got))
	assert.Equal(t, "carrier-2", got["trunk_name"])
	assert.Equal(t, "tls", got["transport"])
	assert.NotContains(t, got, "pending_apply", "pending_apply appears only in write responses")

	// Duplicate name: 409 from the UCM's -44.
	code, h, body = e.do(t, "POST", sip, jsonType, `{"trunk_name": "carrier-2", "trunk_type": "peer", "host": "192.0.2.9"}`)
	require.Equal(t, http.StatusConflict, code, "body: %s", body)
	assert.Equal(t, -44, *problem(t, h, body).UCMStatus)

	// Merge patch: absent fields stay, null resets, booleans become yes/no, secret write-only.
	code, _, body = e.do(t, "PATCH", loc, mergePatch, `{"out_maxchans": 12, "dtmfmode": "info", "nat": true, "secret": "New-Tr-Secret"}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.NotContains(t, string(body), "New-Tr-Secret")
	stored, _ = e.sim.SIPTrunk(idx)
	assert.EqualValues(t, 12, stored["out_maxchans"])
	assert.Equal(t, "info", stored["dtmfmode"])
	assert.Equal(t, "yes", stored["nat"])
	assert.Equal(t, "New-Tr-Secret", stored["secret"])
	assert.Equal(t, "tls", stored["transport"], "absent fields unchanged")
	code, _, body = e.do(t, "PATCH", loc, mergePatch, `{"dtmfmode": null}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	var patched map[string]any
	require.NoError(t, json.Unmarshal(body, &patched))
	assert.Nil(t, patched["dtmfmode"])
	assert.Contains(t, patched, "dtmfmode")
	assert.Equal(t, true, patched["pending_apply"])

	// Apply.
	code, _, body = e.do(t, "POST", "/v1/units/demo/config/apply", "", "")
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.False(t, e.sim.PendingApply())

	// Patch and apply in one call.
	code, _, body = e.do(t, "PATCH", loc+"?apply=true", mergePatch, `{"out_of_service": true}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.Contains(t, string(body), `"pending_apply":false`)
	assert.False(t, e.sim.PendingApply())

	// Delete, staged and applied in one call; then it is gone.
	code, h, _ = e.do(t, "DELETE", loc+"?apply=true", "", "")
	require.Equal(t, http.StatusNoContent, code)
	assert.Equal(t, "false", h.Get("X-Pending-Apply"))
	code, h, body = e.do(t, "GET", loc, "", "")
	require.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, -16, *problem(t, h, body).UCMStatus)
	code, _, _ = e.do(t, "DELETE", loc, "", "")
	assert.Equal(t, http.StatusNotFound, code)
	code, _, _ = e.do(t, "PATCH", loc, mergePatch, `{"nat": false}`)
	assert.Equal(t, http.StatusNotFound, code)
}

// A patch is judged on the trunk it would produce: the gateway reads the stored trunk and
// refuses before writing.
func TestSIPTrunkPatchCheckedAgainstStoredTrunk(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, path, body, wantField string
	}{
		{"register trunk loses its username", "/v1/units/demo/trunks/sip/1", `{"username": null}`, "body.username"},
		{"register trunk loses its secret", "/v1/units/demo/trunks/sip/1", `{"secret": ""}`, "body.secret"},
		{"register trunk gets LDAP sync", "/v1/units/demo/trunks/sip/1", `{"ldap_sync_enable": true}`, "body.ldap_sync_enable"},
		{"keepcid on a trunk without cidnumber", "/v1/units/demo/trunks/sip/2", `{"keepcid": true}`, "body.cidnumber"},
		{"cidnumber removed while keepcid", "/v1/units/demo/trunks/sip/1", `{"cidnumber": null}`, "body.cidnumber"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := e.do(t, "PATCH", tc.path, mergePatch, tc.body)
			require.Equal(t, http.StatusBadRequest, code, "body: %s", body)
			var locs []string
			for _, fe := range problem(t, h, body).Errors {
				locs = append(locs, fe.Location)
			}
			assert.Contains(t, locs, tc.wantField)
			assert.Zero(t, e.sim.Calls("updateSIPTrunk"), "nothing written")
		})
	}
	code, _, body := e.do(t, "PATCH", "/v1/units/demo/trunks/sip/2", mergePatch, `{"keepcid": true, "cidnumber": "4930777"}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	code, _, _ = e.do(t, "PATCH", "/v1/units/demo/trunks/sip/99", mergePatch, `{"keepcid": true, "cidnumber": "4930777"}`)
	assert.Equal(t, http.StatusNotFound, code)
}

func TestSIPTrunkPeerAndApplyRefused(t *testing.T) {
	e := newEnv(t)
	e.sim.SetApplyError(-69)
	code, h, body := e.do(t, "POST", "/v1/units/demo/trunks/sip?apply=true", jsonType,
		`{"trunk_name": "peer-hq", "trunk_type": "peer", "host": "192.0.2.77"}`)
	require.Equal(t, http.StatusCreated, code, "body: %s", body)
	assert.Equal(t, "true", h.Get("X-Pending-Apply"), "the apply failed, the write stands, staged")
	var created map[string]any
	require.NoError(t, json.Unmarshal(body, &created))
	assert.Nil(t, created["username"])
	assert.Equal(t, "peer", created["trunk_type"])

	code, h, body = e.do(t, "POST", "/v1/units/demo/config/apply", "", "")
	require.Equal(t, http.StatusConflict, code, "body: %s", body)
	assert.Equal(t, -69, *problem(t, h, body).UCMStatus)
	assert.NotEmpty(t, h.Get("Retry-After"))
	var unit map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo", &unit))
	assert.Equal(t, true, unit["pending_apply"])
}

// jsonNumber prints a decoded JSON number as the integer it is.
func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTrunkListsPage(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"t-a", "t-b", "t-c"} {
		code, _, body := e.do(t, "POST", "/v1/units/demo/trunks/sip", jsonType, `{"trunk_name": "`+name+`", "trunk_type": "peer", "host": "192.0.2.1"}`)
		require.Equal(t, http.StatusCreated, code, "body: %s", body)
	}
	var seen []int
	path := "/v1/units/demo/trunks/sip?page_size=2&sort=-trunk_index"
	for pages := 0; path != ""; pages++ {
		require.Less(t, pages, 10, "paging does not end")
		code, h, body := e.do(t, "GET", path, "", "")
		require.Equal(t, http.StatusOK, code, "body: %s", body)
		var page struct {
			Items []struct {
				Index    int     `json:"trunk_index"`
				Type     string  `json:"trunk_type"`
				Username *string `json:"username"`
			} `json:"items"`
			Next  string `json:"next_page_token"`
			Total int    `json:"total_items"`
		}
		require.NoError(t, json.Unmarshal(body, &page))
		assert.Equal(t, 5, page.Total)
		for _, it := range page.Items {
			seen = append(seen, it.Index)
		}
		path = ""
		if page.Next != "" {
			link := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(h.Get("Link"))
			require.NotNil(t, link, "Link header: %q", h.Get("Link"))
			path = link[1]
		} else {
			assert.Empty(t, h.Get("Link"))
		}
	}
	require.Len(t, seen, 5)
	for i := 1; i < len(seen); i++ {
		assert.Greater(t, seen[i-1], seen[i], "sorted by descending index: %v", seen)
	}

	// Quirks hidden: chans is "1" in getAnalogTrunk and listAnalogTrunk, trunk_index "1" in
	// listDigitalTrunk under digital_trunks; both are integers here.
	var analog struct {
		Items []map[string]any `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/trunks/analog", &analog))
	require.Len(t, analog.Items, 1)
	assert.Equal(t, 1.0, analog.Items[0]["chans"])
	var digital struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total_items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/trunks/digital?page_size=1", &digital))
	require.Len(t, digital.Items, 1)
	assert.Equal(t, 1.0, digital.Items[0]["trunk_index"])
	assert.Equal(t, "E1 (CPE)", digital.Items[0]["type"])
	assert.Equal(t, false, digital.Items[0]["out_of_service"])
}

func TestAnalogTrunkLifecycleAndSLA(t *testing.T) {
	e := newEnv(t)
	base := "/v1/units/demo/trunks/analog"
	code, h, body := e.do(t, "POST", base, jsonType, `{"trunk_name": "pstn-2", "chans": 2, "rxgain": -2.5, "busydetect": false, "ringtimeout": 12000}`)
	require.Equal(t, http.StatusCreated, code, "body: %s", body)
	loc := h.Get("Location")
	require.Regexp(t, `^/v1/units/demo/trunks/analog/[0-9]+$`, loc)
	var created map[string]any
	require.NoError(t, json.Unmarshal(body, &created))
	assert.Equal(t, -2.5, created["rxgain"])
	assert.Equal(t, 2.0, created["chans"])
	assert.Equal(t, false, created["busydetect"])
	idx := int(created["trunk_index"].(float64))

	// Same name again: 409.
	code, _, body = e.do(t, "POST", base, jsonType, `{"trunk_name": "pstn-2", "chans": 4}`)
	require.Equal(t, http.StatusConflict, code, "body: %s", body)

	code, _, body = e.do(t, "PATCH", loc, mergePatch, `{"ringtimeout": 9000, "out_of_service": true}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	stored, sla, ok := e.sim.AnalogTrunk(idx)
	require.True(t, ok)
	assert.EqualValues(t, 9000, stored["ringtimeout"])
	assert.Equal(t, "yes", stored["out_of_service"])
	assert.Nil(t, sla)

	// SLA: the first PUT adds (by name), the second updates (by index).
	code, _, body = e.do(t, "PUT", loc+"/sla", jsonType, `{"device": "DAHDI/2", "bargeallowed": false, "holdaccess": "private"}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.JSONEq(t, `{"device": "DAHDI/2", "bargeallowed": false, "holdaccess": "private", "pending_apply": true}`, string(body))
	code, _, body = e.do(t, "PUT", loc+"/sla", jsonType, `{"bargeallowed": true}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.Equal(t, 1, e.sim.Calls("addSLATrunk"))
	assert.Equal(t, 1, e.sim.Calls("updateSLATrunk"))
	stored, sla, _ = e.sim.AnalogTrunk(idx)
	assert.Equal(t, "SLA", stored["trunkmode"], "the unit spells it its own way; the second PUT still knew it")
	assert.Equal(t, map[string]any{"device": "DAHDI/2", "bargeallowed": "yes", "holdaccess": "private"}, sla)
	var got map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, loc, &got))
	assert.Equal(t, "sla", got["trunkmode"])

	code, _, _ = e.do(t, "PUT", base+"/999/sla", jsonType, `{"bargeallowed": true}`)
	assert.Equal(t, http.StatusNotFound, code)

	code, _, _ = e.do(t, "DELETE", loc, "", "")
	require.Equal(t, http.StatusNoContent, code)
	code, _, _ = e.do(t, "GET", loc, "", "")
	assert.Equal(t, http.StatusNotFound, code)
}

// The pass-through relays only what has no resource: every action a resource uses is refused
// before the unit is called, and what is relayed comes back as the UCM sent it.
func TestActions(t *testing.T) {
	e := newEnv(t)
	for _, action := range []string{"listQueue", "getQueue", "addQueue", "updateQueue", "deleteQueue",
		"loginLogoffQueueAgent", "pauseUnpauseQueueAgent", "queueapi", "listInboundRoute", "getInboundRoute",
		"listOutboundRoute", "getOutboundRoute", "listIVR", "listPaginggroup", "listUser", "getUser", "updateUser",
		"listExtensionGroup", "listDigitalTrunk", "dialOutboundTwo", "dialIVROutbound", "applyChanges"} {
		code, h, body := e.do(t, "POST", "/v1/units/demo/actions/"+action, jsonType, `{}`)
		require.Equal(t, http.StatusBadRequest, code, "%s: body %s", action, body)
		assert.Equal(t, "path.action", problem(t, h, body).Errors[0].Location, action)
	}
	assert.Zero(t, e.sim.TotalCalls(), "a refused action reached the unit")

	tests := []struct {
		name       string
		action     string
		body       string
		wantStatus int
		wantUCM    int
		wantApply  string
		check      func(t *testing.T, got map[string]any)
	}{
		{"a read, the UCM's values untouched", "getIVR", `{"ivr": "7000"}`, 200, 0, "false", func(t *testing.T, got map[string]any) {
			assert.Equal(t, "yes", got["ivr"].(map[string]any)["dial_extension"])
		}},
		{"missing item is 404", "getIVR", `{"ivr": "7999"}`, 404, -16, "", nil},
		{"missing parameter is 400", "getIVR", `{}`, 400, -1, "", nil},
		{"allowed but unknown to this firmware", "addIVR", `{"ivr_name": "x"}`, 400, -1, "", nil},
		{"a write is reported staged", "deleteIVR", `{"ivr": "7000"}`, 200, 0, "true", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.sim.Calls(tc.action)
			code, h, body := e.do(t, "POST", "/v1/units/demo/actions/"+tc.action, jsonType, tc.body)
			require.Equal(t, tc.wantStatus, code, "body: %s", body)
			assert.Equal(t, before+1, e.sim.Calls(tc.action), "exactly one call to the unit")
			if tc.wantUCM != 0 {
				assert.Equal(t, tc.wantUCM, *problem(t, h, body).UCMStatus)
				return
			}
			assert.Equal(t, tc.wantApply, h.Get("X-Pending-Apply"))
			var got map[string]any
			require.NoError(t, json.Unmarshal(body, &got))
			assert.NotContains(t, got, "status", "the response object, not the envelope")
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
	var unit map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo", &unit))
	assert.Equal(t, true, unit["pending_apply"])
}

// dropSecrets removes what a pass-through reply may carry in clear text, at any depth.
func TestDropSecrets(t *testing.T) {
	reply := map[string]any{
		"pinset": []any{map[string]any{"pinset_name": "managers", "pins": "1234,5678", "members": "1000"}},
		"trunk":  map[string]any{"trunk_name": "e1", "secret": "S1", "ldap_sync_passwd": "L1", "dial_password": "D1"},
		"user":   map[string]any{"user_name": "1000", "user_password": "U1", "email": "a@example.com"},
	}
	dropSecrets(reply)
	assert.Equal(t, map[string]any{
		"pinset": []any{map[string]any{"pinset_name": "managers", "members": "1000"}},
		"trunk":  map[string]any{"trunk_name": "e1"},
		"user":   map[string]any{"user_name": "1000", "email": "a@example.com"},
	}, reply)
}

func TestWaveQRAndChat(t *testing.T) {
	e := newEnv(t)
	code, h, body := e.do(t, "GET", "/v1/units/demo/extensions/1000/qr", "", "")
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.Equal(t, "image/png", h.Get("Content-Type"))
	_, err := png.Decode(bytes.NewReader(body))
	require.NoError(t, err, "a decodable PNG")

	code, h, body = e.do(t, "GET", "/v1/units/demo/extensions/1999/qr", "", "")
	require.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, -16, *problem(t, h, body).UCMStatus)

	code, h, _ = e.do(t, "DELETE", "/v1/units/demo/extensions/1001/wave-chat", "", "")
	require.Equal(t, http.StatusNoContent, code)
	assert.Equal(t, 1, e.sim.Calls("cleanTerminalChatInformation"))
	code, _, _ = e.do(t, "DELETE", "/v1/units/demo/extensions/1999/wave-chat", "", "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.False(t, e.sim.PendingApply(), "clearing the chat stages nothing")
}

func TestNoTrunkSecretInResponsesOrLogs(t *testing.T) {
	e := newEnv(t)
	var secrets []string
	for _, idx := range []int{1, 2} {
		stored, ok := e.sim.SIPTrunk(idx)
		require.True(t, ok)
		for _, k := range []string{"secret", "ldap_sync_passwd"} {
			if s, ok := stored[k].(string); ok && s != "" {
				secrets = append(secrets, s)
			}
		}
	}
	require.Len(t, secrets, 2)
	var bodies strings.Builder
	for _, p := range []string{"/v1/units/demo/trunks/sip/1", "/v1/units/demo/trunks/sip/2", "/v1/units/demo/trunks/sip?page_size=100"} {
		_, _, b := e.do(t, "GET", p, "", "")
		bodies.Write(b)
	}
	_, _, b := e.do(t, "POST", "/v1/units/demo/trunks/sip", jsonType, `{"trunk_name": "t-x", "trunk_type": "peer", "host": "h", "secret": "Wr1te-Only-Trunk", "ldap_sync_passwd": "Ldap_Wr1te_Only"}`)
	bodies.Write(b)
	secrets = append(secrets, "Wr1te-Only-Trunk", "Ldap_Wr1te_Only")
	out, logs := bodies.String(), e.logs.String()
	for _, s := range secrets {
		assert.NotContains(t, out, s, "a response leaks a secret")
		assert.NotContains(t, logs, s, "the log leaks a secret")
	}
}
