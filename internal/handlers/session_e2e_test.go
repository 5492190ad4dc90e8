package handlers

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hammer sends n concurrent GETs over the given paths and returns the status counts.
func hammer(t *testing.T, e *env, n int, paths []string) map[int]int {
	t.Helper()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := e.srv.Client().Get(e.srv.URL + paths[i%len(paths)])
			code := 0
			if err == nil {
				code = resp.StatusCode
				resp.Body.Close()
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	return codes
}

var mixedReads = []string{
	"/v1/units/demo/extensions/1000", "/v1/units/demo/extensions/1001", "/v1/units/demo/extensions/1002",
	"/v1/units/demo/extensions/1003", "/v1/units/demo/system/status", "/v1/units/demo/system/version",
	"/v1/units/demo/extensions?page_size=3",
}

func TestColdUnitLogsInOnceFor200ConcurrentRequests(t *testing.T) {
	e := newEnv(t)
	codes := hammer(t, e, 200, mixedReads)
	assert.Equal(t, map[int]int{http.StatusOK: 200}, codes)
	c := e.sim.Counters()
	assert.Equal(t, 1, c.Challenges, "challenges")
	assert.Equal(t, 1, c.Logins, "logins")
}

func TestExpiredCookieAndRebootAreInvisible(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(e *env)
	}{
		{"idle cookie expired on the unit", func(e *env) { e.sim.ExpireCookies() }},
		{"unit rebooted", func(e *env) { e.sim.ForgetCookies() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/system/status", nil))
			tc.break_(e)
			codes := hammer(t, e, 100, mixedReads)
			assert.Equal(t, map[int]int{http.StatusOK: 100}, codes, "clients must not see the re-login")
			assert.Equal(t, 2, e.sim.Counters().Logins, "exactly one re-login")
		})
	}
}

func TestWrongPasswordStopsLoginsUntilReset(t *testing.T) {
	e := newEnv(t, withGatewayPassword("not-the-unit-password"))
	code, h, body := e.do(t, http.MethodGet, "/v1/units/demo/extensions/1000", "", "")
	require.Equal(t, http.StatusBadGateway, code, "body: %s", body)
	p := problem(t, h, body)
	assert.Equal(t, "demo", p.Unit)
	require.NotNil(t, p.UCMStatus)
	assert.Equal(t, -37, *p.UCMStatus)

	codes := hammer(t, e, 50, mixedReads)
	assert.Equal(t, map[int]int{http.StatusBadGateway: 50}, codes, "fail fast with 502")
	c := e.sim.Counters()
	assert.Equal(t, 1, c.Challenges, "one challenge only")
	assert.Equal(t, 1, c.FailedLogins, "the gateway spent exactly one login attempt")

	var unit map[string]any
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo", &unit))
	assert.Equal(t, "auth_failed", unit["session"].(map[string]any)["state"])

	// The operator fixes the unit's password to what the gateway has, then resets.
	e.sim.SetPassword("not-the-unit-password")
	code, _, body = e.do(t, http.MethodPost, "/v1/units/demo/reset", "", "")
	require.Equal(t, http.StatusOK, code, "body: %s", body)
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/extensions/1000", nil))
	assert.Equal(t, 1, e.sim.Counters().Logins)
}

func TestUpstreamErrorsMapToProblems(t *testing.T) {
	tests := []struct {
		name       string
		inject     func(e *env)
		wantStatus int
		wantUCM    int
		wantRetry  string
	}{
		{"too frequent", func(e *env) { e.sim.FailNext(1, -45) }, http.StatusTooManyRequests, -45, "15"},
		{"too frequent, long", func(e *env) { e.sim.FailNext(1, -57) }, http.StatusTooManyRequests, -57, "60"},
		{"system timeout", func(e *env) { e.sim.FailNext(1, -8) }, http.StatusGatewayTimeout, -8, ""},
		{"abnormal system error", func(e *env) { e.sim.FailNext(1, -9) }, http.StatusBadGateway, -9, ""},
		{"no permission", func(e *env) { e.sim.FailNext(1, -47) }, http.StatusBadGateway, -47, ""},
		{"unsupported", func(e *env) { e.sim.FailNext(1, -19) }, http.StatusNotImplemented, -19, ""},
		{"html page from a blacklisted IP", func(e *env) { e.sim.FailNextHTML(1) }, http.StatusBadGateway, 0, ""},
		{"cookie refused twice", func(e *env) { e.sim.FailNext(2, -6) }, http.StatusBadGateway, -6, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/system/status", nil))
			tc.inject(e)
			code, h, body := e.do(t, http.MethodGet, "/v1/units/demo/extensions/1001", "", "")
			assert.Equal(t, tc.wantStatus, code, "body: %s", body)
			p := problem(t, h, body)
			if tc.wantUCM != 0 {
				require.NotNil(t, p.UCMStatus, "ucm_status in %s", body)
				assert.Equal(t, tc.wantUCM, *p.UCMStatus)
			}
			assert.Equal(t, tc.wantRetry, h.Get("Retry-After"))
			assert.NotEmpty(t, p.RequestID)
			assert.Equal(t, h.Get("X-Request-Id"), p.RequestID)
		})
	}
}

func TestOneRefusedCookieIsRetriedOnce(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/system/status", nil))
	e.sim.FailNext(1, -6)
	assert.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units/demo/extensions/1002", nil))
	assert.Equal(t, 2, e.sim.Counters().Logins)
}

func TestUnitsListing(t *testing.T) {
	e := newEnv(t)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	require.Equal(t, http.StatusOK, e.getJSON(t, "/v1/units", &list))
	require.Len(t, list.Items, 1)
	assert.Equal(t, "cold", list.Items[0]["session"].(map[string]any)["state"], fmt.Sprint(list.Items[0]))
	assert.Equal(t, 0, e.sim.Counters().Challenges, "listing units never contacts a unit")
}
