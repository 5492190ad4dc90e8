package ucm

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The UCM's live-event WebSocket (FACTS.md, "Live events: the WebSocket"; not in the vendor
// guide): wss://<unit>/websockify, JSON text frames, its own challenge/login with a web (GUI)
// user, then a subscription to event names, after which the unit pushes notify batches. The
// unit drops a socket after about 25 s without traffic from the client, so the client sends
// heartbeats.

// EventNames are the event names a unit accepts in a subscribe; any other name fails the whole
// subscribe with -9.
var EventNames = []string{"ActiveCallStatus", "ExtensionStatus", "PbxStatus", "TrunkStatus", "CallQueueStatus",
	"PresenceStatus", "VoiceMailStatus", "ResourceUsageStatus", "InterfaceStatus", "EquipmentCapacityStatus"}

// maxFrameBytes bounds one frame: a notify batch of a busy unit is a few kilobytes.
const maxFrameBytes = 4 << 20

// EventConn is one logged-in, subscribed event socket. Read and the request methods may be used
// from different goroutines; requests are answered through the frames Read returns, so only one
// goroutine must Read.
type EventConn struct {
	c         *websocket.Conn
	txn       atomic.Uint64
	addr      string
	lastFrame atomic.Int64 // unix nanoseconds of the last frame received
}

// Notify is one item of a notify batch: the event name and its raw body items.
type Notify struct {
	EventName string            `json:"eventname"`
	Body      []json.RawMessage `json:"eventbody"`
}

// wsFrame is a frame either way: {"type":"request"|"response","message":…}.
type wsFrame struct {
	Type    string          `json:"type"`
	Message json.RawMessage `json:"message"`
}

// wsReply is the message of a response frame.
type wsReply struct {
	TransactionID string `json:"transactionid"`
	Status        *int   `json:"status"`
	Challenge     string `json:"challenge"`
	RemainNum     *int   `json:"remain_num"`
	RemainTime    *int   `json:"remain_time"`
}

// EventsURL is the socket's address for a unit's API base URL (https://host:port).
func EventsURL(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("ucm: unit url %q must be https://host[:port]", baseURL)
	}
	return "wss://" + u.Host + "/websockify", nil
}

// DialEvents connects, logs in with the web user and subscribes to names. A refused login is an
// *Error with the unit's status (and remain_num/remain_time), like the API's: StopsLogins says
// whether another attempt could cost the unit a login attempt. The password leaves this function
// only hashed.
func DialEvents(ctx context.Context, wsURL string, tlsConf *tls.Config, user, password string, names []string) (*EventConn, error) {
	hc := &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: 5 * time.Second,
	}}
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, wsErr(ctx, "websocket", err)
	}
	c.SetReadLimit(maxFrameBytes)
	ec := &EventConn{c: c, addr: wsURL}
	ec.lastFrame.Store(time.Now().UnixNano())
	if err := ec.handshake(ctx, user, password, names); err != nil {
		c.Close(websocket.StatusNormalClosure, "")
		return nil, err
	}
	return ec, nil
}

func (ec *EventConn) handshake(ctx context.Context, user, password string, names []string) error {
	r, err := ec.roundTrip(ctx, "challenge", map[string]any{"username": user, "version": "1"})
	if err != nil {
		return err
	}
	if r.Challenge == "" {
		return &NotJSONError{Action: "challenge", HTTPStatus: 101, ContentType: "websocket reply without a challenge"}
	}
	if _, err := ec.roundTrip(ctx, "login", map[string]any{"username": user, "token": Token(r.Challenge, password)}); err != nil {
		return err
	}
	_, err = ec.roundTrip(ctx, "subscribe", map[string]any{"eventnames": names})
	return err
}

