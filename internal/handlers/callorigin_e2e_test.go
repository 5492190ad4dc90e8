package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A CRM agent on a mobile phone: the unit rings the agent's number through a trunk, then
// connects it to the customer's (dialOutboundTwo). The call is followed like any other.
func TestCallFromAnOutsideNumber(t *testing.T) {
	e := newEnv(t, withAnswerDelay(answerDelay))
	c := e.dial(t, `{"from": {"type": "external", "number": "+15550001111"}, "to": {"type": "external", "number": "+15550002222"}}`, nil)
	assert.Equal(t, "ringing", c.Status)
	require.Len(t, c.Channels, 1)
	assert.True(t, strings.HasPrefix(c.Channels[0].Name, "PJSIP/trunk_1-"), "the trunk channel ringing the agent: %s", c.Channels[0].Name)
	assert.Equal(t, "+15550001111", *c.From)
	assert.Equal(t, "external", c.To.Type)
	assert.Equal(t, "+15550002222", c.To.Number)
	assert.Equal(t, 1, e.sim.Calls("dialOutboundTwo"))
	assert.Zero(t, e.sim.Calls("getSIPAccount"), "an outside caller is not an extension to look up")
	c = e.waitStatus(t, c.ID, "in-progress", 2)
	assert.True(t, strings.HasPrefix(c.Channels[1].Name, "PJSIP/trunk_1-"))

	// A callback service: ring the customer, then put them into the IVR (dialIVROutbound).
	c = e.dial(t, `{"from": {"type": "external", "number": "+15550003333"}, "to": {"type": "ivr", "number": "7000"}}`, nil)
	assert.Equal(t, "+15550003333", *c.From)
	assert.Equal(t, 1, e.sim.Calls("dialIVROutbound"))
	c = e.waitStatus(t, c.ID, "in-progress", 1)
	assert.Equal(t, "Up", c.Channels[0].State)

	// An IVR the unit does not have: its -16.
	code, h, body := e.doH(t, "POST", "/v1/units/demo/calls", nil, `{"from": {"type": "external", "number": "+15550003333"}, "to": {"type": "ivr", "number": "7999"}}`)
	require.Equal(t, http.StatusNotFound, code, "body: %s", body)
	assert.Equal(t, -16, *problem(t, h, body).UCMStatus)
}

// The object form of an extension is the string form; old clients keep sending the string.
func TestCallFromAnExtensionObject(t *testing.T) {
	e := newEnv(t, withAnswerDelay(answerDelay))
	c := e.dial(t, `{"from": {"type": "extension", "number": "1000"}, "to": {"type": "extension", "number": "1001"}}`, map[string]string{"Idempotency-Key": "obj-1"})
	assert.Equal(t, "1000", *c.From)
	assert.True(t, strings.HasPrefix(c.Channels[0].Name, "PJSIP/1000-"))
	again := e.dial(t, `{"from": {"type": "extension", "number": "1000"}, "to": {"type": "extension", "number": "1001"}}`, map[string]string{"Idempotency-Key": "obj-1"})
	assert.Equal(t, c.ID, again.ID, "the same key, the same call")
	assert.Equal(t, 1, e.sim.Calls("dialExtension"))

	code, _, body := e.doH(t, "POST", "/v1/units/demo/calls", nil, `{"from": {"type": "extension", "number": "1005"}, "to": {"type": "external", "number": "+15550001111"}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, code, "the internal-only check applies to the object form too: %s", body)
}
