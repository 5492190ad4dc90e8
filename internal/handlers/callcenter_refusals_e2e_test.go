package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
)

// Every new operation refuses bad input itself, naming the field, without calling the unit.
func TestCallCenterBadInputNeverReachesTheUnit(t *testing.T) {
	q := "/v1/units/demo/queues"
	create := func(extra string) string {
		return `{"extension": "6502", "queue_name": "Billing", "strategy": "linear"` + extra + `}`
	}
	tests := []struct {
		name, method, path, ctype, body, wantField string
	}{
		{"queue number of one digit", "GET", q + "/6", "", "", "path.queue"},
		{"queue page_size 0", "GET", q + "?page_size=0", "", "", "query.page_size"},
		{"create without a strategy", "POST", q, jsonType, `{"extension": "6502", "queue_name": "Billing"}`, "body.strategy"},
		{"create without a name", "POST", q, jsonType, `{"extension": "6502", "strategy": "linear"}`, "body.queue_name"},
		{"create with a bad number", "POST", q, jsonType, `{"extension": "65a", "queue_name": "B", "strategy": "linear"}`, "body.extension"},
		{"unknown strategy", "POST", q, jsonType, create(`, "strategy": "wrandom"`), "body.strategy"},
		{"ringtime 0", "POST", q, jsonType, create(`, "ringtime": 0`), "body.ringtime"},
		{"ringtime 601", "POST", q, jsonType, create(`, "ringtime": 601`), "body.ringtime"},
		{"maxlen negative", "POST", q, jsonType, create(`, "maxlen": -1`), "body.maxlen"},
		{"wrapuptime not a number", "POST", q, jsonType, create(`, "wrapuptime": "10"`), "body.wrapuptime"},
		{"a member that is no extension number", "POST", q, jsonType, create(`, "members": ["1000", "10a"]`), "body.members.1"},
		{"a member twice", "POST", q, jsonType, create(`, "members": ["1000", "1000"]`), "body.members"},
		{"members as the UCM's string", "POST", q, jsonType, create(`, "members": "1000,1001"`), "body.members"},
		{"unknown field", "POST", q, jsonType, create(`, "ring_time": 10`), "body.ring_time"},
		{"empty patch", "PATCH", q + "/6500", mergePatch, `{}`, "body"},
		{"null strategy", "PATCH", q + "/6500", mergePatch, `{"strategy": null}`, "body.strategy"},
		{"the number cannot change", "PATCH", q + "/6500", mergePatch, `{"extension": "6509"}`, "body.extension"},
		{"patch as plain JSON", "PATCH", q + "/6500", jsonType, `{"maxlen": 1}`, "header.Content-Type"},
		{"agent patch empty", "PATCH", q + "/6501/agents/1003", mergePatch, `{}`, "body"},
		{"agent paused as a string", "PATCH", q + "/6501/agents/1003", mergePatch, `{"paused": "yes"}`, "body.paused"},
		{"agent logged_in null", "PATCH", q + "/6501/agents/1003", mergePatch, `{"logged_in": null}`, "body.logged_in"},
		{"agent unknown field", "PATCH", q + "/6501/agents/1003", mergePatch, `{"queue": "6500"}`, "body.queue"},
		{"agent of a bad extension", "PATCH", q + "/6501/agents/10x3", mergePatch, `{"paused": true}`, "path.ext"},
		{"stats from not a date", "GET", q + "/6500/stats?from=yesterday", "", "", "query.from"},
		{"stats from a date-time", "GET", q + "/6500/stats?from=2025-01-13T00:00:00Z", "", "", "query.from"},
		{"stats to before from", "GET", q + "/6500/stats?from=2025-01-13&to=2025-01-12", "", "", "query.to"},
		{"waiting of a bad queue", "GET", q + "/65x0/waiting", "", "", "path.queue"},
		{"route 0", "GET", "/v1/units/demo/routes/inbound/0", "", "", "path.route"},
		{"ivr of a bad number", "GET", "/v1/units/demo/ivrs/7", "", "", "path.ivr"},
		{"paging group of a bad number", "GET", "/v1/units/demo/paging-groups/x", "", "", "path.group"},
		{"extension group starting with a dash", "GET", "/v1/units/demo/extension-groups/-x", "", "", "path.group"},
		{"digital trunk 0", "GET", "/v1/units/demo/trunks/digital/0", "", "", "path.trunk"},
		{"user name with a space", "GET", "/v1/units/demo/users/a%20b", "", "", "path.user_name"},
		{"user e-mail without a domain", "PATCH", "/v1/units/demo/users/1000", mergePatch, `{"email": "alice"}`, "body.email"},
		{"user field not writable", "PATCH", "/v1/units/demo/users/1000", mergePatch, `{"user_password": "x"}`, "body.user_password"},
		{"user name too long", "PATCH", "/v1/units/demo/users/1000", mergePatch, `{"first_name": "` + strings.Repeat("a", 65) + `"}`, "body.first_name"},
		{"from an outside number to an extension", "POST", "/v1/units/demo/calls", jsonType, `{"from": {"type": "external", "number": "+15550001111"}, "to": {"type": "extension", "number": "1000"}}`, "body.to.type"},
		{"from an outside number to a queue", "POST", "/v1/units/demo/calls", jsonType, `{"from": {"type": "external", "number": "+15550001111"}, "to": {"type": "queue", "number": "6500"}}`, "body.to.type"},
		{"from an outside number to a short IVR", "POST", "/v1/units/demo/calls", jsonType, `{"from": {"type": "external", "number": "+15550001111"}, "to": {"type": "ivr", "number": "7"}}`, "body.to.number"},
		{"from an extension object with a phone number", "POST", "/v1/units/demo/calls", jsonType, `{"from": {"type": "extension", "number": "+15550001111"}, "to": {"type": "extension", "number": "1000"}}`, "body.from.number"},
		{"from an unknown kind", "POST", "/v1/units/demo/calls", jsonType, `{"from": {"type": "sip", "number": "1000"}, "to": {"type": "extension", "number": "1001"}}`, "body.from"},
		{"from a letter", "POST", "/v1/units/demo/calls", jsonType, `{"from": {"type": "external", "number": "abc"}, "to": {"type": "external", "number": "+15550001111"}}`, "body.from"},
		{"from a short string", "POST", "/v1/units/demo/calls", jsonType, `{"from": "1", "to": {"type": "external", "number": "+15550001111"}}`, "body.from"},
		{"a read action with a control character", "POST", "/v1/units/demo/actions/getIVR", jsonType, `{"ivr": "7000\u0000"}`, "body.ivr"},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := e.do(t, tc.method, tc.path, tc.ctype, tc.body)
			require.Contains(t, []int{http.StatusBadRequest, http.StatusUnsupportedMediaType}, code, "%s %s = %d; body %s", tc.method, tc.path, code, body)
			var locs []string
			for _, fe := range problem(t, h, body).Errors {
				locs = append(locs, fe.Location)
			}
			assert.Contains(t, locs, tc.wantField, "the problem names the field: %s", body)
			assert.Zero(t, e.sim.Counters().Challenges+e.sim.TotalCalls(), "the unit was called for a request the gateway could refuse itself")
		})
	}
}

