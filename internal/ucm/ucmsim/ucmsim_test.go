package ucmsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testPassword = "ucm-demo-password"

// poster sends one raw request body and returns the HTTP answer.
type poster func(t *testing.T, body []byte) (code int, contentType string, out []byte)

// startHTTPS serves a fresh unit over real HTTPS and returns a poster whose
// client trusts only the unit's certificate.
func startHTTPS(t *testing.T, cfg Config) (*UCM, *Server, poster) {
	t.Helper()
	u := New(cfg)
	srv, err := Listen(u, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(srv.CertPEM()))
	hc := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64},
		Timeout:   20 * time.Second,
	}
	t.Cleanup(hc.CloseIdleConnections)
	post := func(t *testing.T, body []byte) (int, string, []byte) {
		t.Helper()
		res, err := hc.Post(srv.URL()+"/api", "application/json;charset=UTF-8", bytes.NewReader(body))
		require.NoError(t, err)
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, res.Header.Get("Content-Type"), out
	}
	return u, srv, post
}

// direct calls the handler in-process (usable inside a synctest bubble).
func direct(u *UCM) poster {
	return func(t *testing.T, body []byte) (int, string, []byte) {
		rec := httptest.NewRecorder()
		u.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api", bytes.NewReader(body)))
		return rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()
	}
}

// call sends action with key/value parameters and decodes the envelope
// keeping numbers as json.Number, so tests can check the JSON types.
func call(t *testing.T, post poster, action string, kv ...any) (map[string]any, int) {
	t.Helper()
	req := map[string]any{"action": action}
	for i := 0; i+1 < len(kv); i += 2 {
		req[kv[i].(string)] = kv[i+1]
	}
	body, err := json.Marshal(map[string]any{"request": req})
	require.NoError(t, err)
	code, ctype, out := post(t, body)
	require.Equal(t, http.StatusOK, code, "body: %s", out)
	require.Equal(t, "application/json; charset=UTF-8", ctype)
	var env struct {
		Response map[string]any `json:"response"`
		Status   *int           `json:"status"`
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&env), "body: %s", out)
	require.NotNil(t, env.Status, "status missing: %s", out)
	require.NotNil(t, env.Response, "response missing: %s", out)
	return env.Response, *env.Status
}

// login performs the challenge/login handshake and returns the cookie.
func login(t *testing.T, post poster, password string) string {
	t.Helper()
	r, st := call(t, post, "challenge", "user", "api", "version", "1.0")
	require.Equal(t, 0, st, "challenge: %v", r)
	r, st = call(t, post, "login", "user", "api", "token", md5hex(r["challenge"].(string)+password))
	require.Equal(t, 0, st, "login: %v", r)
	return r["cookie"].(string)
}

func num(v any) int {
	n, _ := paramInt(v)
	return n
}

func TestHandshakeOverHTTPS(t *testing.T) {
	u, srv, post := startHTTPS(t, Config{})

	r, st := call(t, post, "challenge", "user", "api", "version", "1.0")
	require.Equal(t, 0, st)
	ch := r["challenge"].(string)
	assert.Regexp(t, regexp.MustCompile(`^\d{16}$`), ch)

	r, st = call(t, post, "login", "user", "api", "token", md5hex(ch+testPassword))
	require.Equal(t, 0, st)
	cookie := r["cookie"].(string)
	assert.Regexp(t, regexp.MustCompile(`^sid\d+-\d+$`), cookie)

	// The challenge is consumed: replaying the token fails.
	_, st = call(t, post, "login", "user", "api", "token", md5hex(ch+testPassword))
	assert.Equal(t, StatusWrongPassword, st)

	second := login(t, post, testPassword)
	assert.NotEqual(t, cookie, second, "several cookies may be live at once")

	r, st = call(t, post, "getSystemStatus", "cookie", cookie)
	require.Equal(t, 0, st)
	for _, k := range []string{"idle-time", "part-number", "serial-number", "system-time", "up-time"} {
		assert.IsType(t, "", r[k], k)
	}
	assert.Regexp(t, `^\d{2,}:\d{2}:\d{2}$`, r["up-time"])
	assert.Regexp(t, `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC[+-]\d{2}:\d{2}$`, r["system-time"])

	r, st = call(t, post, "getSystemGeneralStatus", "cookie", second)
	require.Equal(t, 0, st)
	assert.Contains(t, r["product-model"], "UCM")
	assert.Len(t, r, 8)

	_, st = call(t, post, "logout", "cookie", cookie)
	assert.Equal(t, 0, st)
	_, st = call(t, post, "getSystemStatus", "cookie", cookie)
	assert.Equal(t, StatusCookieError, st)
	_, st = call(t, post, "getSystemStatus", "cookie", second)
	assert.Equal(t, 0, st, "logout kills only its own cookie")

	c := u.Counters()
	assert.Equal(t, 2, c.Logins)
	assert.Equal(t, 1, c.FailedLogins)
	assert.Equal(t, 1, c.Logouts)
	assert.Equal(t, 2, c.Challenges)
	assert.Equal(t, 3, c.Calls["login"])
	assert.Equal(t, 4, u.TotalCalls())

	// The pinned fingerprint is the one the TLS peer presents.
	conn, err := tls.Dial("tcp", srv.URL()[len("https://"):], &tls.Config{InsecureSkipVerify: true})
	require.NoError(t, err)
	defer conn.Close()
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	assert.Equal(t, hex.EncodeToString(sum[:]), srv.CertSHA256())
}

