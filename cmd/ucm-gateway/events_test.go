package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/shared/sharedtest"
)

// openStream follows an SSE stream of the running program and sends each message's event type
// and data to the returned channel; it ends when the server ends the stream.
func openStream(t *testing.T, url string) <-chan [2]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testDemoKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	out := make(chan [2]string, 256)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var typ string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				typ = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				out <- [2]string{typ, v}
			}
		}
	}()
	return out
}

func waitEvent(t *testing.T, c <-chan [2]string, typ string, match func(data string) bool) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-c:
			require.True(t, ok, "the stream ended before a %s event", typ)
			if m[0] == typ && (match == nil || match(m[1])) {
				return m[1]
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testDemoKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The demo as a newcomer meets it: its events come from the simulator's WebSocket, an inbound
// call arrives from the demo trunk and can be accepted, a webhook from the configuration gets
// the same events, and stopping the program ends the stream cleanly.
func TestDemoLiveEvents(t *testing.T) {
	hooks := make(chan string, 256)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- r.Header.Get("Webhook-Id") + " " + string(b)
	}))
	defer rc.Close()
	path := filepath.Join(t.TempDir(), "gw.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
units: []
webhooks:
  - name: crm
    url: `+rc.URL+`/hook
    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
    units: ["*"]
    types: [call.*]
`), 0o600))
	addr, stop := startRun(t, []string{"--demo", "--config", path, "--listen", "127.0.0.1:0"},
		map[string]string{"UCM_GATEWAY_DEMO_INBOUND_EVERY": "2s"})
	base := "http://" + addr + "/v1/units/demo"
	s := openStream(t, base+"/events")
	state := waitEvent(t, s, "unit.state", nil)
	assert.Contains(t, state, `"source":"websocket"`, "the demo unit has an events user: its events come from the socket")

	inbound := waitEvent(t, s, "call.ringing", func(d string) bool { return strings.Contains(d, `"direction":"inbound"`) })
	var ev struct {
		Data struct {
			Call struct {
				ID string `json:"id"`
			} `json:"call"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(inbound), &ev))
	code, body := post(t, base+"/calls/"+ev.Data.Call.ID+"/accept", "")
	require.Equal(t, http.StatusOK, code, body)
	waitEvent(t, s, "call.answered", func(d string) bool { return strings.Contains(d, ev.Data.Call.ID) })

	select {
	case h := <-hooks:
		assert.True(t, strings.HasPrefix(h, "evt_demo_"), "webhook-id: %s", h)
		assert.Contains(t, h, `"type":"call.`)
	case <-time.After(20 * time.Second):
		t.Fatal("the webhook got nothing")
	}

	err, logs := stop()
	require.NoError(t, err)
	for range s { // the stream ends with the program
	}
	assert.Contains(t, logs, `"msg":"event source stopped"`)
	assert.NotContains(t, logs, "Web-Pa55") // no password of any kind in the logs
}

// With a redis block the demo's events go through the shared stream: the program says so, and
// the unit's Redis Stream holds what the SSE client got.
func TestLiveEventsThroughRedis(t *testing.T) {
	rs := sharedtest.Start(t)
	path := filepath.Join(t.TempDir(), "gw.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
units: []
redis:
  addr: `+rs.Addr()+`
  cookie_key: `+base64.StdEncoding.EncodeToString(make([]byte, 32))+`
`), 0o600))
	addr, stop := startRun(t, []string{"--demo", "--config", path, "--listen", "127.0.0.1:0"},
		map[string]string{"UCM_GATEWAY_DEMO_INBOUND_EVERY": "0"})
	base := "http://" + addr + "/v1/units/demo"
	s := openStream(t, base+"/events")
	waitEvent(t, s, "unit.state", nil)
	code, body := post(t, base+"/calls", `{"from":"1000","to":{"type":"extension","number":"1001"}}`)
	require.Equal(t, http.StatusCreated, code, body)
	ringing := waitEvent(t, s, "call.ringing", nil)

	c := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	defer c.Close()
	msgs, err := c.XRange(context.Background(), "ucm-gateway:events:{demo}", "-", "+").Result()
	require.NoError(t, err)
	var stored []string
	for _, m := range msgs {
		stored = append(stored, m.Values["json"].(string))
	}
	assert.Contains(t, stored, ringing, "the event the client got is the one in the stream")
	holder, err := c.Get(context.Background(), "ucm-gateway:events:{demo}:lease").Result()
	require.NoError(t, err)
	assert.NotEmpty(t, holder)

	err, logs := stop()
	require.NoError(t, err)
	assert.Contains(t, logs, "live events are shared through Redis")
	assert.Contains(t, logs, "event source lease released")
	_, err = c.Get(context.Background(), "ucm-gateway:events:{demo}:lease").Result()
	assert.ErrorIs(t, err, redis.Nil, "a replica that stops gives the source up at once")
}
