package sessionpool

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// Open sends an action whose successful reply is not the envelope (cdrapi's bare JSON, recapi's
// audio) over the unit's shared session, with the same protections as Do: admission (the pause,
// the breaker, a slot), the request deadline up to the reply's headers, one re-login and retry
// when the unit answers -6 (which it still does with the envelope), and one more try after a
// transport failure (these are reads). The reply's body may stream: the slot stays taken until
// the caller closes it, so downloads count against the unit's in-flight bound. Open is never
// coalesced.
func (p *Pool) Open(ctx context.Context, unitID, action string, params map[string]any) (*http.Response, error) {
	u, ok := p.set.Load().units[unitID]
	if !ok {
		return nil, ErrUnknownUnit
	}
	u.touch()
	resp, err := u.open(ctx, action, params)
	u.countRefusal(err)
	return resp, err
}

func (u *unit) open(ctx context.Context, action string, params map[string]any) (*http.Response, error) {
	// The deadline covers everything up to the reply's headers; the stream that follows is the
	// client's to read at its pace (its own context, and the idle cut-off below, govern it).
	deadline := time.Now().Add(u.requestTimeout(action))
	actx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	t, err := u.admit(actx)
	if err != nil {
		return nil, err
	}
	resp, stop, err := u.openAttempt(ctx, actx, t, deadline, action, params)
	if retryable(action, err) && actx.Err() == nil && u.breaker.closed() {
		resp, stop, err = u.openAttempt(ctx, actx, t, deadline, action, params)
	}
	if err != nil {
		t.release()
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
			t.release()
		})
	}}
	return resp, nil
}

// openAttempt is the session and one Open, with the single re-login and retry after a -6 or -5.
// The session is waited for under actx (the deadline); the request itself runs under ctx.
func (u *unit) openAttempt(ctx, actx context.Context, t *ticket, deadline time.Time, action string, params map[string]any) (*http.Response, context.CancelFunc, error) {
	cookie, err := u.session(actx)
	if err != nil {
		return nil, nil, err
	}
	resp, stop, err := u.openOnce(ctx, t, deadline, action, cookie, params)
	if errors.Is(err, ucm.StatusCookie) || errors.Is(err, ucm.StatusNeedAuth) {
		u.invalidate(cookie)
		if cookie, err = u.session(actx); err != nil {
			return nil, nil, err
		}
		resp, stop, err = u.openOnce(ctx, t, deadline, action, cookie, params)
	}
	return resp, stop, err
}

// openOnce sends the action; the deadline covers the reply's headers (and a JSON body, which is
// read at once), not the streaming of audio, which the client's own context governs. stop ends
// the request's context once the body has been read.
func (u *unit) openOnce(ctx context.Context, t *ticket, deadline time.Time, action, cookie string, params map[string]any) (*http.Response, context.CancelFunc, error) {
	cctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(min(u.callTimeout(action), time.Until(deadline)), cancel)
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
	t.report(err)
	u.notePause(err)
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
