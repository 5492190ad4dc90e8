package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
)

// recordingUpstream is a unit that says yes to everything ({}), and remembers what it was sent.
type recordingUpstream struct {
	mu    sync.Mutex
	calls []sentAction
}

type sentAction struct {
	action string
	params map[string]any
}

func (r *recordingUpstream) Do(_ context.Context, _, action string, params map[string]any) (json.RawMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, sentAction{action, params})
	return json.RawMessage(`{}`), nil
}

func (r *recordingUpstream) Open(_ context.Context, _, action string, params map[string]any) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, sentAction{action, params})
	if action != "cdrapi" {
		return nil, errors.New("recordingUpstream: only cdrapi answers raw")
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"cdr_root":[]}`))}, nil
}

func (r *recordingUpstream) Units() []sessionpool.UnitStatus {
	return []sessionpool.UnitStatus{{ID: "demo", State: sessionpool.StateReady, Breaker: "closed", MaxInFlight: 8}}
}

func (r *recordingUpstream) Unit(id string) (sessionpool.UnitStatus, error) {
	if id != "demo" {
		return sessionpool.UnitStatus{}, sessionpool.ErrUnknownUnit
	}
	return r.Units()[0], nil
}

func (r *recordingUpstream) Reset(id string) (sessionpool.UnitStatus, error) { return r.Unit(id) }

func (r *recordingUpstream) take() []sentAction {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// fuzzRoutes are the requests whose input becomes UCM parameters. The fuzzer picks one, an
// argument (a path segment or a query string) and a body.
var fuzzRoutes = []struct {
	method, path, ctype string // path: %s is the argument
	passThrough         bool   // runAction sends the client's values as they are (documented)
}{
	{http.MethodPost, "/v1/units/demo/extensions", "application/json", false},
	{http.MethodPatch, "/v1/units/demo/extensions/%s", "application/merge-patch+json", false},
	{http.MethodPost, "/v1/units/demo/trunks/sip", "application/json", false},
	{http.MethodPatch, "/v1/units/demo/trunks/sip/%s", "application/merge-patch+json", false},
	{http.MethodPost, "/v1/units/demo/trunks/analog", "application/json", false},
	{http.MethodPut, "/v1/units/demo/trunks/analog/%s/sla", "application/json", false},
	{http.MethodPost, "/v1/units/demo/calls", "application/json", false},
	{http.MethodGet, "/v1/units/demo/extensions?%s", "", false},
	{http.MethodGet, "/v1/units/demo/cdrs?%s", "", false},
	{http.MethodPost, "/v1/units/demo/actions/%s", "application/json", true},
}

var saneParam = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// FuzzRequestToAction sends arbitrary requests through the real router and checks what reaches
// the unit: never a session action, never a parameter that could pose as the action or the
// cookie, only sane parameter names, and (for the resources) only the UCM's wire form of values.
// Whatever the input, the answer is never a 500.
func FuzzRequestToAction(f *testing.F) {
	up := &recordingUpstream{}
	h, err := New(Options{Upstream: up, Logger: slog.New(slog.DiscardHandler), Metrics: metrics.New("fuzz"),
		InsecureNoAuth: true, RateLimit: RateLimit{Requests: 1 << 30, Window: time.Minute}, CallStartTimeout: time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct {
		route     uint8
		arg, body string
	}{
		{0, "", `{"extension":"1009","secret":"Secret-123x","fullname":"A B","max_contacts":3,"voicemail":{"enable_vm":true}}`},
		{0, "", `{"extension":"1009","action":"deleteUser","cookie":"sid1-1"}`},
		{1, "1001", `{"alertinfo":"ring5","hasvoicemail":null,"allow":["ulaw","g722"]}`},
		{1, "1001", `{"Cookie":"x","ACTION":"login"}`},
		{1, "10%2F01", `{}`},
		{2, "", `{"trunk_name":"t1","host":"192.0.2.1","username":"u","secret":"s"}`},
		{3, "1", `{"host":"192.0.2.2","keepalive":true}`},
		{4, "", `{"trunk_name":"a","chans":"1"}`},
		{5, "1", `{"enable_sla":true,"bargeallowed":"yes"}`},
		{6, "", `{"from":"1000","to":{"type":"extension","number":"1001"}}`},
		{6, "", `{"from":"1000","to":{"type":"external","number":"+1 (555) 0100"}}`},
		{7, "page_size=2&sort=-extension&page_token=Mg", ""},
		{8, "caller=1000&start=2025-01-01T00:00:00Z&limit=5", ""},
		{9, "getQueue", `{"queue":"6500"}`},
		{9, "login", `{"user":"api"}`},
		{9, "listQueue", `{"action\u0000":"x","cookie":"y"}`},
		{9, "addQueue", `{"members":[1000,1001],"nested":{"cookie":1}}`},
	} {
		f.Add(seed.route, seed.arg, seed.body)
	}
	f.Fuzz(func(t *testing.T, route uint8, arg, body string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		target := r.path
		if strings.Contains(target, "%s") {
			if strings.Contains(target, "?") {
				target = strings.Replace(target, "%s", arg, 1)
			} else {
				target = strings.Replace(target, "%s", url.PathEscape(arg), 1)
			}
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || strings.ContainsFunc(u.RequestURI(), func(c rune) bool { return c <= ' ' || c >= 0x7f }) {
			return // not a request line a client could send
		}
		var rd io.Reader
		if r.method != http.MethodGet {
			rd = strings.NewReader(body)
		}
		req := httptest.NewRequest(r.method, "http://gateway.test"+u.RequestURI(), rd)
		if r.ctype != "" {
			req.Header.Set("Content-Type", r.ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		sent := up.take()

		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s %s %q: 500: %s", r.method, target, body, rec.Body)
		}
		if rec.Code >= 200 && rec.Code < 300 && len(sent) == 0 {
			t.Fatalf("%s %s %q: %d without a call to the unit", r.method, target, body, rec.Code)
		}
		if rec.Code == http.StatusBadRequest && len(sent) > 0 && strings.Contains(rec.Body.String(), "invalid-request") {
			t.Fatalf("%s %s %q: refused as invalid after calling the unit (%v)", r.method, target, body, sent)
		}
		for _, c := range sent {
			switch strings.ToLower(c.action) {
			case "", "challenge", "login", "logout":
				t.Fatalf("%s %s %q: sent the session action %q", r.method, target, body, c.action)
			}
			checkParams(t, c, c.params, !r.passThrough)
		}
	})
}

// checkParams holds one sent action's parameters (and nested objects) to the wire rules.
func checkParams(t *testing.T, c sentAction, v any, wireForm bool) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.EqualFold(k, "action") || strings.EqualFold(k, "cookie") {
				t.Fatalf("%s: a parameter named %q would pose as the envelope's own", c.action, k)
			}
			if !saneParam.MatchString(k) {
				t.Fatalf("%s: parameter name %q is not a plain name", c.action, k)
			}
			checkValue(t, c, e, wireForm)
		}
	case nil:
	default:
		t.Fatalf("%s: parameters are %T, not an object", c.action, v)
	}
}

func checkValue(t *testing.T, c sentAction, v any, wireForm bool) {
	t.Helper()
	switch x := v.(type) {
	case string, nil:
	case []any:
		for _, e := range x {
			checkValue(t, c, e, wireForm)
		}
	case map[string]any:
		for k, e := range x {
			if strings.EqualFold(k, "action") || strings.EqualFold(k, "cookie") {
				if wireForm {
					t.Fatalf("%s: nested parameter %q", c.action, k)
				}
			}
			checkValue(t, c, e, wireForm)
		}
	default:
		if wireForm {
			t.Fatalf("%s: value %#v (%T) is not the UCM's wire form (strings)", c.action, v, v)
		}
	}
}
