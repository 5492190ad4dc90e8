package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueueLifecycle(t *testing.T) {
	e := newEnv(t)
	base := "/v1/units/demo/queues"

	// List: typed, members an array, paged with a Link.
	code, h, body := e.do(t, "GET", base+"?page_size=1", "", "")
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	var page struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total_items"`
		Next  string           `json:"next_page_token"`
	}
	require.NoError(t, json.Unmarshal(body, &page))
	assert.Equal(t, 2, page.Total)
	require.Len(t, page.Items, 1)
	assert.Equal(t, map[string]any{"extension": "6500", "queue_name": "Support", "strategy": "ringall", "members": []any{"1000", "1001"}}, page.Items[0])
	assert.NotEmpty(t, page.Next)
	assert.Contains(t, h.Get("Link"), `rel="next"`)

	// Get: the UCM's strings and yes/no become numbers and booleans.
	var q map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, base+"/6501", &q))
	assert.Equal(t, 20.0, q["ringtime"])
	assert.Equal(t, true, q["enable_agent_login"])
	assert.Equal(t, []any{"1002", "1003"}, q["members"])
	assert.NotContains(t, q, "pending_apply")

	// Create: 201 with Location, staged, members sent as the UCM's comma list.
	code, h, body = e.do(t, "POST", base, jsonType, `{"extension": "6502", "queue_name": "Billing", "strategy": "leastrecent", "members": ["1004", "1005"], "ringtime": 20, "maxlen": 5}`)
	require.Equal(t, http.StatusCreated, code, "body: %s", body)
	assert.Equal(t, base+"/6502", h.Get("Location"))
	assert.Equal(t, "true", h.Get("X-Pending-Apply"))
	var created map[string]any
	require.NoError(t, json.Unmarshal(body, &created))
	assert.Equal(t, true, created["pending_apply"])
	assert.Equal(t, []any{"1004", "1005"}, created["members"])
	assert.Equal(t, false, created["enable_agent_login"], "read back: the unit's default")
	stored, found := e.sim.Queue("6502")
	require.True(t, found)
	assert.Equal(t, "1004,1005", stored["members"])
	assert.Equal(t, 20, stored["ringtime"])

	// The same number again: the UCM's -44 is 409.
	code, h, body = e.do(t, "POST", base, jsonType, `{"extension": "6502", "queue_name": "Again", "strategy": "random"}`)
	require.Equal(t, http.StatusConflict, code, "body: %s", body)
	assert.Equal(t, -44, *problem(t, h, body).UCMStatus)

	// Patch: members replaced as a whole, absent fields unchanged, booleans as yes/no.
	code, _, body = e.do(t, "PATCH", base+"/6502", mergePatch, `{"members": ["1001"], "enable_agent_login": true}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	require.NoError(t, json.Unmarshal(body, &q))
	assert.Equal(t, []any{"1001"}, q["members"])
	assert.Equal(t, "leastrecent", q["strategy"])
	assert.Equal(t, true, q["pending_apply"])
	stored, _ = e.sim.Queue("6502")
	assert.Equal(t, "yes", stored["enable_agent_login"])

	// Patch and apply in one call.
	code, _, body = e.do(t, "PATCH", base+"/6502?apply=true", mergePatch, `{"wrapuptime": 30}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.Contains(t, string(body), `"pending_apply":false`)
	assert.False(t, e.sim.PendingApply())

	// Delete, then it is gone.
	code, h, _ = e.do(t, "DELETE", base+"/6502", "", "")
	require.Equal(t, http.StatusNoContent, code)
	assert.Equal(t, "true", h.Get("X-Pending-Apply"))
	code, h, body = e.do(t, "GET", base+"/6502", "", "")
	require.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, -16, *problem(t, h, body).UCMStatus)
	code, _, _ = e.do(t, "PATCH", base+"/6502", mergePatch, `{"maxlen": 1}`)
	assert.Equal(t, http.StatusNotFound, code)
}

