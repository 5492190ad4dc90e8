package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// subscribed are the UCM event names the source asks for. ActiveCallStatus and CallQueueStatus
// only say *that* calls changed: the source then re-reads the channel lists, so a call event
// always carries the call exactly as GET …/calls/{call} shows it, and both sources give the same
// events. ExtensionStatus items are complete and used as they are.
var subscribed = []string{"ActiveCallStatus", "ExtensionStatus", "CallQueueStatus"}

// WebSocketOptions configure the UCM WebSocket source.
type WebSocketOptions struct {
	URL       string         // wss://host:port/websockify
	TLS       *ucm.TLSConfig // the unit's, built at its first connection
	Username  string         // a web (GUI) user: the API user cannot log in there
	Password  string
	Heartbeat time.Duration // 10s: the unit drops a silent socket after ~25 s
	Debounce  time.Duration // 100ms: notifications this close together cost one re-read
	// BackoffBase and BackoffMax bound the reconnect back-off (1s, 1m), with full jitter.
	BackoffBase, BackoffMax time.Duration
	Jitter                  func() float64
}

// WebSocket is the source for units with an events user: the unit's live-event socket, kept
// open with heartbeats and reconnected with capped exponential back-off. After every connect it
// re-reads the channel lists and extension states, so nothing that happened while it was down is
// missed or left dangling. A login the unit refuses (wrong password, ban) costs exactly one
// attempt: the source stops logging in until Reset.
type WebSocket struct {
	o  SourceOptions
	wo WebSocketOptions

	mu      sync.Mutex
	stopped error         // non-nil: logins stopped until Reset
	reset   chan struct{} // closed by Reset
}

// NewWebSocket makes a WebSocket source.
func NewWebSocket(o SourceOptions, wo WebSocketOptions) *WebSocket {
	o.setDefaults()
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&wo.Heartbeat, 10*time.Second)
	def(&wo.Debounce, 100*time.Millisecond)
	def(&wo.BackoffBase, time.Second)
	def(&wo.BackoffMax, time.Minute)
	if wo.Jitter == nil {
		wo.Jitter = rand.Float64
	}
	return &WebSocket{o: o, wo: wo, reset: make(chan struct{})}
}

// Kind is "websocket".
func (s *WebSocket) Kind() string { return string(api.UnitStateEventDataSourceWebsocket) }

// Reset lets a source whose login was refused try again (after an operator fixed the password).
func (s *WebSocket) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped != nil {
		s.stopped = nil
		close(s.reset)
		s.reset = make(chan struct{})
	}
}

// Stopped reports why logins are stopped, or nil.
func (s *WebSocket) Stopped() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

func (s *WebSocket) state(st string) { s.o.Metrics.SetSourceState(s.o.Unit, s.Kind(), st) }

