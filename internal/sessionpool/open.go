package sessionpool

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// Open sends an action whose successful reply is not the envelope (cdrapi's bare JSON, recapi's
// audio) over the unit's shared session, with the same protections as Do: a slot, the breaker,
// the deadline, and one re-login and retry when the unit answers -6 (which it still does with the
// envelope). The reply's body may stream: the slot stays taken until the caller closes it, so
// downloads count against the unit's in-flight bound. Open is never coalesced.
func (p *Pool) Open(ctx context.Context, unitID, action string, params map[string]any) (*http.Response, error) {
	u, ok := p.units[unitID]
	if !ok {
		return nil, ErrUnknownUnit
	}
	u.touch()
	return u.open(ctx, action, params)
}

func (u *unit) open(ctx context.Context, action string, params map[string]any) (*http.Response, error) {
	if err := u.acquire(ctx); err != nil {
		return nil, err
	}
	var resp *http.Response
	var stop context.CancelFunc
	_, err := u.breaker.Execute(func() (json.RawMessage, error) {
		cookie, err := u.session(ctx)
		if err != nil {
			return nil, err
		}
		resp, stop, err = u.openOnce(ctx, action, cookie, params)
		if errors.Is(err, ucm.StatusCookie) || errors.Is(err, ucm.StatusNeedAuth) {
			u.invalidate(cookie)
			if cookie, err = u.session(ctx); err != nil {
				return nil, err
			}
			resp, stop, err = u.openOnce(ctx, action, cookie, params)
		}
		return nil, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		err = &UnavailableError{Unit: u.cfg.ID, Reason: "circuit breaker open after repeated failures to reach the unit", RetryAfter: u.opts.BreakerOpen}
	}
	if err != nil {
		u.release()
		return nil, err
	}
	// A stream that stalls for a whole request timeout ends, so a unit that stops sending (or a
	// client that stops reading) cannot hold one of the unit's slots for minutes.
	idle := time.AfterFunc(u.opts.RequestTimeout, stop)
	var once sync.Once
	resp.Body = &releasingBody{ReadCloser: resp.Body, idle: idle, idleFor: u.opts.RequestTimeout, done: func() {
		once.Do(func() {
			idle.Stop()
			stop()
			u.release()
		})
	}}
	return resp, nil
}

// openOnce sends the action; the deadline covers the reply's headers (and a JSON body, which is
// read at once), not the streaming of audio, which the client's own context governs. stop ends
// the request's context once the body has been read.
func (u *unit) openOnce(ctx context.Context, action, cookie string, params map[string]any) (*http.Response, context.CancelFunc, error) {
	cctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(u.timeout(action), cancel)
	start := time.Now()
	resp, err := u.cfg.Client.Open(cctx, action, cookie, params)
	if err == nil {
		resp, err = ucm.CheckRaw(action, resp)
	}
	if !timer.Stop() && err == nil {
		resp.Body.Close()
		err = &ucm.TransportError{Action: action, Timeout: true, Err: context.DeadlineExceeded}
	}
	if err != nil && cctx.Err() != nil && ctx.Err() == nil {
		err = &ucm.TransportError{Action: action, Timeout: true, Err: context.DeadlineExceeded}
	}
	u.record(ctx, action, start, err)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	u.mu.Lock()
	if u.cookie == cookie {
		u.lastCall = time.Now()
	}
	u.mu.Unlock()
	return resp, cancel, nil
}

// releasingBody gives the unit's slot back (and ends the request) when the body is closed, and
// ends the request when no data has moved for idleFor.
type releasingBody struct {
	io.ReadCloser
	done    func()
	idle    *time.Timer
	idleFor time.Duration
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.idle.Reset(b.idleFor)
	}
	return n, err
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}
