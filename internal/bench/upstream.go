// Package bench measures what the gateway costs: the hop it adds in front of a UCM, the load it
// puts on a unit, and what it takes to serve many units. `make bench` runs it (cmd/ucm-bench)
// and writes docs/benchmarks.md; the Go benchmarks beside it run with `go test -bench`.
package bench

import (
	_ "embed"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
)

// sipAccountReply is the vendor guide's getSIPAccount sample reply (Table 8). The guide's text
// repeats some keys (local_network4-6, the whole sip_presence_settings array), which is not
// JSON any decoder agrees on: the repeats are dropped here.
//
//go:embed testdata/getSIPAccount.json
var sipAccountReply []byte

// Upstream is the cheapest UCM there can be: canned replies to challenge, login and
// getSIPAccount over HTTPS, so a measurement of the hop in front of it is the hop's alone.
type Upstream struct {
	*httptest.Server
	Calls  atomic.Int64 // every request
	Logins atomic.Int64
}

// NewUpstream starts the canned UCM on loopback; Close stops it.
func NewUpstream() *Upstream {
	u := &Upstream{}
	u.Server = httptest.NewTLSServer(http.HandlerFunc(u.serve))
	return u
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	u.Calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Request struct {
			Action string `json:"action"`
		} `json:"request"`
	}
	_ = json.Unmarshal(body, &req)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	switch req.Request.Action {
	case "challenge":
		_, _ = io.WriteString(w, `{"response":{"challenge":"0000001652464570"},"status":0}`)
	case "login":
		u.Logins.Add(1)
		_, _ = io.WriteString(w, `{"response":{"cookie":"sid1234567890-1652464570"},"status":0}`)
	case "getSIPAccount":
		_, _ = w.Write(sipAccountReply)
	default:
		_, _ = io.WriteString(w, `{"response":{},"status":0}`)
	}
}

// URL is the unit URL a gateway is configured with (https://127.0.0.1:port).
func (u *Upstream) URL() string { return strings.TrimSuffix(u.Server.URL, "/") }