// The UCM's refusals map as everywhere else: -16 → 404, -44 → 409, -47 → 502 (the gateway's own
// privileges), for every new operation.
func TestCallCenterUCMErrors(t *testing.T) {
	ops := []struct {
		name, method, path, ctype, body, action string
	}{
		{"list queues", "GET", "/v1/units/demo/queues", "", "", "listQueue"},
		{"get a queue", "GET", "/v1/units/demo/queues/6500", "", "", "getQueue"},
		{"create a queue", "POST", "/v1/units/demo/queues", jsonType, `{"extension": "6502", "queue_name": "B", "strategy": "random"}`, "addQueue"},
		{"update a queue", "PATCH", "/v1/units/demo/queues/6500", mergePatch, `{"maxlen": 2}`, "updateQueue"},
		{"delete a queue", "DELETE", "/v1/units/demo/queues/6500", "", "", "deleteQueue"},
		{"list agents", "GET", "/v1/units/demo/queues/6500/agents", "", "", "getQueue"},
		{"log an agent in", "PATCH", "/v1/units/demo/queues/6501/agents/1003", mergePatch, `{"logged_in": true}`, "loginLogoffQueueAgent"},
		{"pause an agent", "PATCH", "/v1/units/demo/queues/6501/agents/1003", mergePatch, `{"paused": true}`, "pauseUnpauseQueueAgent"},
		{"stats", "GET", "/v1/units/demo/queues/6500/stats", "", "", "queueapi"},
		{"waiting callers", "GET", "/v1/units/demo/queues/6500/waiting", "", "", "listUnBridgedChannels"},
		{"list inbound routes", "GET", "/v1/units/demo/routes/inbound", "", "", "listInboundRoute"},
		{"get an inbound route", "GET", "/v1/units/demo/routes/inbound/1", "", "", "getInboundRoute"},
		{"list outbound routes", "GET", "/v1/units/demo/routes/outbound", "", "", "listOutboundRoute"},
		{"get an outbound route", "GET", "/v1/units/demo/routes/outbound/1", "", "", "getOutboundRoute"},
		{"list IVRs", "GET", "/v1/units/demo/ivrs", "", "", "listIVR"},
		{"get an IVR", "GET", "/v1/units/demo/ivrs/7000", "", "", "listIVR"},
		{"list paging groups", "GET", "/v1/units/demo/paging-groups", "", "", "listPaginggroup"},
		{"get a paging group", "GET", "/v1/units/demo/paging-groups/7100", "", "", "listPaginggroup"},
		{"list extension groups", "GET", "/v1/units/demo/extension-groups", "", "", "listExtensionGroup"},
		{"get an extension group", "GET", "/v1/units/demo/extension-groups/extension_group-1", "", "", "listExtensionGroup"},
		{"get a digital trunk", "GET", "/v1/units/demo/trunks/digital/1", "", "", "listDigitalTrunk"},
		{"list users", "GET", "/v1/units/demo/users", "", "", "listUser"},
		{"get a user", "GET", "/v1/units/demo/users/1000", "", "", "getUser"},
		{"update a user", "PATCH", "/v1/units/demo/users/1000", mergePatch, `{"department": "Support"}`, "updateUser"},
		{"call from outside", "POST", "/v1/units/demo/calls", jsonType, `{"from": {"type": "external", "number": "+15550001111"}, "to": {"type": "external", "number": "+15550002222"}}`, "dialOutboundTwo"},
		{"call from outside into an IVR", "POST", "/v1/units/demo/calls", jsonType, `{"from": {"type": "external", "number": "+15550001111"}, "to": {"type": "ivr", "number": "7000"}}`, "dialIVROutbound"},
	}
	e := newEnv(t)
	for _, tc := range ops {
		for _, st := range []struct{ ucm, want int }{{-16, 404}, {-44, 409}, {-47, 502}} {
			t.Run(tc.name+" "+strconv.Itoa(st.ucm), func(t *testing.T) {
				if tc.action == "queueapi" {
					e.sim.FailNext(1, st.ucm) // queueapi has no envelope to fail on its own: fail the next call
				} else {
					e.sim.SetActionError(tc.action, st.ucm)
					defer e.sim.SetActionError(tc.action, 0)
				}
				code, h, body := e.do(t, tc.method, tc.path, tc.ctype, tc.body)
				require.Equal(t, st.want, code, "%s with %s failing %d: %s", tc.name, tc.action, st.ucm, body)
				p := problem(t, h, body)
				require.NotNil(t, p.UCMStatus, "%s", body)
				assert.Equal(t, st.ucm, *p.UCMStatus)
				assert.Equal(t, "demo", p.Unit)
			})
		}
	}
}

