package ucmsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultClient is a client of srv that returns transport errors instead of failing the test.
type faultClient struct {
	hc  *http.Client
	url string
}

func newFaultClient(t *testing.T, srv *Server) *faultClient {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(srv.CertPEM()))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(hc.CloseIdleConnections)
	return &faultClient{hc: hc, url: srv.URL() + "/api"}
}

// do sends action and returns the reply's status, or the transport error.
func (c *faultClient) do(ctx context.Context, action string, kv ...any) (int, error) {
	req := map[string]any{"action": action}
	for i := 0; i+1 < len(kv); i += 2 {
		req[kv[i].(string)] = kv[i+1]
	}
	body, _ := json.Marshal(map[string]any{"request": req})
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var env struct {
		Status int `json:"status"`
	}
	if err := json.Unmarshal(out, &env); err != nil {
		return 0, err
	}
	return env.Status, nil
}

func alertinfoOf(t *testing.T, u *UCM, ext string) any {
	t.Helper()
	rec, ok := u.Extension(ext)
	require.True(t, ok)
	return rec["alertinfo"]
}

func TestStallRequestsAcceptsAndNeverAnswers(t *testing.T) {
	u, srv, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	c := newFaultClient(t, srv)
	before := alertinfoOf(t, u, "1000")

	u.StallRequests()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := c.do(ctx, "updateSIPAccount", "cookie", cookie, "extension", "1000", "alertinfo", "ring5")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "a stalled unit never answers")
	assert.Equal(t, 1, u.Calls("updateSIPAccount"), "the request was received")
	assert.Equal(t, before, alertinfoOf(t, u, "1000"), "a stalled request is not acted on")
	require.Eventually(t, func() bool { return u.Counters().Abandoned == 1 }, 5*time.Second, time.Millisecond)

	u.Resume()
	st, err := c.do(context.Background(), "getSystemStatus", "cookie", cookie)
	require.NoError(t, err)
	assert.Equal(t, StatusOK, st, "after Resume the unit answers again")
}

func TestStallRepliesActsButNeverAnswers(t *testing.T) {
	u, srv, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	c := newFaultClient(t, srv)

	u.StallReplies()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := c.do(ctx, "updateSIPAccount", "cookie", cookie, "extension", "1000", "alertinfo", "ring5")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, "ring5", alertinfoOf(t, u, "1000"), "the write happened although its answer never came")
	u.Resume()
}

func TestResumeReleasesWaitingRequests(t *testing.T) {
	u, srv, post := startHTTPS(t, Config{})
	cookie := login(t, post, testPassword)
	c := newFaultClient(t, srv)
	u.StallRequests()
	done := make(chan error, 1)
	go func() {
		_, err := c.do(context.Background(), "getSystemStatus", "cookie", cookie)
		done <- err
	}()
	require.Eventually(t, func() bool { return u.InFlight() == 1 }, 5*time.Second, time.Millisecond)
	u.Resume()
	require.NoError(t, <-done)
	assert.Zero(t, u.Counters().Abandoned)
}

func TestTruncateNextCutsTheReplyAndTheConnection(t *testing.T) {
	u, srv, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	c := newFaultClient(t, srv)

	u.TruncateNext(1)
	_, err := c.do(context.Background(), "updateSIPAccount", "cookie", cookie, "extension", "1000", "alertinfo", "ring3")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the reply announced more than it sent")
	assert.Equal(t, "ring3", alertinfoOf(t, u, "1000"), "the request was handled before its reply broke")

	st, err := c.do(context.Background(), "getSystemStatus", "cookie", cookie)
	require.NoError(t, err, "only the next reply is cut")
	assert.Equal(t, StatusOK, st)
}

func TestRateLimitAnswersEverythingUntilThePauseEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{})
		post := direct(u)
		cookie := login(t, post, testPassword)
		u.RateLimit(-45, 15*time.Second)
		for _, action := range []string{"getSystemStatus", "challenge", "listAccount"} {
			_, st := call(t, post, action, "cookie", cookie, "user", "api")
			assert.Equal(t, -45, st, "%s during the pause", action)
		}
		assert.Equal(t, 1, u.Calls("getSystemStatus"), "refused requests are still counted")
		time.Sleep(15 * time.Second)
		_, st := call(t, post, "getSystemStatus", "cookie", cookie)
		assert.Equal(t, StatusOK, st, "after the pause")
	})
}

func TestRefuseConnectionsThenAcceptAgain(t *testing.T) {
	_, srv, post := startHTTPS(t, Config{})
	cookie := login(t, post, testPassword)
	c := newFaultClient(t, srv)
	_, err := c.do(context.Background(), "getSystemStatus", "cookie", cookie) // a keep-alive connection to drop
	require.NoError(t, err)

	srv.RefuseConnections()
	_, err = c.do(context.Background(), "getSystemStatus", "cookie", cookie)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		// The client may first reuse the keep-alive connection the unit just dropped (EOF, or
		// net/http's "server closed idle connection").
		require.Error(t, err, "a dropped connection")
		_, err = c.do(context.Background(), "getSystemStatus", "cookie", cookie)
	}
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "a closed port refuses")

	require.NoError(t, srv.AcceptConnections())
	st, err := c.do(context.Background(), "getSystemStatus", "cookie", cookie)
	require.NoError(t, err)
	assert.Equal(t, StatusOK, st, "the same address serves again, and the unit kept its cookies")
	assert.NoError(t, srv.AcceptConnections(), "accepting twice is harmless")
}

func TestRebootDropsConnectionsAndCookies(t *testing.T) {
	u, srv, post := startHTTPS(t, Config{})
	cookie := login(t, post, testPassword)
	c := newFaultClient(t, srv)
	u.StallRequests()
	errc := make(chan error, 1)
	go func() {
		_, err := c.do(context.Background(), "getSystemStatus", "cookie", cookie)
		errc <- err
	}()
	require.Eventually(t, func() bool { return u.InFlight() == 1 }, 5*time.Second, time.Millisecond)
	srv.Reboot()
	err := <-errc
	require.Error(t, err, "a request in flight during a reboot gets no answer")
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
	u.Resume()
	st, err := c.do(context.Background(), "getSystemStatus", "cookie", cookie)
	require.NoError(t, err)
	assert.Equal(t, StatusCookieError, st, "cookies do not survive a reboot")
}

func TestPeakInFlightCountsConcurrentRequests(t *testing.T) {
	u, srv, post := startHTTPS(t, Config{})
	cookie := login(t, post, testPassword)
	c := newFaultClient(t, srv)
	u.ResetPeak()
	u.SetLatency(100 * time.Millisecond)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			_, err := c.do(context.Background(), "getSystemStatus", "cookie", cookie)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 5, u.Counters().PeakInFlight)
	assert.Zero(t, u.InFlight())
}
