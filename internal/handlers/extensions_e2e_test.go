package handlers

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const mergePatch = "application/merge-patch+json"

func TestBadInputNeverReachesTheUnit(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		ctype      string
		body       string
		wantStatus int
		wantField  string
	}{
		{"unknown unit", "GET", "/v1/units/nope/extensions/1000", "", "", 404, ""},
		{"unit id not a slug", "GET", "/v1/units/Bad_Unit/extensions/1000", "", "", 400, "path.unit"},
		{"malformed extension id", "GET", "/v1/units/demo/extensions/12a", "", "", 400, "path.ext"},
		{"one-digit extension", "GET", "/v1/units/demo/extensions/1", "", "", 400, "path.ext"},
		{"max_contacts out of range", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"max_contacts": 11}`, 400, "body.max_contacts"},
		{"ring_timeout below range", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"ring_timeout": 2}`, 400, "body.ring_timeout"},
		{"qualifyfreq above range", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"qualifyfreq": 3601}`, 400, "body.qualifyfreq"},
		{"unknown field", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"foo": 1}`, 400, "body.foo"},
		{"line break in a free-text field", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"dndwhitelist": "1001\ncontext=x"}`, 400, "body.dndwhitelist"},
		{"NUL in a presence forward", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"sip_presence_settings": [{"presence_status": "away", "cfu": "65\u000000"}]}`, 400, "body.sip_presence_settings.0.cfu"},
		{"field differing only in case", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"DND": true}`, 400, "body.DND"},
		{"yes/no where a boolean is due", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"dnd": "yes"}`, 400, "body.dnd"},
		{"permission not in enum", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"permission": "everything"}`, 400, "body.permission"},
		{"unknown codec", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"allow": ["ulaw", "mp3"]}`, 400, "body.allow.1"},
		{"bad presence time condition", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"sip_presence_settings": [{"presence_status": "away", "cfu_timetype": 7}]}`, 400, "body.sip_presence_settings.0.cfu_timetype"},
		{"empty patch", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{}`, 400, "body"},
		{"patch as plain json", "PATCH", "/v1/units/demo/extensions/1000", "application/json", `{"dnd": true}`, 415, "header.Content-Type"},
		{"not json", "POST", "/v1/units/demo/extensions", "application/json", `{bad`, 400, "body"},
		{"create without secret", "POST", "/v1/units/demo/extensions", "application/json", `{"extension": "2001"}`, 400, "body.secret"},
		{"create with bad number", "POST", "/v1/units/demo/extensions", "application/json", `{"extension": "20a1", "secret": "Abcdef12"}`, 400, "body.extension"},
		{"read-only field in a write", "PATCH", "/v1/units/demo/extensions/1000", mergePatch, `{"account_type": "SIP"}`, 400, "body.account_type"},
		{"page_size too large", "GET", "/v1/units/demo/extensions?page_size=5000", "", "", 400, "query.page_size"},
		{"forged page token", "GET", "/v1/units/demo/extensions?page_token=abc", "", "", 400, "query.page_token"},
		{"wrong method", "PUT", "/v1/units/demo/extensions/1000", "", "", 405, ""},
		{"no such path", "GET", "/v1/units/demo/nothing", "", "", 404, ""},
		{"body too large", "POST", "/v1/units/demo/extensions", "application/json", `{"extension":"2001","secret":"` + strings.Repeat("x", 70<<10) + `"}`, 413, ""},
	}
	// One gateway for every case: none of them may reach the unit, which each case checks.
	e := newEnv(t)
	unitCalls := func() int { return e.sim.Counters().Challenges + e.sim.TotalCalls() }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := unitCalls()
			code, h, body := e.do(t, tc.method, tc.path, tc.ctype, tc.body)
			assert.Equal(t, tc.wantStatus, code, "%s %s = %d; want %d; body %s", tc.method, tc.path, code, tc.wantStatus, body)
			p := problem(t, h, body)
			assert.Equal(t, tc.wantStatus, p.Status)
			if tc.wantField != "" {
				var locs []string
				for _, fe := range p.Errors {
					locs = append(locs, fe.Location)
				}
				assert.Contains(t, locs, tc.wantField, "problem names the field: %s", body)
			}
			assert.Equal(t, before, unitCalls(), "the unit was called for a request the gateway could refuse itself")
		})
	}
}