// A read key lists queues and reads their stats, agents and waiting callers, and runs the
// pass-through's reads, but changes nothing; a calls key logs agents in and pauses them; a
// write key edits queues and users but not agents.
func TestCallCenterScopes(t *testing.T) {
	var keys []auth.Key
	key := map[string]string{}
	for name, scopes := range map[string][]auth.Scope{
		"wallboard": {auth.ScopeRead},
		"desktop":   {auth.ScopeCalls},
		"portal":    {auth.ScopeWrite},
		"operator":  {auth.ScopeAdmin},
	} {
		k, entry := testKey(t, name, scopes)
		key[name] = k
		keys = append(keys, entry)
	}
	agent := "/v1/units/demo/queues/6501/agents/1003"
	tests := []struct {
		key, method, path, ctype, body string
		want                           int
	}{
		{"wallboard", "GET", "/v1/units/demo/queues", "", "", 200},
		{"wallboard", "GET", "/v1/units/demo/queues/6500/stats", "", "", 200},
		{"wallboard", "GET", "/v1/units/demo/queues/6501/agents", "", "", 200},
		{"wallboard", "GET", "/v1/units/demo/queues/6500/waiting", "", "", 200},
		{"wallboard", "GET", "/v1/units/demo/users", "", "", 200},
		{"wallboard", "POST", "/v1/units/demo/actions/getIVR", jsonType, `{"ivr": "7000"}`, 200},
		{"wallboard", "PATCH", agent, mergePatch, `{"paused": true}`, 403},
		{"wallboard", "PATCH", "/v1/units/demo/queues/6500", mergePatch, `{"maxlen": 2}`, 403},
		{"wallboard", "POST", "/v1/units/demo/actions/deleteIVR", jsonType, `{"ivr": "7000"}`, 403},
		{"desktop", "PATCH", agent, mergePatch, `{"logged_in": true, "paused": true}`, 204},
		{"desktop", "PATCH", "/v1/units/demo/queues/6500", mergePatch, `{"maxlen": 2}`, 403},
		{"desktop", "GET", "/v1/units/demo/queues", "", "", 403},
		{"portal", "PATCH", "/v1/units/demo/queues/6500", mergePatch, `{"maxlen": 2}`, 200},
		{"portal", "POST", "/v1/units/demo/queues", jsonType, `{"extension": "6502", "queue_name": "B", "strategy": "random"}`, 201},
		{"portal", "PATCH", "/v1/units/demo/users/1000", mergePatch, `{"department": "Support"}`, 200},
		{"portal", "PATCH", agent, mergePatch, `{"paused": false}`, 403},
		{"operator", "POST", "/v1/units/demo/actions/deleteIVR", jsonType, `{"ivr": "7000"}`, 200},
		{"operator", "POST", "/v1/units/demo/actions/getIVR", jsonType, `{"ivr": "7000"}`, 403},
		{"operator", "PATCH", agent, mergePatch, `{"paused": false}`, 403},
		// The scope is checked before the input.
		{"wallboard", "PATCH", agent, mergePatch, `{"paused": "maybe"}`, 403},
	}
	e := newAccessEnv(t, access{keys: keys})
	for _, tc := range tests {
		t.Run(tc.key+" "+tc.method+" "+tc.path, func(t *testing.T) {
			before := e.sim.TotalCalls()
			code, h, body := e.doAs(t, key[tc.key], tc.method, tc.path, tc.ctype, tc.body)
			require.Equal(t, tc.want, code, "%s: %s %s = %d; want %d; body %s", tc.key, tc.method, tc.path, code, tc.want, body)
			if code == 403 {
				assert.Equal(t, "urn:ucm-gateway:problem:forbidden", problem(t, h, body).Type)
				assert.Equal(t, before, e.sim.TotalCalls(), "a refused request reached the unit")
			}
		})
	}
	st, _ := e.sim.QueueAgent("6501", "1003")
	assert.Equal(t, true, st.Paused, "the desktop paused the agent; nobody else could unpause it")
}
