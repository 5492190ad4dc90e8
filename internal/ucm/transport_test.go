package ucm

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// A failed write is safe to retry only when the unit cannot have received it. The client tells
// the two apart from what net/http actually did.
func TestTransportErrorSaysWhetherTheUnitGotTheRequest(t *testing.T) {
	tests := []struct {
		name        string
		unit        func(t *testing.T) string // base URL
		timeout     time.Duration
		wantNotSent bool
		wantTimeout bool
	}{
		{
			name: "connection refused",
			unit: func(t *testing.T) string {
				srv := httptest.NewTLSServer(http.NotFoundHandler())
				srv.Close()
				return srv.URL
			},
			wantNotSent: true,
		},
		{
			name: "answer never came",
			unit: func(t *testing.T) string {
				release := make(chan struct{})
				srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					<-release
				}))
				t.Cleanup(srv.Close)
				t.Cleanup(func() { close(release) })
				return srv.URL
			},
			timeout:     100 * time.Millisecond,
			wantTimeout: true,
		},
		{
			name: "reply cut off mid-body",
			unit: func(t *testing.T) string {
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					body := `{"response":{"need_apply":"yes"},"status":0}`
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					_, _ = io.WriteString(w, body[:10])
				}))
				srv.Config.ErrorLog = discardLog()
				srv.StartTLS()
				t.Cleanup(srv.Close)
				return srv.URL
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := TLSOptions{InsecureSkipVerify: true}.Config()
			require.NoError(t, err)
			c, err := NewClient(tc.unit(t), cfg)
			require.NoError(t, err)
			t.Cleanup(c.CloseIdle)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			_, err = c.Call(ctx, "updateSIPAccount", "sid1-1", map[string]any{"extension": "1000"})
			var te *TransportError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tc.wantNotSent, te.NotSent, "NotSent")
			assert.Equal(t, tc.wantTimeout, te.Timeout, "Timeout")
		})
	}
}