func TestExtensionLifecycle(t *testing.T) {
	e := newEnv(t)

	// Create: 201, Location, staged. Call forwarding, language and Wave privilege as the guide's
	// sample sends them.
	code, h, body := e.do(t, "POST", "/v1/units/demo/extensions", "application/json",
		`{"extension": "2001", "secret": "Cr3ate-Secret-2001", "vmsecret": "7788", "first_name": "Grace", "last_name": "Hopper", "permission": "internal-local", "max_contacts": 2, "allow": ["opus", "ulaw"], "voicemail": {"vm_attach": true},
		  "language": "ch", "wave_privilege_id": 0,
		  "sip_presence_settings": [{"presence_status": "available", "cfn": "6500", "cfn_destination_type": 5, "cfn_timetype": 0}]}`)
	require.Equal(t, http.StatusCreated, code, "body: %s", body)
	assert.Equal(t, "/v1/units/demo/extensions/2001", h.Get("Location"))
	assert.Equal(t, "true", h.Get("X-Pending-Apply"))
	var created map[string]any
	require.NoError(t, json.Unmarshal(body, &created))
	assert.Equal(t, true, created["pending_apply"])
	assert.Equal(t, "internal-local", created["permission"])
	assert.EqualValues(t, 2, created["max_contacts"])
	assert.Equal(t, []any{"opus", "ulaw"}, created["allow"])
	assert.Equal(t, map[string]any{"vm_attach": true, "vm_reserve": nil}, created["voicemail"])
	assert.NotContains(t, string(body), "Cr3ate-Secret-2001")
	stored, ok := e.sim.Extension("2001")
	require.True(t, ok)
	assert.Equal(t, "Cr3ate-Secret-2001", stored["secret"], "the secret reached the unit")
	assert.Equal(t, "opus,ulaw", stored["allow"], "codecs sent as the UCM's comma list")
	avail := stored["sip_presence_settings"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"presence_status": "available", "cfn": "6500", "cfn_destination_type": "5", "cfn_timetype": 0},
		map[string]any{"presence_status": avail["presence_status"], "cfn": avail["cfn"], "cfn_destination_type": avail["cfn_destination_type"], "cfn_timetype": avail["cfn_timetype"]},
		"the forwarding reached the unit (as presence_settings, the name add takes)")
	assert.Len(t, created["sip_presence_settings"], 5, "and is read back")

	var unit map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo", &unit))
	assert.Equal(t, true, unit["pending_apply"])

	// Duplicate: 409.
	code, h, body = e.do(t, "POST", "/v1/units/demo/extensions", "application/json", `{"extension": "2001", "secret": "Another-1"}`)
	require.Equal(t, http.StatusConflict, code, "body: %s", body)
	assert.Equal(t, -44, *problem(t, h, body).UCMStatus)

	// Merge patch: nulls reset, absent fields stay, booleans become yes/no.
	code, _, body = e.do(t, "PATCH", "/v1/units/demo/extensions/2001", mergePatch,
		`{"ring_timeout": 45, "dnd": true, "sip_presence_settings": [{"presence_status": "away", "cfu": "6500", "cfu_destination_type": 2, "cfu_timetype": 0}]}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	stored, _ = e.sim.Extension("2001")
	assert.Equal(t, "yes", stored["dnd"])
	assert.EqualValues(t, 45, stored["ring_timeout"])
	assert.Equal(t, "internal-local", stored["permission"], "absent fields unchanged")
	code, _, body = e.do(t, "PATCH", "/v1/units/demo/extensions/2001", mergePatch, `{"ring_timeout": null}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	var patched map[string]any
	require.NoError(t, json.Unmarshal(body, &patched))
	assert.Nil(t, patched["ring_timeout"])
	assert.Equal(t, true, patched["dnd"])
	var away map[string]any
	for _, ps := range patched["sip_presence_settings"].([]any) {
		if m := ps.(map[string]any); m["presence_status"] == "away" {
			away = m
		}
	}
	assert.Equal(t, "6500", away["cfu"])
	assert.EqualValues(t, 2, away["cfu_destination_type"])

	// Apply.
	code, _, body = e.do(t, "POST", "/v1/units/demo/config/apply", "", "")
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.JSONEq(t, `{"applied": true, "pending_apply": false}`, string(body))
	assert.False(t, e.sim.PendingApply())

	// Delete, then it is gone.
	code, h, _ = e.do(t, "DELETE", "/v1/units/demo/extensions/2001?apply=true", "", "")
	require.Equal(t, http.StatusNoContent, code)
	assert.Equal(t, "false", h.Get("X-Pending-Apply"), "applied in the same call")
	code, h, body = e.do(t, "GET", "/v1/units/demo/extensions/2001", "", "")
	require.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, -16, *problem(t, h, body).UCMStatus)
	code, _, _ = e.do(t, "DELETE", "/v1/units/demo/extensions/2001", "", "")
	assert.Equal(t, http.StatusNotFound, code)
}

