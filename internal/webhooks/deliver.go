package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
)

// send delivers the queue in order, one request at a time. It waits only on its own receiver:
// intake goes on in pump while it waits.
func (e *endpoint) send(ctx context.Context) {
	for ctx.Err() == nil {
		it, stop := e.take()
		if stop {
			return
		}
		if it == nil {
			select {
			case <-ctx.Done():
			case <-e.arrived:
			}
			continue
		}
		res := e.attempt(ctx, it)
		if ctx.Err() != nil {
			return // shutting down: the receiver is not to blame, and the event stays queued
		}
		wait, stop := e.settle(it, res)
		if stop {
			return
		}
		if wait > 0 && !e.sleep(ctx, wait) {
			return
		}
	}
}

// take returns the event to deliver next (nil when there is none, or the endpoint is suspended),
// and stop once draining has nothing more it may send.
func (e *endpoint) take() (it *item, stop bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.suspended {
		return nil, e.draining
	}
	if e.current == nil {
		e.current = e.nextLocked()
	}
	return e.current, e.current == nil && e.draining
}

// nextLocked picks a sync for a unit whose events were dropped, before anything queued after
// them; otherwise the oldest queued event.
func (e *endpoint) nextLocked() *item {
	for _, u := range e.cfg.Units {
		if last, ok := e.missed[u]; ok {
			delete(e.missed, u)
			ev := droppedSync(u, last, time.Now())
			return &item{ev: ev, id: MessageID(ev)}
		}
	}
	if it, ok := e.queue.pop(); ok {
		return &it
	}
	return nil
}

// droppedSync tells a receiver that its queue overflowed: it must re-read the unit's state. Like
// the hub's own sync, it carries the id of the newest event it stands for (the last one dropped).
func droppedSync(unit string, lastDropped int64, now time.Time) events.Event {
	data, _ := json.Marshal(map[string]string{"reason": "events were dropped because this webhook's queue was full (the receiver was failing or suspended): re-read state, then follow the events"})
	ev := events.Event{ID: lastDropped, Type: events.TypeSync, Unit: unit, Time: now.UTC().Truncate(time.Millisecond), Data: data}
	ev.JSON, _ = json.Marshal(ev)
	return ev
}

// result is what one attempt came to.
type result struct {
	start time.Time
	err   string // "" when delivered
	gone  bool   // 410: the receiver asked not to be sent more
}

// attempt POSTs the event once, signed afresh (receivers reject old timestamps), within the
// endpoint's timeout.
func (e *endpoint) attempt(ctx context.Context, it *item) result {
	start := time.Now()
	e.mu.Lock()
	if it.firstTry.IsZero() {
		it.firstTry = start
	}
	it.attempts++
	e.mu.Unlock()

	actx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, e.cfg.URL, bytes.NewReader(it.ev.JSON))
	if err != nil {
		return result{start: start, err: "the request could not be built"} // the URL was checked at start; never quote it
	}
	ts := start.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", e.ua)
	req.Header.Set("webhook-id", it.id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", signature(e.cfg.Secret, it.id, ts, it.ev.JSON))
	resp, err := e.client.Do(req)
	if err == nil {
		// Read a little of the answer so the connection can be reused; its content is the
		// receiver's business and never logged.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
	e.metrics.WebhookLatency.WithLabelValues(e.cfg.Name).Observe(time.Since(start).Seconds())
	res := result{start: start}
	switch {
	case err != nil && errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		res.err = fmt.Sprintf("no answer within %s", e.cfg.Timeout)
	case err != nil:
		res.err = transportError(err)
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode == http.StatusGone:
		res.err, res.gone = "answered 410 Gone: the receiver asked to be sent nothing more", true
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.err = fmt.Sprintf("answered %d %s (redirects are not followed: configure the new URL)", resp.StatusCode, http.StatusText(resp.StatusCode))
	default:
		res.err = fmt.Sprintf("answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return res
}

// transportError describes a failed request without its URL, whose user info or query may hold
// the receiver's token (url.Error quotes the query).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

// settle records an attempt's outcome and says how long to wait before the next one (0: go on
// at once), and stop when draining should end here.
func (e *endpoint) settle(it *item, res result) (wait time.Duration, stop bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.setDepth()
	now := time.Now()
	name := e.cfg.Name
	if res.err == "" {
		e.metrics.WebhookDeliveries.WithLabelValues(name, outcomeDelivered).Inc()
		e.delivered++
		e.lastSuccessAt = now
		if e.consecutiveFailures > 0 {
			e.logger.Info("webhook delivering again", "webhook", name, "failed_attempts", e.consecutiveFailures)
		}
		e.consecutiveFailures, e.failingSince = 0, time.Time{}
		e.current = nil
		it.done()
		return 0, false
	}

	e.metrics.WebhookDeliveries.WithLabelValues(name, outcomeFailed).Inc()
	e.lastError, e.lastFailureAt = res.err, now
	e.consecutiveFailures++
	if e.failingSince.IsZero() {
		e.failingSince = res.start
		e.logger.Warn("webhook delivery failing", "webhook", name, "url", e.shownURL, "webhook_id", it.id, "error", res.err)
	} else {
		e.logger.Debug("webhook delivery failed", "webhook", name, "webhook_id", it.id, "attempt", it.attempts, "error", res.err)
	}
	if e.draining {
		return 0, true
	}
	if res.gone || e.consecutiveFailures >= e.cfg.SuspendAfterFailures || now.Sub(e.failingSince) >= e.cfg.SuspendAfter {
		e.suspended, e.suspendedAt = true, now
		e.suspends++
		e.metrics.WebhookSuspended.WithLabelValues(name).Set(1)
		e.logger.Warn("webhook suspended after repeated failure: events are queued until an operator resumes it (POST /v1/webhooks/{name}/resume)",
			"webhook", name, "url", e.shownURL, "error", res.err, "consecutive_failures", e.consecutiveFailures,
			"failing_for", now.Sub(e.failingSince).Round(time.Second).String(), "queued", e.depthLocked())
		return 0, false
	}
	delay := e.jitter(e.backoffFor(e.consecutiveFailures))
	deadline := it.firstTry.Add(e.cfg.RetryFor)
	if !now.Before(deadline) {
		e.metrics.WebhookDeliveries.WithLabelValues(name, outcomeGaveUp).Inc()
		e.gaveUp++
		e.logger.Warn("webhook gave up on an event: retried for retry_for without success", "webhook", name,
			"webhook_id", it.id, "type", it.ev.Type, "attempts", it.attempts, "error", res.err)
		e.current = nil
		it.done()
		return delay, false
	}
	// The last attempt falls on the deadline rather than being skipped because a wait overshoots it.
	return min(delay, deadline.Sub(now)), false
}

// backoffFor is the wait after the nth failure in a row: Initial, doubling, at most Max.
func (e *endpoint) backoffFor(n int) time.Duration {
	d := e.backoff.Initial
	for i := 1; i < n && d < e.backoff.Max; i++ {
		d *= 2
	}
	return min(d, e.backoff.Max)
}

// sleep waits out a back-off, or less if an operator resumes; it reports false when the service
// is closing, which does not wait for a failing receiver.
func (e *endpoint) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-e.closing:
		return false
	case <-t.C:
	case <-e.resumed:
	}
	return true
}
