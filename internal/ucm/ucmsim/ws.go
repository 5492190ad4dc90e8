package ucmsim

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// The /websockify endpoint: one handler goroutine per socket, plus the
// reader goroutine it starts; both end when the socket does (client gone,
// idle timeout, DropWebSockets, the server's Close). The handler sleeps
// until a frame arrives, events are queued for it (events.go), or time next
// changes something by itself (nextChange), then settles and writes. The
// protocol itself is in wsproto.go.
//
// Chosen where FACTS.md is silent: the unit drops a socket (idle, a binary
// frame, a client that does not read its events) by closing the
// connection without a close frame, as a network cut does, which is what a
// client must survive anyway.

const (
	// wsReadLimit bounds a client frame; real requests are tiny.
	wsReadLimit = 64 << 10
	// wsWriteTimeout bounds one frame write to a client that stopped reading.
	wsWriteTimeout = 10 * time.Second
	// wsMaxPending is how many event frames may wait for a slow client
	// before the unit drops the socket rather than buffer without bound.
	wsMaxPending = 256
)

// wsConn is one open socket. Fields after wake are guarded by u.mu.
type wsConn struct {
	conn *websocket.Conn
	wake chan struct{} // one slot: event frames are pending, or the unit changed

	challenge, challengeUser string // the socket's latest unused challenge
	user                     string // the web user logged in; "" before login
	subs                     map[string]bool
	pending                  [][]byte
	overflow                 bool
}

// queue adds an event frame for the socket's handler. Called with u.mu held.
func (s *wsConn) queue(frame []byte) {
	if len(s.pending) >= wsMaxPending {
		s.overflow = true
	} else {
		s.pending = append(s.pending, frame)
	}
	s.poke()
}

// poke wakes the socket's handler: to write pending frames, and to re-arm
// its timer for the unit's next change by itself.
func (s *wsConn) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

type wsFrame struct {
	typ  websocket.MessageType
	data []byte
}

// serveWebSocket upgrades the request and runs the socket until it ends.
func (u *UCM) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	// Accept answers a request that is not a WebSocket handshake, or comes
	// from a foreign Origin, with an HTTP error itself.
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	c.SetReadLimit(wsReadLimit)
	s := &wsConn{conn: c, wake: make(chan struct{}, 1), subs: make(map[string]bool)}
	idle := u.addSocket(s)
	ctx := r.Context()
	frames := make(chan wsFrame)
	stop := make(chan struct{})
	readDone := make(chan struct{})
	go s.readLoop(ctx, frames, stop, readDone)
	defer func() {
		close(stop)
		_ = c.CloseNow()
		<-readDone
		u.removeSocket(s)
	}()
	u.runSocket(ctx, s, idle, frames, readDone)
}

// readLoop hands the client's frames to the handler until the socket
// fails or the handler stops.
func (s *wsConn) readLoop(ctx context.Context, frames chan<- wsFrame, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			return
		}
		select {
		case frames <- wsFrame{typ, data}:
		case <-stop:
			return
		}
	}
}

// runSocket is the handler's loop; it returns when the socket must end.
func (u *UCM) runSocket(ctx context.Context, s *wsConn, idle time.Duration, frames <-chan wsFrame, readDone <-chan struct{}) {
	idleT := time.NewTimer(idle)
	defer idleT.Stop()
	dueT := time.NewTimer(time.Hour)
	dueT.Stop()
	defer dueT.Stop()
	for {
		u.mu.Lock()
		next := u.nextChange()
		u.mu.Unlock()
		if next.IsZero() {
			dueT.Stop()
		} else {
			dueT.Reset(max(time.Until(next), 0))
		}
		u.mu.Lock()
		stalled := u.wsStalled
		u.mu.Unlock()
		select {
		case f := <-frames:
			idleT.Reset(idle) // any frame is traffic; FACTS.md's clients send heartbeats
			if stalled {
				continue // a hung unit reads and never answers
			}
			if f.typ != websocket.MessageText {
				return // FACTS.md: frames are JSON text
			}
			// Events of changes made before the request go out before its
			// response, so a client (and a test) can rely on that order.
			if !u.flush(ctx, s) || !s.write(ctx, u.wsRequest(s, f.data)) {
				return
			}
		case <-s.wake:
			if stalled {
				continue // nor does it send events: they pile up until it recovers or drops
			}
			if !u.flush(ctx, s) {
				return
			}
		case <-dueT.C:
			u.mu.Lock()
			u.settleCalls(time.Now()) // publishes to every socket, this one included
			u.mu.Unlock()
		case <-idleT.C:
			if stalled {
				idleT.Reset(idle) // a hung unit does not even drop idle sockets
				continue
			}
			return
		case <-readDone:
			return
		case <-ctx.Done():
			return
		}
	}
}

// flush writes the pending event frames; false means the socket must end
// (a write failed, or the client fell wsMaxPending frames behind).
func (u *UCM) flush(ctx context.Context, s *wsConn) bool {
	u.mu.Lock()
	out, overflow := s.pending, s.overflow
	s.pending = nil
	u.mu.Unlock()
	if overflow {
		return false
	}
	for _, frame := range out {
		if !s.write(ctx, frame) {
			return false
		}
	}
	return true
}

// write sends one text frame, giving up on a client that does not read.
func (s *wsConn) write(ctx context.Context, frame []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, frame) == nil
}

// addSocket registers s and returns the idle timeout. The calls are
// settled first, so the socket's starting point is the unit now and it
// hears only of later changes.
func (u *UCM) addSocket(s *wsConn) time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.settleCalls(time.Now())
	u.sockets[s] = struct{}{}
	if u.lastState == nil {
		u.lastState = u.currentState()
	}
	return u.cfg.WSIdleTimeout
}

func (u *UCM) removeSocket(s *wsConn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.sockets, s)
	if len(u.sockets) == 0 {
		u.lastState = nil
	}
}

// DropWebSockets closes every open WebSocket at once, without a close
// frame, as a reboot or a network cut does; clients must reconnect, log in
// and subscribe again, and resynchronise from the channel lists. When it
// returns, WebSocketConns is 0 (the handlers finish shortly after).
func (u *UCM) DropWebSockets() {
	u.mu.Lock()
	open := make([]*wsConn, 0, len(u.sockets))
	for s := range u.sockets {
		open = append(open, s)
	}
	clear(u.sockets)
	u.lastState = nil
	u.mu.Unlock()
	for _, s := range open {
		_ = s.conn.CloseNow()
	}
}

// WebSocketConns is the number of WebSockets open now, logged in or not.
func (u *UCM) WebSocketConns() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.sockets)
}

// StallWebSockets makes every socket hang (on) or recover (off): a hung unit keeps the
// connection open but answers no request, sends no event and drops nothing, so only a client
// that notices the silence gets out. Events are kept meanwhile and sent on recovery.
func (u *UCM) StallWebSockets(on bool) {
	u.mu.Lock()
	u.wsStalled = on
	socks := make([]*wsConn, 0, len(u.sockets))
	for s := range u.sockets {
		socks = append(socks, s)
	}
	u.mu.Unlock()
	for _, s := range socks {
		s.poke()
	}
}
