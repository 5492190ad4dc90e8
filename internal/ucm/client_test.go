package ucm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeUnit answers every POST with the given status code, content type and body.
func fakeUnit(t *testing.T, code int, ctype, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(code)
		io.WriteString(w, body)
	}))
	srv.Config.ErrorLog = discardLog() // handshakes refused on purpose are not news
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func pinnedClient(t *testing.T, srv *httptest.Server) *Client {
	t.Helper()
	sum := sha256.Sum256(srv.Certificate().Raw)
	tc, err := TLSOptions{PinSHA256: hex.EncodeToString(sum[:])}.Config()
	require.NoError(t, err)
	c, err := NewClient(srv.URL, tc)
	require.NoError(t, err)
	return c
}

func TestCallDecodesReplies(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		ctype      string
		body       string
		wantResp   string
		wantStatus Status
		wantErr    error
		wantMsg    string
	}{
		{name: "success", code: 200, ctype: "application/json", body: `{"response":{"a":"1"},"status":0}`, wantResp: `{"a":"1"}`},
		{name: "status as string", code: 200, ctype: "application/json", body: `{"response":{},"status":"0"}`, wantResp: `{}`},
		{name: "null response", code: 200, ctype: "application/json", body: `{"response":null,"status":0}`, wantResp: `{}`},
		{name: "error status with message", code: 200, ctype: "application/json", body: `{"response":{"error_msg":"Invalid parameters!"},"status":-1}`, wantStatus: StatusInvalidParams, wantMsg: "Invalid parameters!"},
		{name: "negative status as string", code: 200, ctype: "text/plain", body: `{"response":{},"status":"-16"}`, wantStatus: StatusNoSuchItem},
		{name: "html 403 page", code: 403, ctype: "text/html", body: `<html><head><title>403 Forbidden</title></head><body>x</body></html>`, wantErr: ErrNotJSON, wantMsg: "403 Forbidden"},
		{name: "json without envelope", code: 200, ctype: "application/json", body: `{"cdr_root":[]}`, wantErr: ErrNotJSON},
		{name: "status null", code: 200, ctype: "application/json", body: `{"response":{},"status":null}`, wantErr: ErrNotJSON},
		{name: "truncated json", code: 200, ctype: "application/json", body: `{"response":{"a":`, wantErr: ErrNotJSON},
		{name: "binary audio", code: 200, ctype: "audio/x-wav", body: "RIFF\x00\x00WAVE", wantErr: ErrNotJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := pinnedClient(t, fakeUnit(t, tc.code, tc.ctype, tc.body))
			raw, err := c.Call(context.Background(), "getSystemStatus", "sid1-2", nil)
			switch {
			case tc.wantResp != "":
				require.NoError(t, err)
				assert.JSONEq(t, tc.wantResp, string(raw))
			case tc.wantStatus != 0:
				require.ErrorIs(t, err, tc.wantStatus)
				var ue *Error
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, "getSystemStatus", ue.Action)
				assert.Equal(t, tc.wantMsg, ue.Message)
			default:
				require.ErrorIs(t, err, tc.wantErr)
				if tc.wantMsg != "" {
					assert.Contains(t, err.Error(), tc.wantMsg)
				}
			}
		})
	}
}

func TestCallSendsFlatEnvelope(t *testing.T) {
	var got map[string]map[string]any
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api", r.URL.Path)
		assert.Empty(t, r.Header.Get("Cookie"), "the cookie travels in the body, never as a header")
		require.NoError(t, json.NewDecoder(r.Body).Decode(&got))
		io.WriteString(w, `{"response":{},"status":0}`)
	}))
	defer srv.Close()
	c := pinnedClient(t, srv)
	_, err := c.Call(context.Background(), "getSIPAccount", "sid9-9", map[string]any{"extension": "1000", "action": "deleteUser", "cookie": "forged"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"action": "getSIPAccount", "cookie": "sid9-9", "extension": "1000"}, got["request"])
}

