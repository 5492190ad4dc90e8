package ucm

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingUnit is a TLS server that counts the requests it answered and the connections it was
// opened and closed on; handler answers each request.
type countingUnit struct {
	*httptest.Server
	requests          atomic.Int64
	opened, closedCnt atomic.Int64
	mu                sync.Mutex
	closedCh          chan struct{}
}

func newCountingUnit(t *testing.T, handler http.HandlerFunc) *countingUnit {
	t.Helper()
	u := &countingUnit{closedCh: make(chan struct{}, 64)}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.requests.Add(1)
		handler(w, r)
	}))
	u.Config.ErrorLog = discardLog()
	u.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			u.opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			u.closedCnt.Add(1)
			u.closedCh <- struct{}{}
		}
	}
	u.StartTLS()
	t.Cleanup(u.Close)
	return u
}

func okReply(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"response":{"need_apply":"yes"},"status":0}`)
}

// One connection carries every exchange in turn, in the caller's goroutine, whatever way the
// reply's length is given.
func TestConnectionIsReused(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"content-length": okReply,
		"chunked": func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, `{"response":{"need_apply":`)
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, `"yes"},"status":0}`)
		},
		"empty body": func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Length", "0")
		},
	} {
		t.Run(name, func(t *testing.T) {
			u := newCountingUnit(t, h)
			c := pinnedClient(t, u.Server)
			defer c.CloseIdle()
			for range 5 {
				resp, err := c.Open(context.Background(), "getSystemStatus", "sid1-1", nil)
				require.NoError(t, err)
				_, err = io.Copy(io.Discard, resp.Body)
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
			}
			assert.EqualValues(t, 5, u.requests.Load())
			assert.EqualValues(t, 1, u.opened.Load(), "connections opened")
		})
	}
}

// The request is what the UCM's API expects: a POST of JSON to /api with its length.
func TestRequestOnTheWire(t *testing.T) {
	var got *http.Request
	var body string
	u := newCountingUnit(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, body = r, string(b)
		okReply(w, r)
	})
	c := pinnedClient(t, u.Server)
	defer c.CloseIdle()
	_, err := c.Call(context.Background(), "getSIPAccount", "sid1-1", map[string]any{"extension": "1000"})
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "/api", got.URL.Path)
	assert.Equal(t, strings.TrimPrefix(u.URL, "https://"), got.Host)
	assert.Equal(t, "application/json;charset=UTF-8", got.Header.Get("Content-Type"))
	assert.EqualValues(t, len(body), got.ContentLength)
	assert.JSONEq(t, `{"request":{"action":"getSIPAccount","cookie":"sid1-1","extension":"1000"}}`, body)
}

// A connection the unit closed while it was idle is found closed before a request is written to
// it: the write goes out once, on a new connection, and succeeds.
func TestConnectionTheUnitClosedIsNotUsed(t *testing.T) {
	u := newCountingUnit(t, okReply)
	c := pinnedClient(t, u.Server)
	defer c.CloseIdle()
	_, err := c.Call(context.Background(), "updateSIPAccount", "sid1-1", map[string]any{"extension": "1000"})
	require.NoError(t, err)
	u.CloseClientConnections()
	<-u.closedCh
	_, err = c.Call(context.Background(), "updateSIPAccount", "sid1-1", map[string]any{"extension": "1000"})
	require.NoError(t, err)
	assert.EqualValues(t, 2, u.requests.Load(), "each write reached the unit once")
	assert.EqualValues(t, 2, u.opened.Load())
}

// A reply that asks to close the connection (or an HTTP/1.0 one) closes it; the next exchange
// opens another.
func TestConnectionCloseIsHonoured(t *testing.T) {
	u := newCountingUnit(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		okReply(w, r)
	})
	c := pinnedClient(t, u.Server)
	defer c.CloseIdle()
	for range 3 {
		_, err := c.Call(context.Background(), "getSystemStatus", "sid1-1", nil)
		require.NoError(t, err)
	}
	assert.EqualValues(t, 3, u.opened.Load())
}

// A reply left unread, or abandoned by its caller half way, closes its connection: its
// remaining bytes would otherwise be read as the next reply.
func TestUnfinishedReplyClosesTheConnection(t *testing.T) {
	t.Run("body closed unread", func(t *testing.T) {
		u := newCountingUnit(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, strings.Repeat("x", 64<<10))
		})
		c := pinnedClient(t, u.Server)
		defer c.CloseIdle()
		resp, err := c.Open(context.Background(), "recapi", "sid1-1", nil)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		<-u.closedCh
		resp, err = c.Open(context.Background(), "recapi", "sid1-1", nil)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Len(t, b, 64<<10)
		assert.EqualValues(t, 2, u.opened.Load())
	})
	t.Run("caller gives up mid-reply", func(t *testing.T) {
		release := make(chan struct{})
		u := newCountingUnit(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(w, `{"response":`)
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		c := pinnedClient(t, u.Server)
		defer c.CloseIdle()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Call(ctx, "getSystemStatus", "sid1-1", nil)
		require.ErrorIs(t, err, context.Canceled)
		<-u.closedCh
		assert.EqualValues(t, 1, u.closedCnt.Load(), "the half-read connection was closed")
	})
}

// An idle connection is closed after IdleConnTimeout, by a timer: no goroutine waits on an idle
// connection, and none is left once the pool has closed it.
func TestIdleConnectionIsClosedAndHoldsNoGoroutine(t *testing.T) {
	u := newCountingUnit(t, okReply)
	c := pinnedClient(t, u.Server)
	c.conns.idleFor = 200 * time.Millisecond
	_, err := c.Call(context.Background(), "getSystemStatus", "sid1-1", nil)
	require.NoError(t, err)

	var stacks strings.Builder
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&stacks, 1))
	assert.NotContains(t, stacks.String(), "internal/ucm.(*conns)", "a goroutine waits on the pool")
	assert.NotContains(t, stacks.String(), "persistConn", "net/http's transport is not in use")

	select {
	case <-u.closedCh:
	case <-time.After(5 * time.Second):
		t.Fatal("the idle connection was never closed")
	}
	c.conns.mu.Lock()
	defer c.conns.mu.Unlock()
	assert.Empty(t, c.conns.idle)
}

// Many callers at once each get a connection of their own; at most maxIdleConns stay pooled.
func TestConcurrentExchanges(t *testing.T) {
	u := newCountingUnit(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		okReply(w, r)
	})
	c := pinnedClient(t, u.Server)
	defer c.CloseIdle()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Go(func() {
			_, err := c.Call(context.Background(), "getSystemStatus", "sid1-1", nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	c.conns.mu.Lock()
	assert.LessOrEqual(t, len(c.conns.idle), maxIdleConns)
	c.conns.mu.Unlock()
	assert.EqualValues(t, 40, u.requests.Load())
}

// A unit that closes the connection without answering is a transport failure of a request that
// was sent: the client cannot say the unit did not act on it.
func TestClosedWithoutAnswer(t *testing.T) {
	u := newCountingUnit(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	c := pinnedClient(t, u.Server)
	defer c.CloseIdle()
	_, err := c.Call(context.Background(), "updateSIPAccount", "sid1-1", nil)
	var te *TransportError
	require.True(t, errors.As(err, &te), "%v", err)
	assert.False(t, te.NotSent)
	assert.Contains(t, te.Error(), "closed the connection without answering")
}

// A reply whose headers never end fails the exchange once they pass maxReplyHeadBytes, instead
// of being read into memory until the deadline.
func TestEndlessReplyHeadersAreRefused(t *testing.T) {
	u := newCountingUnit(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\n")
		line := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
		for range 2 << 10 { // 2 MB of headers
			if _, err := buf.WriteString(line); err != nil {
				return
			}
		}
		_ = buf.Flush()
	})
	c := pinnedClient(t, u.Server)
	defer c.CloseIdle()
	_, err := c.Call(context.Background(), "getSystemStatus", "sid1-1", nil)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, errReplyHeadTooLong)
}