func TestUntrustedClientRejected(t *testing.T) {
	_, srv, _ := startHTTPS(t, Config{})
	_, err := http.Post(srv.URL()+"/api", "application/json", bytes.NewReader([]byte(`{}`)))
	require.Error(t, err)
	assert.ErrorAs(t, err, new(*tls.CertificateVerificationError))
}

func TestTransportErrors(t *testing.T) {
	u := New(Config{})
	tests := []struct {
		name, method, path string
		want               int
	}{
		{"get", http.MethodGet, "/api", http.StatusMethodNotAllowed},
		{"other path", http.MethodPost, "/cgi", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			u.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			assert.Equal(t, tc.want, rec.Code)
		})
	}
	_, st := call(t, direct(u), "noSuchAction", "cookie", login(t, direct(u), testPassword))
	assert.Equal(t, StatusInvalidParams, st)
	code, _, out := direct(u)(t, []byte(`not json`))
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"response":{"error_msg":"Invalid parameters!"},"status":-1}`, string(out))
}

func TestLoginFailuresAndBan(t *testing.T) {
	u, _, post := startHTTPS(t, Config{MaxLoginAttempts: 4})

	badLogin := func(user string) (map[string]any, int) {
		r, st := call(t, post, "challenge", "user", user)
		require.Equal(t, 0, st)
		return call(t, post, "login", "user", user, "token", md5hex(r["challenge"].(string)+"wrong"))
	}
	// A success resets the count.
	_, st := badLogin("api")
	require.Equal(t, StatusWrongPassword, st)
	login(t, post, testPassword)

	steps := []struct {
		user       string
		wantStatus int
		wantRemain int
	}{
		{"api", StatusWrongPassword, 3},
		{"nobody", StatusNoSuchUser, 2},
		{"api", StatusWrongPassword, 1},
	}
	for i, s := range steps {
		r, st := badLogin(s.user)
		assert.Equal(t, s.wantStatus, st, "step %d", i)
		assert.Equal(t, s.wantRemain, num(r["remain_num"]), "step %d", i)
	}
	// No challenge at all is a wrong token too, and this one exhausts the attempts.
	r, st := call(t, post, "login", "user", "api", "token", md5hex(testPassword))
	assert.Equal(t, StatusLoginRestriction, st)
	assert.Equal(t, 1800, num(r["remain_time"]))

	r, st = call(t, post, "challenge", "user", "api")
	assert.Equal(t, StatusLoginForbidden, st)
	assert.InDelta(t, 1800, num(r["remain_time"]), 2)
	_, st = call(t, post, "login", "user", "api", "token", md5hex("x"+testPassword))
	assert.Equal(t, StatusLoginForbidden, st, "banned even with the right password")

	u.LiftBan()
	login(t, post, testPassword)

	u.SetPassword("n3w-Pass")
	_, st = badLogin("api") // old password now wrong
	assert.Equal(t, StatusWrongPassword, st)
	login(t, post, "n3w-Pass")
}

func TestBanEndsAfterBanDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{MaxLoginAttempts: 1, BanDuration: time.Hour})
		post := direct(u)
		r, st := call(t, post, "login", "user", "api", "token", "00")
		require.Equal(t, StatusLoginRestriction, st)
		require.Equal(t, 3600, num(r["remain_time"]))
		time.Sleep(59 * time.Minute)
		r, st = call(t, post, "challenge", "user", "api")
		require.Equal(t, StatusLoginForbidden, st)
		assert.Equal(t, 60, num(r["remain_time"]))
		time.Sleep(time.Minute)
		login(t, post, testPassword)
	})
}

func TestCookieIdleExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{})
		post := direct(u)
		cookie := login(t, post, testPassword)
		for range 3 { // each use refreshes the idle timer
			time.Sleep(10*time.Minute - time.Second)
			_, st := call(t, post, "getSystemStatus", "cookie", cookie)
			require.Equal(t, 0, st)
		}
		time.Sleep(10 * time.Minute)
		_, st := call(t, post, "getSystemStatus", "cookie", cookie)
		assert.Equal(t, StatusCookieError, st)
		_, st = call(t, post, "logout", "cookie", cookie)
		assert.Equal(t, StatusCookieError, st)
	})
}

func TestCookieInvalidation(t *testing.T) {
	tests := []struct {
		name string
		kill func(*UCM)
	}{
		{"ForgetCookies", (*UCM).ForgetCookies},
		{"ExpireCookies", (*UCM).ExpireCookies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, _, post := startHTTPS(t, Config{})
			cookie := login(t, post, testPassword)
			tc.kill(u)
			_, st := call(t, post, "listAccount", "cookie", cookie)
			assert.Equal(t, StatusCookieError, st)
			_, st = call(t, post, "listAccount")
			assert.Equal(t, StatusCookieError, st, "no cookie")
			_, st = call(t, post, "listAccount", "cookie", login(t, post, testPassword))
			assert.Equal(t, 0, st)
		})
	}
}

func TestFailNext(t *testing.T) {
	u, _, post := startHTTPS(t, Config{})
	cookie := login(t, post, testPassword)
	u.FailNext(2, -9)

	_, st := call(t, post, "listAccount", "cookie", "sid1-1")
	assert.Equal(t, StatusCookieError, st, "a bad cookie is not an authenticated call")
	cookie2 := login(t, post, testPassword) // challenge/login are not affected
	_, st = call(t, post, "getSystemStatus", "cookie", cookie)
	assert.Equal(t, -9, st)
	_, st = call(t, post, "listAccount", "cookie", cookie2)
	assert.Equal(t, -9, st)
	_, st = call(t, post, "listAccount", "cookie", cookie2)
	assert.Equal(t, 0, st)
}

func TestFailNextHTML(t *testing.T) {
	u, _, post := startHTTPS(t, Config{})
	u.FailNextHTML(2)
	for _, action := range []string{"challenge", "listAccount"} {
		body, _ := json.Marshal(map[string]any{"request": map[string]any{"action": action, "user": "api"}})
		code, ctype, out := post(t, body)
		assert.Equal(t, http.StatusForbidden, code)
		assert.Equal(t, "text/html", ctype)
		assert.Contains(t, string(out), "403 Forbidden")
	}
	login(t, post, testPassword)
	assert.Equal(t, 2, u.Calls("challenge"))
	assert.Equal(t, 1, u.Calls("listAccount"))
}

func TestLatencyRespectsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{})
		u.SetLatency(time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		body := []byte(`{"request":{"action":"challenge","user":"api"}}`)
		rec := httptest.NewRecorder()
		start := time.Now()
		u.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api", bytes.NewReader(body)).WithContext(ctx))
		assert.Equal(t, time.Second, time.Since(start))
		assert.Empty(t, rec.Body.String())
		assert.Zero(t, u.Counters().Challenges)

		start = time.Now()
		_, st := call(t, direct(u), "challenge", "user", "api")
		assert.Equal(t, 0, st)
		assert.Equal(t, time.Minute, time.Since(start))
	})
}