// Run keeps the socket until ctx ends.
func (s *WebSocket) Run(ctx context.Context, emit Emit) {
	w := newWatch(ctx, &s.o, api.UnitStateEventDataSourceWebsocket, emit)
	defer w.cdrs.wait()
	defer s.state("")
	failures := 0
	for ctx.Err() == nil {
		s.mu.Lock()
		stopped, reset := s.stopped, s.reset
		s.mu.Unlock()
		if stopped != nil {
			s.state("login_stopped")
			w.setState(api.UnitStateEventDataStateLoginStopped, "the unit refused the events user's login: fix units[].events and reset the unit")
			select {
			case <-ctx.Done():
				return
			case <-reset:
				continue
			}
		}
		s.state("connecting")
		err := s.session(ctx, w)
		if ctx.Err() != nil {
			return
		}
		if ucm.StopsLogins(err) && isLogin(err) {
			s.mu.Lock()
			s.stopped = err
			s.mu.Unlock()
			s.o.Logger.Error("unit refused the events user's login: event logins stopped until the unit is reset", "unit", s.o.Unit, "err", err)
			continue
		}
		failures++
		s.o.Metrics.EventSourceRetries.WithLabelValues(s.o.Unit, s.Kind()).Inc()
		s.state("failing")
		w.failed(ctx, err)
		delay := s.backoff(failures)
		if errors.Is(err, errWasUp) {
			failures, delay = 0, s.backoff(0) // a socket that worked and dropped: reconnect soon
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// errWasUp marks the end of a socket that was logged in and subscribed.
var errWasUp = errors.New("event socket dropped")

func isLogin(err error) bool {
	var ue *ucm.Error
	return errors.As(err, &ue) && (ue.Action == "login" || ue.Action == "challenge")
}

// backoff is capped exponential with full jitter; failures 0 gives a short pause.
func (s *WebSocket) backoff(failures int) time.Duration {
	d := s.wo.BackoffBase
	for i := 1; i < failures && d < s.wo.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, s.wo.BackoffMax)
	if failures == 0 {
		d = s.wo.BackoffBase / 4
	}
	return d/2 + time.Duration(s.wo.Jitter()*float64(d/2))
}

// session runs one socket: connect, resynchronise, then follow notifications until it drops.
func (s *WebSocket) session(ctx context.Context, w *watch) error {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	conn, err := ucm.DialEvents(dctx, s.wo.URL, s.wo.TLS.Get(), s.wo.Username, s.wo.Password, subscribed)
	cancel()
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	// Events between the last socket and this one were lost: the lists say what changed. The
	// lists come through the API session, not this socket: if they cannot be read (the API user's
	// login stopped, the unit rate limits), the socket is kept and the reading retried, rather
	// than spending a new events login on every try.
	s.state("connected")
	s.o.Logger.Info("event socket connected", "unit", s.o.Unit)
	err = s.resync(ctx, w)
	resynced := err == nil
	if resynced {
		w.setState(api.UnitStateEventDataStateReady, "")
	} else {
		w.failed(ctx, err)
	}
	retry := time.Second

	frames := make(chan []ucm.Notify, 16)
	readErr := make(chan error, 1)
	rctx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	go func() {
		for {
			batch, err := conn.Read(rctx)
			if err != nil {
				readErr <- err
				return
			}
			select {
			case frames <- batch:
			case <-rctx.Done():
				readErr <- rctx.Err()
				return
			}
		}
	}()
	defer func() { stopRead(); conn.CloseNow(); <-readErr }()

	beat := time.NewTicker(s.wo.Heartbeat)
	defer beat.Stop()
	var reread <-chan time.Time // armed by a call notification, fires after the debounce
	var again <-chan time.Time  // armed while the resynchronisation has not succeeded
	if !resynced {
		again = time.After(retry)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			readErr <- err // for the deferred wait
			return errors.Join(errWasUp, err)
		case <-beat.C:
			if quiet := conn.Silence(); quiet > 3*s.wo.Heartbeat {
				// Heartbeats go unanswered: the unit hung with the connection open.
				return errors.Join(errWasUp, fmt.Errorf("the unit sent nothing for %s, heartbeats included: the socket is stalled", quiet.Round(time.Millisecond)))
			}
			hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Heartbeat(hctx)
			cancel()
			if err != nil {
				return errors.Join(errWasUp, err)
			}
		case batch := <-frames:
			for _, n := range batch {
				s.o.Metrics.EventsReceived.WithLabelValues(s.o.Unit, knownName(n.EventName)).Inc()
				switch n.EventName {
				case "ActiveCallStatus", "CallQueueStatus":
					if reread == nil {
						reread = time.After(s.wo.Debounce)
					}
				case "ExtensionStatus":
					s.extensionStatus(w, n.Body)
				}
			}
		case <-again:
			if err := s.resync(ctx, w); err != nil {
				w.failed(ctx, err)
				retry = min(2*retry, s.wo.BackoffMax)
				again = time.After(retry)
				continue
			}
			again = nil
			w.setState(api.UnitStateEventDataStateReady, "")
		case <-reread:
			if again != nil {
				continue // the full resynchronisation pending covers it
			}
			reread = nil
			if err := w.syncCalls(ctx); err != nil {
				w.failed(ctx, err)
				reread = time.After(time.Second) // the socket is fine; try the lists again
			} else {
				w.setState(api.UnitStateEventDataStateReady, "")
			}
		}
	}
}

// resync reads the lists and extension states after a connect.
func (s *WebSocket) resync(ctx context.Context, w *watch) error {
	if err := w.syncExtensions(ctx); err != nil {
		return err
	}
	return w.syncCalls(ctx)
}

// extensionStatus applies ExtensionStatus items ({extension, status}).
func (s *WebSocket) extensionStatus(w *watch, body []json.RawMessage) {
	states := make(map[string]api.ExtensionState, len(body))
	for _, raw := range body {
		var it struct {
			Extension any    `json:"extension"`
			Status    string `json:"status"`
		}
		if json.Unmarshal(raw, &it) != nil {
			continue
		}
		if st, ok := extensionState(it.Status); ok {
			states[calls.Str(it.Extension)] = st
		}
	}
	for _, c := range w.t.observeExtensions(states, false) {
		w.emit(c.typ, c.data)
	}
}

// knownName keeps metric labels bounded: a name the gateway did not subscribe to is "other".
func knownName(n string) string {
	for _, s := range subscribed {
		if n == s {
			return n
		}
	}
	return "other"
}

var _ Source = (*WebSocket)(nil)