// roundTrip sends a request and reads frames until its response, during the handshake (before
// any notification can come). A non-zero status is an *Error.
func (ec *EventConn) roundTrip(ctx context.Context, action string, params map[string]any) (wsReply, error) {
	id, err := ec.send(ctx, action, params)
	if err != nil {
		return wsReply{}, err
	}
	for {
		_, data, err := ec.c.Read(ctx)
		if err != nil {
			return wsReply{}, wsErr(ctx, action, err)
		}
		var f wsFrame
		if json.Unmarshal(data, &f) != nil || f.Type != "response" {
			continue
		}
		var r wsReply
		if err := json.Unmarshal(f.Message, &r); err != nil || r.TransactionID != id {
			continue
		}
		if r.Status == nil {
			return r, &NotJSONError{Action: action, HTTPStatus: 101, ContentType: "websocket reply without a status"}
		}
		if *r.Status != 0 {
			return r, &Error{Status: Status(*r.Status), Action: action, RemainNum: r.RemainNum, RemainTime: r.RemainTime}
		}
		return r, nil
	}
}

func (ec *EventConn) send(ctx context.Context, action string, params map[string]any) (string, error) {
	id := "t" + strconv.FormatUint(ec.txn.Add(1), 10)
	msg := map[string]any{"transactionid": id, "action": action}
	for k, v := range params {
		msg[k] = v
	}
	b, err := json.Marshal(map[string]any{"type": "request", "message": msg})
	if err != nil {
		return "", err
	}
	if err := ec.c.Write(ctx, websocket.MessageText, b); err != nil {
		return "", wsErr(ctx, action, err)
	}
	return id, nil
}

// Heartbeat keeps the socket alive (the unit drops one that is silent for ~25 s). Its response
// arrives through Read, which ignores it.
func (ec *EventConn) Heartbeat(ctx context.Context) error {
	_, err := ec.send(ctx, "heartbeat", nil)
	return err
}

// Read returns the next notify batch, skipping responses (heartbeats). An error means the socket
// is gone.
func (ec *EventConn) Read(ctx context.Context) ([]Notify, error) {
	for {
		_, data, err := ec.c.Read(ctx)
		if err != nil {
			return nil, wsErr(ctx, "websocket", err)
		}
		ec.lastFrame.Store(time.Now().UnixNano())
		var f wsFrame
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, &NotJSONError{Action: "websocket", HTTPStatus: 101, ContentType: "frame is not JSON"}
		}
		if f.Type != "request" {
			continue
		}
		var items []struct {
			Action string `json:"action"`
			Notify
		}
		if json.Unmarshal(f.Message, &items) != nil {
			var one struct {
				Action string `json:"action"`
				Notify
			}
			if json.Unmarshal(f.Message, &one) != nil {
				continue
			}
			items = append(items, one)
		}
		var out []Notify
		for _, it := range items {
			if it.Action == "notify" {
				out = append(out, it.Notify)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

// Silence is how long the unit has sent nothing (no event, no heartbeat answer). A unit that
// stays silent across several heartbeats is hung, though the connection is open.
func (ec *EventConn) Silence() time.Duration {
	return time.Since(time.Unix(0, ec.lastFrame.Load()))
}

// Close closes the socket.
func (ec *EventConn) Close() error { return ec.c.Close(websocket.StatusNormalClosure, "") }

// CloseNow drops the socket without the closing handshake (a stalled unit never answers it).
func (ec *EventConn) CloseNow() error { return ec.c.CloseNow() }

func wsErr(ctx context.Context, action string, err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return &TransportError{Action: action, Err: fmt.Errorf("socket closed by the unit (%d)", ce.Code)}
	}
	return &TransportError{Action: action, Timeout: errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded), Err: err}
}

// StopsLogins reports whether another login after err could cost the unit a login attempt (and
// get this client's address banned). Only failures known to be harmless to retry (transport
// trouble, the unit being busy) let logins continue; anything else the unit said about a login
// stops them, to be safe.
func StopsLogins(err error) bool {
	var ue *Error
	if !errors.As(err, &ue) {
		return false // transport, timeout, not-JSON: the unit never judged the credentials
	}
	if ue.RemainNum != nil || ue.RemainTime != nil {
		return true
	}
	switch ue.Status {
	case StatusConnectionClosed, StatusSystemTimeout, StatusSystemError,
		StatusTooFrequent, StatusTooFrequent2, StatusTooFrequentLong, StatusTaskRunning:
		return false
	}
	return true
}
