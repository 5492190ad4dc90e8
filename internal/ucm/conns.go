package ucm

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// conns is a client's own HTTP/1.1 connection pool to its one unit, in place of net/http's
// Transport. Every exchange the gateway has with a unit is one shape (a POST of a few hundred
// bytes to /api, one reply), so the pool does only that, and does it in the caller's goroutine:
// the request is written and the reply read by whoever asked, and an idle connection is a TLS
// connection and a timer, nothing more.
//
// net/http's Transport keeps two goroutines per pooled connection (a read loop and a write
// loop) with their stacks and buffers, and hands every request and reply between them and the
// caller over channels. With thousands of units that pair was most of what an active unit
// retained, and each hand-off is a goroutine woken (perf on the binary under load spends a
// large share of the gateway's CPU in scheduler wake-ups and futex calls). The parsing is still
// net/http's: http.ReadResponse reads the reply (Content-Length, chunked, Connection: close,
// HTTP/1.0) as the Transport does, and a reply's headers are bounded as its
// MaxResponseHeaderBytes bounds them.
//
// What the read loop also did, noticing that the unit closed an idle connection, is done when a
// connection is taken: a non-blocking peek at the socket (alive) finds a closed or half-closed
// connection before a request is written to it. A unit that closes the connection just as a
// request leaves can still lose it, as with net/http: the exchange then fails as sent (outcome
// unknown), and only a read is retried.
type conns struct {
	addr, host string        // what to dial (host:port) and the Host header
	serverName string        // the name the unit's certificate is checked for, unless tlsConf says
	tlsConf    *TLSConfig    // shared, never changed: each connection gets a copy
	idleFor    time.Duration // IdleConnTimeout; shorter in tests

	mu   sync.Mutex
	idle []*pconn // most recently used last
}

// maxIdleConns bounds the idle connections kept to one unit (net/http's MaxIdleConnsPerHost
// was 16 here too); any more are closed as they come back.
const maxIdleConns = 16

// dialTimeout and handshakeTimeout bound connecting, within the caller's own deadline.
const (
	dialTimeout      = 5 * time.Second
	handshakeTimeout = 5 * time.Second
)

// newConns is the pool for the unit at u (an https URL), with u.Host as the Host header, as
// net/http sends it. With thousands of units configured and most of them idle, it holds little:
// the TLS configuration is built at the first connection and copied for each (as net/http
// copies it).
func newConns(u *url.URL, tlsConf *TLSConfig) *conns {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return &conns{
		addr: net.JoinHostPort(u.Hostname(), port), host: u.Host, serverName: u.Hostname(),
		tlsConf: tlsConf, idleFor: IdleConnTimeout,
	}
}

// dialer is every unit's: units sit on LANs, so neither a proxy nor a per-unit setting applies.
var dialer = net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}

// pconn is one connection to the unit. While idle it holds no buffer: the reader comes from a
// pool for the length of an exchange.
type pconn struct {
	c     *conns
	tc    *tls.Conn
	br    *bufio.Reader
	timer *time.Timer // closes the connection once it has been idle for IdleConnTimeout
	idle  bool        // in c.idle; guarded by c.mu
	since time.Time   // when it last went idle; guarded by c.mu
	left  int64       // bytes the reader may still take from tc (a reply's head is bounded)
}

// maxReplyHeadBytes bounds a reply's status line and headers, as net/http's Transport does
// (MaxResponseHeaderBytes): a unit that sends headers without end fails the exchange instead of
// filling memory until its deadline.
const maxReplyHeadBytes = 1 << 20

var errReplyHeadTooLong = errors.New("the unit's reply headers are over 1 MB")

// Read is the connection as the reply's reader sees it: at most left more bytes.
func (pc *pconn) Read(p []byte) (int, error) {
	if pc.left <= 0 {
		return 0, errReplyHeadTooLong
	}
	if int64(len(p)) > pc.left {
		p = p[:pc.left]
	}
	n, err := pc.tc.Read(p)
	pc.left -= int64(n)
	return n, err
}

// readers are the connections' reply buffers, taken for one exchange each. 2 KB: crypto/tls
// already holds each whole record it decrypts, so a bigger buffer only copies in bigger pieces.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 2<<10) }}

// requests are the buffers a request's head and body are written from, in one TLS record.
var requests = sync.Pool{New: func() any { b := make([]byte, 0, 1<<10); return &b }}

// aLongTimeAgo is a deadline that has passed: setting it stops any read or write in progress.
var aLongTimeAgo = time.Unix(1, 0)