// updateSIPAccount's reply carries no need_apply (the guide's own sample), yet the write is staged
// on the unit: pending_apply and ?apply=true follow the write, not the reply's wording.
func TestUpdateIsStagedWithoutNeedApply(t *testing.T) {
	e := newEnv(t)
	code, _, body := e.do(t, "PATCH", "/v1/units/demo/extensions/1001", mergePatch, `{"dnd": true}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	require.True(t, e.sim.PendingApply(), "the unit staged the write")
	assert.Contains(t, string(body), `"pending_apply":true`)
	var unit map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo", &unit))
	assert.Equal(t, true, unit["pending_apply"])

	code, _, body = e.do(t, "PATCH", "/v1/units/demo/extensions/1001?apply=true", mergePatch, `{"dnd": false}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.Contains(t, string(body), `"pending_apply":false`)
	assert.Equal(t, 1, e.sim.Calls("applyChanges"), "apply=true applied")
	assert.False(t, e.sim.PendingApply())
}

func TestApplyRefusedDuringConference(t *testing.T) {
	for _, status := range []int{-69, -98} {
		e := newEnv(t)
		e.sim.SetApplyError(status)
		code, h, body := e.do(t, "POST", "/v1/units/demo/config/apply", "", "")
		require.Equal(t, http.StatusConflict, code, "body: %s", body)
		assert.Equal(t, status, *problem(t, h, body).UCMStatus)
		assert.NotEmpty(t, h.Get("Retry-After"))

		// A write with ?apply=true whose apply fails still reports success, staged.
		code, h, body = e.do(t, "PATCH", "/v1/units/demo/extensions/1001?apply=true", mergePatch, `{"dnd": true}`)
		require.Equal(t, http.StatusOK, code, "body: %s", body)
		assert.Contains(t, string(body), `"pending_apply":true`)
	}
}

func TestListPagesThroughEveryExtension(t *testing.T) {
	e := newEnv(t)
	var seen []string
	path := "/v1/units/demo/extensions?page_size=2&sort=-extension"
	for pages := 0; path != ""; pages++ {
		require.Less(t, pages, 10, "paging does not end")
		code, h, body := e.do(t, "GET", path, "", "")
		require.Equal(t, http.StatusOK, code, "body: %s", body)
		var page struct {
			Items []struct {
				Extension string `json:"extension"`
				Addr      any    `json:"addr"`
				Urgemsg   *int   `json:"urgemsg"`
			} `json:"items"`
			Next  string `json:"next_page_token"`
			Total int    `json:"total_items"`
		}
		require.NoError(t, json.Unmarshal(body, &page))
		assert.Equal(t, 6, page.Total)
		for _, it := range page.Items {
			seen = append(seen, it.Extension)
			assert.NotEqual(t, "-", it.Addr, "the UCM's '-' for unregistered becomes null")
			want := 0
			if it.Extension == "1001" {
				want = 1
			}
			if assert.NotNil(t, it.Urgemsg, "%s: the unit's urgmsg is read", it.Extension) {
				assert.Equal(t, want, *it.Urgemsg, it.Extension)
			}
		}
		path = ""
		if page.Next != "" {
			link := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(h.Get("Link"))
			require.NotNil(t, link, "Link header: %q", h.Get("Link"))
			path = link[1]
			assert.Contains(t, path, "page_token="+page.Next)
		} else {
			assert.Empty(t, h.Get("Link"))
		}
	}
	assert.Equal(t, []string{"1005", "1004", "1003", "1002", "1001", "1000"}, seen)

	// A token used with another page size is refused, not silently misread.
	_, _, body := e.do(t, "GET", "/v1/units/demo/extensions?page_size=2", "", "")
	var first struct {
		Next string `json:"next_page_token"`
	}
	require.NoError(t, json.Unmarshal(body, &first))
	code, _, _ := e.do(t, "GET", "/v1/units/demo/extensions?page_size=3&page_token="+first.Next, "", "")
	assert.Equal(t, http.StatusBadRequest, code)
}

var cookieRE = regexp.MustCompile(`sid[0-9]+-[0-9]+`)

func TestNoSecretInResponsesOrLogs(t *testing.T) {
	e := newEnv(t)
	var secrets []string
	for _, ext := range []string{"1000", "1001", "1002", "1003", "1004", "1005"} {
		stored, ok := e.sim.Extension(ext)
		require.True(t, ok)
		for _, k := range []string{"secret", "vmsecret", "user_outrt_passwd"} {
			if s, ok := stored[k].(string); ok && s != "" {
				secrets = append(secrets, s)
			}
		}
	}
	require.NotEmpty(t, secrets)
	var bodies strings.Builder
	for _, ext := range []string{"1000", "1001", "1002", "1003", "1004", "1005"} {
		_, _, b := e.do(t, "GET", "/v1/units/demo/extensions/"+ext, "", "")
		bodies.Write(b)
	}
	_, _, b := e.do(t, "GET", "/v1/units/demo/extensions?page_size=100", "", "")
	bodies.Write(b)
	_, _, b = e.do(t, "POST", "/v1/units/demo/extensions", "application/json", `{"extension": "2002", "secret": "Wr1te-Only-Secret", "user_outrt_passwd": "123"}`)
	bodies.Write(b) // a validation error echoing input
	_, _, b = e.do(t, "PATCH", "/v1/units/demo/extensions/1001", mergePatch, `{"secret": "Wr1te-Only-Secret2"}`)
	bodies.Write(b)
	_, _, b = e.do(t, "GET", "/metrics", "", "")
	bodies.Write(b)
	secrets = append(secrets, "Wr1te-Only-Secret", "Wr1te-Only-Secret2", simPassword)

	out, logs := bodies.String(), e.logs.String()
	for _, s := range secrets {
		assert.NotContains(t, out, s, "a response or metric leaks a secret")
		assert.NotContains(t, logs, s, "the log leaks a secret")
	}
	assert.False(t, cookieRE.MatchString(out), "a response leaks a cookie")
	assert.False(t, cookieRE.MatchString(logs), "the log leaks a cookie")
	assert.Contains(t, logs, `"ucm_calls":"getSIPAccount:ok"`, "request log lines carry the UCM action")
}