func TestLoginFailureCarriesRemainNum(t *testing.T) {
	c := pinnedClient(t, fakeUnit(t, 200, "application/json", `{"response":{"remain_num":"4"},"status":-37}`))
	_, err := c.Login(context.Background(), "api", "hunter2-Secret")
	var ue *Error
	require.ErrorAs(t, err, &ue)
	require.NotNil(t, ue.RemainNum)
	assert.Equal(t, 4, *ue.RemainNum)
	assert.ErrorIs(t, err, StatusWrongCredentials)
	assert.NotContains(t, err.Error(), "hunter2-Secret")
}

func TestTokenIsLowercaseMD5(t *testing.T) {
	// The guide's own example: challenge 0000001652831717 and password cdrapi123 give this token.
	assert.Equal(t, "0faa24433e3c7a9bcfa8000f735305d5", Token("0000001652831717", "cdrapi123"))
}

func TestTransportFailures(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
		defer srv.Close()
		defer close(release)
		c := pinnedClient(t, srv)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Call(ctx, "getSystemStatus", "", nil)
		assert.ErrorIs(t, err, ErrTimeout)
		assert.ErrorIs(t, err, ErrTransport)
	})
	t.Run("refused", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.NotFoundHandler())
		c := pinnedClient(t, srv)
		srv.Close()
		_, err := c.Call(context.Background(), "getSystemStatus", "", nil)
		assert.ErrorIs(t, err, ErrTransport)
		assert.NotErrorIs(t, err, ErrTimeout)
	})
	t.Run("caller cancels", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
		defer srv.Close()
		defer close(release)
		c := pinnedClient(t, srv)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		_, err := c.Call(ctx, "getSystemStatus", "", nil)
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, ErrTransport, "a client hanging up is not the unit's fault")
	})
}

func TestTLSTrust(t *testing.T) {
	srv := fakeUnit(t, 200, "application/json", `{"response":{},"status":0}`)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	tests := []struct {
		name    string
		opts    TLSOptions
		wantErr bool
	}{
		{name: "system roots refuse a self-signed unit", opts: TLSOptions{}, wantErr: true},
		{name: "matching pin", opts: TLSOptions{PinSHA256: hexSum(srv)}},
		{name: "pin with colons and upper case", opts: TLSOptions{PinSHA256: colons(hexSum(srv))}},
		{name: "wrong pin", opts: TLSOptions{PinSHA256: hex.EncodeToString(make([]byte, 32))}, wantErr: true},
		{name: "ca file", opts: TLSOptions{CAPEM: caPEM}},
		{name: "explicit insecure", opts: TLSOptions{InsecureSkipVerify: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.opts.Config()
			require.NoError(t, err)
			c, err := NewClient(srv.URL, cfg)
			require.NoError(t, err)
			_, err = c.Call(context.Background(), "getSystemStatus", "", nil)
			if tc.wantErr {
				assert.ErrorIs(t, err, ErrTransport)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestNewClientRefusesHTTP(t *testing.T) {
	_, err := NewClient("http://192.0.2.1:8089", nil)
	assert.Error(t, err)
	_, err = TLSOptions{PinSHA256: "abc"}.Config()
	assert.Error(t, err)
}

func TestParseValues(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want int64
		ok   bool
	}{{float64(3), 3, true}, {"3", 3, true}, {" 42 ", 42, true}, {"3.0", 3, true}, {json.Number("7"), 7, true}, {"x", 0, false}, {3.5, 0, false}, {nil, 0, false}} {
		got, ok := ParseInt(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseInt(%#v) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	var i Int
	require.NoError(t, json.Unmarshal([]byte(`"12"`), &i))
	assert.Equal(t, Int{12, true}, i)
	require.NoError(t, json.Unmarshal([]byte(`null`), &i))
	assert.False(t, i.Valid)
	assert.Error(t, json.Unmarshal([]byte(`"abc"`), &i))
}

func hexSum(srv *httptest.Server) string {
	s := sha256.Sum256(srv.Certificate().Raw)
	return hex.EncodeToString(s[:])
}

func colons(h string) string {
	out := ""
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			out += ":"
		}
		out += h[i : i+2]
	}
	return out
}
