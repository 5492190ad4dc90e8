package handlers

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// sseMsg is one Server-Sent Events message as a client parses it.
type sseMsg struct {
	ID, Event string
	Data      string
	Retry     string
}

// decode reads the message's data as an Event.
func (m sseMsg) decode(t testing.TB) api.Event {
	t.Helper()
	var ev api.Event
	require.NoError(t, json.Unmarshal([]byte(m.Data), &ev), "data: %s", m.Data)
	return ev
}

// call reads a call event's data.
func (m sseMsg) call(t testing.TB) api.CallEventData {
	t.Helper()
	var ev struct {
		Data api.CallEventData `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(m.Data), &ev), "data: %s", m.Data)
	return ev.Data
}

// sseClient is a real SSE client over real HTTP: it parses the stream line by line as the
// EventSource specification says and hands over every message and heartbeat comment.
type sseClient struct {
	resp     *http.Response
	msgs     chan sseMsg
	comments chan string
	cancel   context.CancelFunc
	done     chan struct{}
}

// stream opens an event stream with the admin key unless headers name another Authorization.
func (e *env) stream(t testing.TB, path string, headers ...string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+adminKey)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{}).Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", path)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	c := &sseClient{resp: resp, msgs: make(chan sseMsg, 1024), comments: make(chan string, 64), cancel: cancel, done: make(chan struct{})}
	go c.read()
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) read() {
	defer close(c.done)
	defer close(c.msgs)
	sc := bufio.NewScanner(c.resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var m sseMsg
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if m.Data != "" || m.Event != "" {
				c.msgs <- m
			}
			m = sseMsg{}
		case strings.HasPrefix(line, ":"):
			select {
			case c.comments <- strings.TrimSpace(line[1:]):
			default:
			}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				m.ID = value
			case "event":
				m.Event = value
			case "data":
				if m.Data != "" {
					m.Data += "\n"
				}
				m.Data += value
			case "retry":
				m.Retry = value
			}
		}
	}
}

func (c *sseClient) close() {
	c.cancel()
	c.resp.Body.Close()
	<-c.done
}

// next waits for the next message.
func (c *sseClient) next(t testing.TB, within time.Duration) sseMsg {
	t.Helper()
	select {
	case m, ok := <-c.msgs:
		require.True(t, ok, "stream ended")
		return m
	case <-time.After(within):
		t.Fatalf("no event within %s", within)
	}
	return sseMsg{}
}

// until reads messages until one of type typ arrives, and returns every message on the way,
// that one included.
func (c *sseClient) until(t testing.TB, typ string, within time.Duration) []sseMsg {
	t.Helper()
	deadline := time.Now().Add(within)
	var out []sseMsg
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("no %s event within %s; got %v", typ, within, types(out))
		}
		m := c.next(t, left)
		out = append(out, m)
		if m.Event == typ {
			return out
		}
	}
}

// within returns the messages that arrive during d (the stream must stay open).
func (c *sseClient) within(d time.Duration) []sseMsg {
	var out []sseMsg
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				return out
			}
			out = append(out, m)
		case <-timeout:
			return out
		}
	}
}

// ended reports whether the server closed the stream within d.
func (c *sseClient) ended(d time.Duration) bool {
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-c.msgs:
			if !ok {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

func types(ms []sseMsg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Event
	}
	return out
}

// only keeps the messages of the given types.
func only(ms []sseMsg, keep ...string) []sseMsg {
	var out []sseMsg
	for _, m := range ms {
		for _, k := range keep {
			if m.Event == k {
				out = append(out, m)
			}
		}
	}
	return out
}
