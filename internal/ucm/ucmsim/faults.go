package ucmsim

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Faults: the ways a unit on a customer's LAN misbehaves short of an error status. A unit
// reboots (ForgetCookies, Server.Reboot), stalls, slows down (SetLatency), refuses connections
// (Server.RefuseConnections), answers an HTML page (FailNextHTML), cuts a reply off, and asks its
// clients to slow down. The guide documents none of this behaviour beyond the -45/-46/-57
// statuses; each knob is what such a unit does at the HTTP level, and is strict: a fault never
// answers more kindly than the real thing would.

// faults is the unit's fault state, guarded by UCM.mu.
type faults struct {
	stallRequests bool          // accepted, counted, never handled
	stallReplies  bool          // handled (a write happens), never answered
	resume        chan struct{} // closed by Resume: stalled requests go on
	truncate      int           // the next n replies are cut off half-way
	limitStatus   int           // -45, -46 or -57 answered to everything until limitUntil
	limitUntil    time.Time

	active int // requests being served now
}

// StallRequests makes the unit accept every request and never answer it, without acting on
// it, until Resume or until the client gives up: a unit whose web server hangs.
func (u *UCM) StallRequests() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.faults.stallRequests = true
	u.stallChan()
}

// StallReplies makes the unit act on every request (a write is done) and then never answer,
// until Resume or until the client gives up: the worst case for a client, which cannot tell
// whether its write happened.
func (u *UCM) StallReplies() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.faults.stallReplies = true
	u.stallChan()
}

// Resume ends StallRequests and StallReplies; requests still waiting go on as normal.
func (u *UCM) Resume() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.faults.stallRequests, u.faults.stallReplies = false, false
	if u.faults.resume != nil {
		close(u.faults.resume)
		u.faults.resume = nil
	}
}

// stallChan must be called with mu held.
func (u *UCM) stallChan() chan struct{} {
	if u.faults.resume == nil {
		u.faults.resume = make(chan struct{})
	}
	return u.faults.resume
}

// TruncateNext cuts the next n replies off half-way: the unit announces the whole length,
// sends half, and drops the connection, as a unit that crashes while answering. The request
// itself was handled.
func (u *UCM) TruncateNext(n int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.faults.truncate = max(n, 0)
}

// RateLimit makes the unit answer every request (challenge and login included) with status
// for d: -45 or -46 ("too frequent; retry after 15 s") or -57 ("retry after 60 s"). Requests
// that arrive during the pause are counted like any other, so a test can prove the client kept
// away.
func (u *UCM) RateLimit(status int, d time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.faults.limitStatus, u.faults.limitUntil = status, time.Now().Add(d)
}

// InFlight is the number of requests the unit is serving right now, stalled ones included.
func (u *UCM) InFlight() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.faults.active
}

// ResetPeak starts Counters.PeakInFlight afresh from the requests in flight now.
func (u *UCM) ResetPeak() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.counters.PeakInFlight = u.faults.active
}

// enter counts a request in flight; the returned func counts it out, and as abandoned when its
// client went away before the unit answered.
func (u *UCM) enter(ctx context.Context) func() {
	u.mu.Lock()
	u.faults.active++
	u.counters.PeakInFlight = max(u.counters.PeakInFlight, u.faults.active)
	u.mu.Unlock()
	return func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		u.faults.active--
		if ctx.Err() != nil {
			u.counters.Abandoned++
		}
	}
}

// injectFaults runs after a request has been received and counted. It answers a rate-limited
// request itself, holds a stalled one, and wraps the writer of a reply that is to be cut off or
// withheld. proceed is false when the request has been dealt with (or its client left).
func (u *UCM) injectFaults(w http.ResponseWriter, r *http.Request) (_ http.ResponseWriter, proceed bool) {
	u.mu.Lock()
	f := &u.faults
	if f.limitStatus != 0 && time.Now().Before(f.limitUntil) {
		status := f.limitStatus
		u.mu.Unlock()
		writeJSON(w, fail(status))
		return w, false
	}
	var stall chan struct{}
	if f.stallRequests {
		stall = f.resume
	}
	u.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-r.Context().Done():
			drop(w)
			return w, false
		}
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	fw := &faultWriter{ResponseWriter: w, ctx: r.Context(), code: http.StatusOK}
	if f.truncate > 0 {
		f.truncate--
		fw.truncate = true
	}
	if f.stallReplies {
		fw.stall = f.resume
	}
	if !fw.truncate && fw.stall == nil {
		return w, true
	}
	return fw, true
}

// faultWriter withholds a reply (stall) or sends half of it and breaks the connection
// (truncate). It expects what writeJSON and serveRaw do: headers, an optional WriteHeader and
// one Write.
type faultWriter struct {
	http.ResponseWriter
	ctx      context.Context
	stall    chan struct{}
	truncate bool
	code     int
}

func (fw *faultWriter) WriteHeader(code int) { fw.code = code }

func (fw *faultWriter) Write(b []byte) (int, error) {
	if fw.stall != nil {
		select {
		case <-fw.stall:
		case <-fw.ctx.Done():
			drop(fw.ResponseWriter)
			return 0, fw.ctx.Err()
		}
	}
	if !fw.truncate {
		fw.ResponseWriter.WriteHeader(fw.code)
		return fw.ResponseWriter.Write(b)
	}
	// Announce the whole length and send half: net/http then closes the connection, and the
	// client reads an unexpected EOF.
	fw.Header().Set("Content-Length", strconv.Itoa(len(b)))
	fw.ResponseWriter.WriteHeader(fw.code)
	if _, err := fw.ResponseWriter.Write(b[:len(b)/2]); err != nil {
		return 0, err
	}
	fw.truncate = false
	return len(b), nil
}

// RefuseConnections closes the unit's port: new connections are refused and open ones are
// dropped, as while a unit is powered off or rebooting. AcceptConnections opens it again.
func (s *Server) RefuseConnections() { s.sw.refuse() }

// AcceptConnections opens the port again, on the same address, after RefuseConnections.
func (s *Server) AcceptConnections() error { return s.sw.listen() }

// DropConnections closes every open connection (keep-alive ones included); new ones are
// accepted as usual.
func (s *Server) DropConnections() { s.sw.drop() }

// Reboot is a unit restarting in no time: open connections drop and every cookie is forgotten,
// so the next request with an old cookie gets -6. For a reboot that takes a while, call
// RefuseConnections first and AcceptConnections when it is over.
func (s *Server) Reboot() {
	s.sw.drop()
	s.unit.ForgetCookies()
}

// drop closes the connection of a request whose client has gone, so that nothing is sent on it:
// left to itself, net/http would answer an empty 200 to a handler that wrote nothing, and a
// client that gave up at that very moment could read it as the unit's answer. In-process
// callers (httptest.ResponseRecorder) have no connection, and nothing to drop.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
		}
	}
}
