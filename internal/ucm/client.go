// Package ucm speaks the Grandstream UCM's HTTPS JSON API: one endpoint, an action per request,
// the status code in the body. It knows nothing about sessions being shared or REST: it turns one
// action into one HTTPS POST and every way that can fail into a typed error.
package ucm

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	fastjson "github.com/segmentio/encoding/json"
)

// maxReplyBytes bounds a JSON reply read into memory. Large lists are paged well below this; a
// reply above it is a fault, not data.
const maxReplyBytes = 32 << 20

// IdleConnTimeout is how long a connection to a unit stays pooled unused (net/http's default is
// 90 s). The UCM's own idle limit is not documented; and with thousands of units a pooled
// connection (its TLS state) is most of what an active unit costs. A unit in use keeps its
// connection; one read every 30 s or less never reconnects, and the event sources and
// keep-alive are well inside it or far outside it.
const IdleConnTimeout = 30 * time.Second

// Client sends actions to one unit. It is safe for concurrent use and holds no session state: the
// cookie is a parameter of every call.
type Client struct {
	endpoint string
	conns    *conns       // a unit's connections (NewClient)
	hc       *http.Client // or a test's transport (NewClientWithHTTP)
}

// NewClient checks that baseURL is an https URL (the UCM serves its API only over HTTPS) and
// returns a client whose TLS settings come from tlsConf.
func NewClient(baseURL string, tlsConf *tls.Config) (*Client, error) {
	return NewClientTLS(baseURL, ReadyTLS(tlsConf))
}

// NewClientTLS is NewClient with a configuration built when the client first connects.
func NewClientTLS(baseURL string, tlsConf *TLSConfig) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("ucm: bad unit url: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("ucm: unit url %q must be https://host[:port]", baseURL)
	}
	u.Path = "/api"
	u.RawQuery, u.Fragment = "", ""
	return &Client{endpoint: u.String(), conns: newConns(u, tlsConf)}, nil
}

// NewClientWithHTTP is for tests that route requests through an in-process transport (for
// example inside a testing/synctest bubble, where real sockets would stall the fake clock).
func NewClientWithHTTP(baseURL string, hc *http.Client) *Client {
	return &Client{endpoint: strings.TrimSuffix(baseURL, "/") + "/api", hc: hc}
}

// CloseIdle drops pooled connections, for shutdown.
func (c *Client) CloseIdle() {
	if c.conns != nil {
		c.conns.closeIdle()
		return
	}
	c.hc.CloseIdleConnections()
}

// envelope is the reply shape: {"response":{…},"status":N}.
type envelope struct {
	Response json.RawMessage `json:"response"`
	Status   *Int            `json:"status"`
}

// Call sends one action with the given cookie ("" for challenge/login) and returns the reply's
// `response` object when the status is 0. Parameters are sent flat beside action and cookie, as
// the UCM expects; values should already be in the UCM's wire form (usually strings).
func (c *Client) Call(ctx context.Context, action, cookie string, params map[string]any) (json.RawMessage, error) {
	resp, err := c.do(ctx, action, cookie, params)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readReply(resp)
	if err != nil {
		return nil, transportErr(ctx, action, err, false) // the unit was answering: it got the request
	}
	raw, err := decodeReply(action, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	if err != nil && ctx.Err() != nil {
		// A reply that is not the API and arrives as the caller gives up is the connection being
		// torn down, not the unit's answer.
		return nil, transportErr(ctx, action, ctx.Err(), false)
	}
	return raw, err
}

// decodeReply turns a whole reply into the response object or a typed error. It is the one
// place where untrusted bytes from a unit are interpreted (fuzzed by FuzzDecodeReply): whatever
// they are, the answer is a JSON value, an *Error or a *NotJSONError.
func decodeReply(action string, httpStatus int, contentType string, body []byte) (json.RawMessage, error) {
	if len(body) > maxReplyBytes {
		return nil, &NotJSONError{Action: action, HTTPStatus: httpStatus, ContentType: "oversized reply"}
	}
	if !looksLikeJSON(contentType, body) {
		return nil, &NotJSONError{Action: action, HTTPStatus: httpStatus, ContentType: contentType, Title: htmlTitle(body)}
	}
	return decodeEnvelope(action, body)
}

// Open sends an action and returns the raw HTTP reply for actions that do not answer with the
// envelope (recapi streams audio, cdrapi answers bare JSON). The caller closes the body.
func (c *Client) Open(ctx context.Context, action, cookie string, params map[string]any) (*http.Response, error) {
	return c.do(ctx, action, cookie, params)
}

func (c *Client) do(ctx context.Context, action, cookie string, params map[string]any) (*http.Response, error) {
	payload, err := encodeRequest(action, cookie, params)
	if err != nil {
		return nil, fmt.Errorf("ucm: %s: encode request: %w", action, err)
	}
	if c.conns != nil {
		resp, notSent, err := c.conns.exchange(ctx, payload)
		if err != nil {
			return nil, transportErr(ctx, action, err, notSent)
		}
		return resp, nil
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("ucm: %s: %w", action, err)
	}
	hreq.Header.Set("Content-Type", "application/json;charset=UTF-8")
	hreq.Header.Set("Accept", "application/json")
	var sent sendTrace
	resp, err := c.hc.Do(hreq.WithContext(sent.attach(ctx)))
	if err != nil {
		return nil, transportErr(ctx, action, err, sent.notSent())
	}
	return resp, nil
}

// transportErr classifies a failed exchange. A caller's own cancellation stays context.Canceled so
// upstream code does not count the unit as down because a client hung up. A TLS failure becomes
// a *TLSError, which says what the operator can do about it.
func transportErr(ctx context.Context, action string, err error, notSent bool) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("ucm: %s: %w", action, context.Canceled)
	}
	if te := tlsFailure(action, err); te != nil {
		return te
	}
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	return &TransportError{Action: action, Timeout: timeout, NotSent: notSent, Err: stripURL(err)}
}