// exchange sends payload as the body of POST /api and returns the reply, whose body is read from
// the connection: reading it to the end puts the connection back in the pool, closing it sooner
// closes the connection. notSent is true when the failure certainly happened before the whole
// request was written (no connection, or the write itself failed).
func (c *conns) exchange(ctx context.Context, payload []byte) (resp *http.Response, notSent bool, err error) {
	pc, err := c.get(ctx)
	if err != nil {
		return nil, true, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = pc.tc.SetDeadline(d)
	}
	// A caller that gives up stops the exchange where it is; the connection is then closed, as
	// the reply's bytes may be half read. context.AfterFunc starts no goroutine unless ctx ends.
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = pc.tc.SetDeadline(aLongTimeAgo) })
	}
	bp := requests.Get().(*[]byte)
	req := appendRequestHead((*bp)[:0], c.host, len(payload))
	req = append(req, payload...)
	_, err = pc.tc.Write(req)
	*bp = req
	if cap(req) <= 16<<10 {
		requests.Put(bp)
	}
	if err != nil {
		stop()
		pc.close()
		return nil, true, ctxErr(ctx, err)
	}
	pc.br = readers.Get().(*bufio.Reader)
	pc.br.Reset(pc)
	pc.left = maxReplyHeadBytes
	for {
		resp, err = http.ReadResponse(pc.br, nil)
		if err != nil || resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// An interim 1xx reply (not asked for, but allowed): the real one follows.
	}
	pc.left = math.MaxInt64 // the body's bounds are its reader's business (readReply's, a stream's)
	if err != nil {
		stop()
		pc.close()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the unit closed the connection without answering")
		}
		return nil, false, ctxErr(ctx, err)
	}
	body := &connBody{pc: pc, body: resp.Body, stop: stop, reuse: !resp.Close}
	if resp.Body == http.NoBody {
		body.finish(true)
		return resp, false, nil
	}
	resp.Body = body
	return resp, false, nil
}

// ctxErr prefers the caller's reason for a failure its own deadline or cancellation caused:
// the connection only reports that its deadline passed.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return ctx.Err()
		}
	}
	return err
}

// appendRequestHead writes the request line and headers of a POST /api carrying n bytes of JSON.
func appendRequestHead(b []byte, host string, n int) []byte {
	b = append(b, "POST /api HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nUser-Agent: Go-http-client/1.1\r\nContent-Type: application/json;charset=UTF-8\r\nAccept: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "\r\n\r\n"...)
}

// get takes the most recently used idle connection that is still open, or dials a new one.
func (c *conns) get(ctx context.Context) (*pconn, error) {
	for {
		c.mu.Lock()
		n := len(c.idle)
		if n == 0 {
			c.mu.Unlock()
			return c.dial(ctx)
		}
		pc := c.idle[n-1]
		c.idle[n-1] = nil
		c.idle = c.idle[:n-1]
		pc.idle = false
		c.mu.Unlock()
		pc.timer.Stop() // if it has already fired, it finds pc no longer idle and leaves it
		if alive(pc.tc.NetConn()) {
			return pc, nil
		}
		_ = pc.tc.Close()
	}
}

func (c *conns) dial(ctx context.Context) (*pconn, error) {
	raw, err := dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	conf := c.tlsConf.Get().Clone()
	if conf == nil {
		conf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if conf.ServerName == "" {
		conf.ServerName = c.serverName // net/http does the same
	}
	tc := tls.Client(raw, conf)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err = tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	pc := &pconn{c: c, tc: tc}
	pc.timer = time.AfterFunc(time.Hour, pc.expire)
	pc.timer.Stop()
	return pc, nil
}

// put returns a connection whose exchange ended cleanly to the pool.
func (c *conns) put(pc *pconn) {
	c.mu.Lock()
	if len(c.idle) >= maxIdleConns {
		c.mu.Unlock()
		pc.close()
		return
	}
	pc.idle, pc.since = true, time.Now()
	c.idle = append(c.idle, pc)
	pc.timer.Reset(c.idleFor)
	c.mu.Unlock()
}

// expire closes pc if it is still idle, and has been for idleFor, when its timer fires. (A
// timer that fired as the connection was taken may run after it came back: it leaves it to the
// timer put reset.)
func (pc *pconn) expire() {
	c := pc.c
	c.mu.Lock()
	if !pc.idle || time.Since(pc.since) < c.idleFor {
		c.mu.Unlock()
		return
	}
	for i, p := range c.idle {
		if p == pc {
			c.idle = append(c.idle[:i], c.idle[i+1:]...)
			c.idle[len(c.idle):cap(c.idle)][0] = nil
			break
		}
	}
	pc.idle = false
	c.mu.Unlock()
	_ = pc.tc.Close()
}

// closeIdle closes every idle connection; connections in use finish their exchange.
func (c *conns) closeIdle() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	for _, pc := range idle {
		pc.idle = false
	}
	c.mu.Unlock()
	for _, pc := range idle {
		pc.timer.Stop()
		_ = pc.tc.Close()
	}
}

func (pc *pconn) close() {
	pc.releaseReader()
	_ = pc.tc.Close()
}

func (pc *pconn) releaseReader() {
	if pc.br != nil {
		pc.br.Reset(nil)
		readers.Put(pc.br)
		pc.br = nil
	}
}

// connBody is a reply's body read from its connection. The connection goes back to the pool
// when the body has been read to its end, closes when the body is closed before that.
type connBody struct {
	pc    *pconn
	body  io.ReadCloser
	stop  func() bool
	reuse bool // the unit did not ask to close the connection
	done  bool
}

func (b *connBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *connBody) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

// finish ends the exchange: the connection is reused only if the whole reply was read, nothing
// is left in the buffer after it, the unit did not ask to close, and the caller's context did
// not stop the exchange (its deadline trick leaves the connection's state unknown).
func (b *connBody) finish(whole bool) {
	b.done = true
	pc := b.pc
	ok := b.stop() && whole && b.reuse && pc.br.Buffered() == 0
	if !ok {
		pc.close()
		return
	}
	pc.releaseReader()
	if pc.tc.SetDeadline(time.Time{}) != nil {
		_ = pc.tc.Close()
		return
	}
	pc.c.put(pc)
}
