package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoutingAndGroupReads(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		path string
		want map[string]any // the one item (lists: the first)
	}{
		{"/v1/units/demo/routes/inbound", map[string]any{"inbound_rt_index": 1.0, "trunk_index": 1.0, "did_pattern_match": "_X.", "destination_type": "queue", "queue": "6500", "out_of_service": false}},
		{"/v1/units/demo/routes/inbound/1", map[string]any{"inbound_rt_index": 1.0, "trunk_index": 1.0, "did_pattern_match": "_X.", "destination_type": "queue", "queue": "6500", "out_of_service": false}},
		{"/v1/units/demo/routes/outbound", map[string]any{"outbound_rt_index": 1.0, "outbound_rt_name": "national", "pattern": "_0XXXXXXXXX", "permission": "internal-local-national", "default_trunk_index": 1.0, "out_of_service": false}},
		{"/v1/units/demo/routes/outbound/2", map[string]any{"outbound_rt_index": 2.0, "outbound_rt_name": "branch", "pattern": "_7XXX", "permission": "internal", "default_trunk_index": 2.0, "out_of_service": false}},
		{"/v1/units/demo/ivrs", map[string]any{"extension": "7000", "ivr_name": "Main menu", "prompt": "welcome", "dial_extension": true, "ivr_out_of_service": false}},
		{"/v1/units/demo/ivrs/7000", map[string]any{"extension": "7000", "ivr_name": "Main menu", "prompt": "welcome", "dial_extension": true, "ivr_out_of_service": false}},
		{"/v1/units/demo/paging-groups", map[string]any{"extension": "7100", "paginggroup_name": "Warehouse", "paginggroup_type": "2way", "members": []any{"1000", "1001", "1005"}}},
		{"/v1/units/demo/paging-groups/7100", map[string]any{"extension": "7100", "paginggroup_name": "Warehouse", "paginggroup_type": "2way", "members": []any{"1000", "1001", "1005"}}},
		{"/v1/units/demo/extension-groups", map[string]any{"group_id": "extension_group-1", "group_name": "Front office", "members": []any{"1000", "1001", "1005"}}},
		{"/v1/units/demo/extension-groups/extension_group-1", map[string]any{"group_id": "extension_group-1", "group_name": "Front office", "members": []any{"1000", "1001", "1005"}}},
		{"/v1/units/demo/trunks/digital/1", map[string]any{"trunk_index": 1.0, "trunk_name": "e1-carrier", "type": "E1 (CPE)", "span": 3.0, "channel": "1-15,17-31", "out_of_service": false}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			var got map[string]any
			require.Equal(t, http.StatusOK, e.getJSON(t, tc.path, &got))
			if items, isList := got["items"].([]any); isList {
				require.NotEmpty(t, items)
				assert.Positive(t, got["total_items"])
				got = items[0].(map[string]any)
			}
			assert.Equal(t, tc.want, got)
		})
	}
	for _, tc := range []struct {
		path string
		ucm  bool // the unit said -16; otherwise the gateway found nothing in the list
	}{
		{"/v1/units/demo/routes/inbound/9", true},
		{"/v1/units/demo/routes/outbound/9", true},
		{"/v1/units/demo/ivrs/7999", false},
		{"/v1/units/demo/paging-groups/7999", false},
		{"/v1/units/demo/extension-groups/extension_group-9", false},
		{"/v1/units/demo/trunks/digital/9", false},
	} {
		code, h, body := e.do(t, "GET", tc.path, "", "")
		require.Equal(t, http.StatusNotFound, code, "%s: %s", tc.path, body)
		p := problem(t, h, body)
		assert.Equal(t, "urn:ucm-gateway:problem:not-found", p.Type)
		assert.Equal(t, tc.ucm, p.UCMStatus != nil, "%s: %s", tc.path, body)
	}
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	code, _, body := e.do(t, "POST", "/v1/units/demo/extensions", jsonType, `{"extension": "2001", "secret": "Ext-Secret-2001", "user_password": "Portal-Pass-2001", "first_name": "Grace", "last_name": "Hopper"}`)
	require.Equal(t, http.StatusCreated, code, "body: %s", body)

	var bodies strings.Builder
	var list struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total_items"`
	}
	code, _, body = e.do(t, "GET", "/v1/units/demo/users?page_size=100", "", "")
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	bodies.Write(body)
	require.NoError(t, json.Unmarshal(body, &list))
	assert.Equal(t, 7, list.Total)
	assert.Equal(t, map[string]any{"user_name": "1000", "first_name": "Alice", "last_name": "Martin", "email": "", "department": ""}, list.Items[0])

	var u map[string]any
	code, _, body = e.do(t, "GET", "/v1/units/demo/users/2001", "", "")
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	bodies.Write(body)
	require.NoError(t, json.Unmarshal(body, &u))
	assert.Equal(t, "Grace", u["first_name"])

	code, _, body = e.do(t, "PATCH", "/v1/units/demo/users/1002", mergePatch, `{"last_name": "Diaz-Ruiz", "email": "carla@example.com", "department": "Sales"}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	bodies.Write(body)
	require.NoError(t, json.Unmarshal(body, &u))
	assert.Equal(t, map[string]any{"user_name": "1002", "first_name": "Carla", "last_name": "Diaz-Ruiz", "email": "carla@example.com", "department": "Sales", "pending_apply": true}, u)
	stored, _ := e.sim.User("1002")
	assert.Equal(t, "Sales", stored["department"])
	var ext map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/extensions/1002", &ext))
	assert.Equal(t, "Carla Diaz-Ruiz", ext["fullname"], "the caller id name follows the user's names")

	code, h, body := e.do(t, "GET", "/v1/units/demo/users/1999", "", "")
	require.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, -16, *problem(t, h, body).UCMStatus)
	code, _, _ = e.do(t, "PATCH", "/v1/units/demo/users/1999", mergePatch, `{"department": "x"}`)
	assert.Equal(t, http.StatusNotFound, code)

	// getUser returns the portal password in clear text; no user resource does.
	assert.NotContains(t, bodies.String(), "Portal-Pass-2001")
	assert.NotContains(t, bodies.String(), "user_password")
	assert.NotContains(t, e.logs.String(), "Portal-Pass-2001")
}