// stripURL removes net/http's "Post \"https://…\": " prefix: the unit's address is already known
// to whoever reads the error, and the message stays short.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func decodeEnvelope(action string, body []byte) (json.RawMessage, error) {
	var env envelope
	// segmentio's decoder checks the syntax as encoding/json does, but leaves the response in
	// place in body (which is this call's own) instead of copying it: every read passes here.
	if err := unmarshalEnvelope(body, &env); err != nil || env.Status == nil || !env.Status.Valid {
		return nil, &NotJSONError{Action: action, HTTPStatus: http.StatusOK, ContentType: "JSON without the response/status envelope"}
	}
	status := Status(env.Status.Value)
	if status == StatusOK {
		if len(env.Response) == 0 || string(env.Response) == "null" {
			return json.RawMessage(`{}`), nil
		}
		return env.Response, nil
	}
	e := &Error{Status: status, Action: action}
	var detail struct {
		ErrorMsg   string `json:"error_msg"`
		RemainNum  *Int   `json:"remain_num"`
		RemainTime *Int   `json:"remain_time"`
	}
	if json.Unmarshal(env.Response, &detail) == nil {
		e.Message = detail.ErrorMsg
		e.RemainNum = detail.RemainNum.IntPtr()
		e.RemainTime = detail.RemainTime.IntPtr()
	}
	return nil, e
}

func looksLikeJSON(contentType string, body []byte) bool {
	if !labelledJSON(contentType) {
		// Parsed only when the label is not the usual one: mime.ParseMediaType builds a map of
		// the parameters, a read's only allocation here.
		mt, _, _ := mime.ParseMediaType(contentType)
		if strings.HasPrefix(mt, "text/html") || strings.HasPrefix(mt, "audio/") {
			return false
		}
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// labelledJSON is true for "application/json", alone or with parameters, in any case: a label
// that mime.ParseMediaType reads as application/json (or, with bad parameters, as nothing),
// never as HTML or audio.
func labelledJSON(contentType string) bool {
	const mt = "application/json"
	if len(contentType) < len(mt) || !strings.EqualFold(contentType[:len(mt)], mt) {
		return false
	}
	rest := contentType[len(mt):]
	return rest == "" || rest[0] == ';'
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

func htmlTitle(body []byte) string {
	m := titleRE.FindSubmatch(body)
	if m == nil {
		return ""
	}
	t := strings.Join(strings.Fields(string(m[1])), " ")
	if len(t) > 80 {
		t = t[:80]
	}
	return t
}

func unmarshalEnvelope(body []byte, env *envelope) error {
	rest, err := fastjson.Parse(body, env, fastjson.DontCopyRawMessage)
	if err == nil && len(bytes.TrimSpace(rest)) > 0 {
		return errors.New("trailing data after the JSON value")
	}
	return err
}

// readReply reads a whole reply, at most maxReplyBytes+1 of it. With a Content-Length it reads
// into a buffer of that size; without one (a chunked reply) into a pooled buffer, then copies
// it out at its size: io.ReadAll's doubling from 512 bytes allocated and copied a chunked
// getSIPAccount reply four times over, 7.5 KB of garbage per read.
func readReply(resp *http.Response) ([]byte, error) {
	body := io.LimitReader(resp.Body, maxReplyBytes+1)
	if n := resp.ContentLength; n > 0 && n <= maxReplyBytes {
		buf := bytes.NewBuffer(make([]byte, 0, int(n)+bytes.MinRead))
		_, err := buf.ReadFrom(body)
		return buf.Bytes(), err
	}
	buf := replyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(body)
	out := bytes.Clone(buf.Bytes())
	if buf.Cap() <= maxPooledReply {
		replyBuffers.Put(buf)
	}
	return out, err
}

// replyBuffers are readReply's buffers for replies of unknown length; one that grew past
// maxPooledReply (a big list) is left to the collector rather than kept.
var replyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledReply = 64 << 10

// encodeRequest writes {"request":{…}}: the parameters, then action and cookie, which a
// parameter can never override, keys sorted, the bytes encoding/json writes for the same map.
// Written by hand rather than as a map through an encoder: a profile of a read put 4% of the
// gateway's CPU in building and sorting that map by reflection.
func encodeRequest(action, cookie string, params map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(params)+2)
	for k := range params {
		if k != "action" && k != "cookie" {
			keys = append(keys, k)
		}
	}
	keys = append(keys, "action")
	if cookie != "" {
		keys = append(keys, "cookie")
	}
	slices.Sort(keys)
	b := make([]byte, 0, 128)
	b = append(b, `{"request":{`...)
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = fastjson.AppendEscape(b, k, fastjson.EscapeHTML)
		b = append(b, ':')
		switch k {
		case "action":
			b = fastjson.AppendEscape(b, action, fastjson.EscapeHTML)
		case "cookie":
			b = fastjson.AppendEscape(b, cookie, fastjson.EscapeHTML)
		default:
			if str, ok := params[k].(string); ok {
				b = fastjson.AppendEscape(b, str, fastjson.EscapeHTML)
			} else if b, err = fastjson.Append(b, params[k], fastjson.EscapeHTML|fastjson.SortMapKeys); err != nil {
				return nil, err
			}
		}
	}
	return append(b, "}}"...), nil
}