// FACTS.md: not every write says need_apply, and a write that does not is still staged. The
// unit below answers every queue and user write without need_apply.
func TestQueueAndUserWritesAreStagedWhateverTheReply(t *testing.T) {
	e := newAccessEnv(t, access{wrap: func(up Upstream) Upstream { return noNeedApply{up} }})
	code, h, body := e.do(t, "PATCH", "/v1/units/demo/queues/6500", mergePatch, `{"maxlen": 3}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.Contains(t, string(body), `"pending_apply":true`)
	var unit map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo", &unit))
	assert.Equal(t, true, unit["pending_apply"])
	code, h, _ = e.do(t, "DELETE", "/v1/units/demo/queues/6500", "", "")
	require.Equal(t, http.StatusNoContent, code)
	assert.Equal(t, "true", h.Get("X-Pending-Apply"))
	code, _, body = e.do(t, "PATCH", "/v1/units/demo/users/1000?apply=true", mergePatch, `{"department": "Support"}`)
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	assert.Contains(t, string(body), `"pending_apply":false`, "applied in the same call")
	assert.Equal(t, 1, e.sim.Calls("applyChanges"))
}

// noNeedApply is a unit whose configuration writes answer {} instead of {"need_apply":"yes"}.
type noNeedApply struct{ Upstream }

func (n noNeedApply) Do(ctx context.Context, unit, action string, params map[string]any) (json.RawMessage, error) {
	raw, err := n.Upstream.Do(ctx, unit, action, params)
	switch action {
	case "addQueue", "updateQueue", "deleteQueue", "updateUser":
		if err == nil {
			return json.RawMessage(`{}`), nil
		}
	}
	return raw, err
}

func TestQueueAgents(t *testing.T) {
	e := newEnv(t)
	var list struct {
		Queue      string           `json:"queue"`
		AgentLogin bool             `json:"agent_login"`
		Items      []map[string]any `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/queues/6501/agents", &list))
	assert.True(t, list.AgentLogin)
	assert.Equal(t, []map[string]any{
		{"extension": "1002", "fullname": "Carla Diaz", "status": "Unavailable", "logged_in": nil, "paused": nil},
		{"extension": "1003", "fullname": "Dmitri Volkov", "status": "Idle", "logged_in": nil, "paused": nil},
	}, list.Items, "what the unit does not report is null, never a guess")
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/queues/6500/agents", &list))
	assert.False(t, list.AgentLogin)
	require.Len(t, list.Items, 2)
	assert.Equal(t, true, list.Items[0]["logged_in"], "a static member is always in the queue")

	agent := "/v1/units/demo/queues/6501/agents/1003"
	code, _, body := e.do(t, "PATCH", agent, mergePatch, `{"logged_in": true, "paused": true}`)
	require.Equal(t, http.StatusNoContent, code, "body: %s", body)
	st, _ := e.sim.QueueAgent("6501", "1003")
	assert.True(t, st.LoggedIn)
	assert.True(t, st.Paused)
	st, _ = e.sim.QueueAgent("6500", "1003")
	assert.False(t, st.LoggedIn, "not a member of 6500")

	// Unpause and log off: unpause first, so the agent is never paused after it left.
	code, _, body = e.do(t, "PATCH", agent, mergePatch, `{"paused": false, "logged_in": false}`)
	require.Equal(t, http.StatusNoContent, code, "body: %s", body)
	st, _ = e.sim.QueueAgent("6501", "1003")
	assert.False(t, st.LoggedIn)
	assert.False(t, st.Paused)
	assert.Equal(t, 2, e.sim.Calls("loginLogoffQueueAgent"))
	assert.Equal(t, 2, e.sim.Calls("pauseUnpauseQueueAgent"))

	// Operations, not configuration: nothing is staged.
	assert.False(t, e.sim.PendingApply())
	var unit map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo", &unit))
	assert.Equal(t, false, unit["pending_apply"])

	// Someone who is not an agent of the queue: 404 before any agent action.
	code, h, body := e.do(t, "PATCH", "/v1/units/demo/queues/6501/agents/1000", mergePatch, `{"paused": true}`)
	require.Equal(t, http.StatusNotFound, code, "body: %s", body)
	assert.Equal(t, "path.ext", problem(t, h, body).Errors[0].Location)
	assert.Equal(t, 2, e.sim.Calls("pauseUnpauseQueueAgent"))
	// The static members of 6500 cannot log out: the unit refuses (-15 → 422).
	code, h, body = e.do(t, "PATCH", "/v1/units/demo/queues/6500/agents/1000", mergePatch, `{"logged_in": false}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "body: %s", body)
	assert.Equal(t, -15, *problem(t, h, body).UCMStatus)
	code, _, _ = e.do(t, "PATCH", "/v1/units/demo/queues/6599/agents/1000", mergePatch, `{"paused": true}`)
	assert.Equal(t, http.StatusNotFound, code)
}
