package sessionpool

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// fakeUnit answers Open from a script, one reply per call; logins always succeed.
type fakeUnit struct {
	mu      sync.Mutex
	logins  int
	replies []func(ctx context.Context) (*http.Response, error)
	cookies []string
}

func (f *fakeUnit) Call(context.Context, string, string, map[string]any) (json.RawMessage, error) {
	return json.RawMessage(`{}`), nil
}

func (f *fakeUnit) Login(context.Context, string, string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins++
	return "sid" + string(rune('0'+f.logins)), nil
}

func (f *fakeUnit) Logout(context.Context, string) error { return nil }

func (f *fakeUnit) Open(ctx context.Context, _, cookie string, _ map[string]any) (*http.Response, error) {
	f.mu.Lock()
	next := f.replies[0]
	f.replies = f.replies[1:]
	f.cookies = append(f.cookies, cookie)
	f.mu.Unlock()
	return next(ctx)
}

func reply(ctype, body string) func(context.Context) (*http.Response, error) {
	return func(context.Context) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {ctype}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}, nil
	}
}

func newTestPool(t *testing.T, f *fakeUnit) *Pool {
	t.Helper()
	p, err := New(Options{RequestTimeout: 5 * time.Second, MaxInFlight: 2}, []UnitConfig{{ID: "u", Client: f}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func TestOpenReloginsOnceAndHoldsItsSlotUntilClosed(t *testing.T) {
	f := &fakeUnit{replies: []func(context.Context) (*http.Response, error){
		reply("application/json", `{"response":{},"status":-6}`),
		reply("audio/x-wav", "RIFF....WAVE"),
	}}
	p := newTestPool(t, f)
	resp, err := p.Open(context.Background(), "u", "recapi", nil)
	require.NoError(t, err)
	assert.Equal(t, 2, f.logins, "one login, then one more after -6")
	assert.Equal(t, []string{"sid1", "sid2"}, f.cookies, "the retry carries the new cookie")
	st, _ := p.Unit("u")
	assert.Equal(t, 1, st.InFlight, "the slot is held while the body streams")
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "RIFF....WAVE", string(b))
	require.NoError(t, resp.Body.Close())
	require.NoError(t, resp.Body.Close(), "closing twice is harmless")
	st, _ = p.Unit("u")
	assert.Equal(t, 0, st.InFlight)
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name  string
		reply func(context.Context) (*http.Response, error)
		want  error
	}{
		{"JSON error from the unit", reply("application/json", `{"response":{},"status":-16}`), ucm.StatusNoSuchItem},
		{"HTML page of a blacklisted client", reply("text/html", "<title>403 Forbidden</title>"), ucm.ErrNotJSON},
		{"bare JSON passes", reply("application/json", `{"cdr_root":[]}`), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestPool(t, &fakeUnit{replies: []func(context.Context) (*http.Response, error){tc.reply}})
			resp, err := p.Open(context.Background(), "u", "cdrapi", nil)
			if tc.want == nil {
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				assert.JSONEq(t, `{"cdr_root":[]}`, string(b))
				resp.Body.Close()
			} else {
				assert.ErrorIs(t, err, tc.want)
			}
			st, _ := p.Unit("u")
			assert.Equal(t, 0, st.InFlight, "no slot leaks")
		})
	}
}

func TestOpenTimesOutWaitingForTheReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stalls := func(ctx context.Context) (*http.Response, error) {
			<-ctx.Done()
			return nil, &ucm.TransportError{Action: "recapi", Err: ctx.Err()}
		}
		p := newTestPool(t, &fakeUnit{replies: []func(context.Context) (*http.Response, error){stalls}})
		start := time.Now()
		_, err := p.Open(context.Background(), "u", "recapi", nil)
		assert.ErrorIs(t, err, ucm.ErrTimeout)
		assert.Equal(t, 5*time.Second, time.Since(start), "the request timeout")
		var unav *UnavailableError
		assert.False(t, errors.As(err, &unav))
	})
}

// Audio is not read by Open: the reply comes back before the unit has sent a byte of the body,
// so a recording streams through the gateway instead of being held in memory.
func TestOpenStreamsAudio(t *testing.T) {
	pr, pw := io.Pipe()
	streaming := func(context.Context) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"audio/x-wav"}}, Body: pr, ContentLength: -1}, nil
	}
	p := newTestPool(t, &fakeUnit{replies: []func(context.Context) (*http.Response, error){streaming}})
	resp, err := p.Open(context.Background(), "u", "recapi", nil)
	require.NoError(t, err, "Open returned before any audio was written")
	go func() {
		_, _ = pw.Write([]byte("RIFF"))
		_ = pw.Close()
	}()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "RIFF", string(b))
	require.NoError(t, resp.Body.Close())
}

// A download whose unit stops sending ends after a request timeout without data, and gives the
// unit's slot back: a stalled stream cannot hold a slot for minutes.
func TestOpenStalledStreamEndsAndFreesItsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stalling := func(ctx context.Context) (*http.Response, error) {
			pr, pw := io.Pipe()
			go func() {
				_, _ = pw.Write([]byte("RIFF"))
				<-ctx.Done() // the unit sends nothing more; only the request's end stops it
				_ = pw.CloseWithError(ctx.Err())
			}()
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"audio/x-wav"}}, Body: pr, ContentLength: -1}, nil
		}
		p := newTestPool(t, &fakeUnit{replies: []func(context.Context) (*http.Response, error){stalling}})
		resp, err := p.Open(context.Background(), "u", "recapi", nil)
		require.NoError(t, err)
		start := time.Now()
		_, err = io.ReadAll(resp.Body)
		require.Error(t, err, "the stalled stream ended")
		assert.Equal(t, 5*time.Second, time.Since(start), "after one request timeout (5s) without data")
		require.NoError(t, resp.Body.Close())
		st, _ := p.Unit("u")
		assert.Equal(t, 0, st.InFlight, "the slot is free again")
	})
}
