package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/go-chi/httplog/v3"

	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// Problem is an RFC 9457 problem document with the gateway's extension members.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	UCMStatus *int         `json:"ucm_status,omitempty"`
	Unit      string       `json:"unit,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`

	retryAfter time.Duration
}

// FieldError names one invalid part of a request: "body.max_contacts", "path.ext", "query.page_size".
type FieldError struct {
	Location string `json:"location"`
	Message  string `json:"message"`
}

// problemType builds the type URI; the slugs are documented in the README.
func problemType(slug string) string { return "urn:ucm-gateway:problem:" + slug }

// InputError is a request the gateway refuses itself, before any unit is called.
type InputError struct {
	Status int    // 400 unless set (413, 415, 405, 422…)
	Slug   string // the problem type's slug; by default derived from Status
	Detail string
	Errors []FieldError
	// RetryAfter, when set, is sent as Retry-After (a refusal that waiting cures).
	RetryAfter time.Duration
}

func (e *InputError) Error() string { return e.Detail }

// unitError attaches the unit to an error so the problem names it.
type unitError struct {
	unit string
	err  error
}

func (e *unitError) Error() string { return e.err.Error() }
func (e *unitError) Unwrap() error { return e.err }

func withUnit(unit string, err error) error {
	if err == nil {
		return nil
	}
	return &unitError{unit: unit, err: err}
}

// problemFor is the one place where errors become HTTP statuses (DESIGN.md's mapping).
func problemFor(err error) Problem {
	var (
		acc     *AccessError
		in      *InputError
		ue      *ucm.Error
		stop    *sessionpool.LoginStoppedError
		unav    *sessionpool.UnavailableError
		unknown *sessionpool.OutcomeUnknownError
		tlsE    *ucm.TLSError
		unitE   *unitError
	)
	p := Problem{}
	if errors.As(err, &unitE) {
		p.Unit = unitE.unit
	}
	switch {
	case errors.As(err, &acc):
		p.Status, p.Detail, p.retryAfter = acc.Status, acc.Detail, acc.RetryAfter
		p.Type = problemType(map[int]string{http.StatusUnauthorized: "unauthenticated", http.StatusForbidden: "forbidden", http.StatusTooManyRequests: "rate-limited"}[acc.Status])
	case errors.As(err, &in):
		status := in.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		p.Status, p.Type, p.Detail, p.Errors, p.retryAfter = status, problemType("invalid-request"), in.Detail, in.Errors, in.RetryAfter
		if status != http.StatusBadRequest {
			p.Type = problemType(slugFor(status))
		}
		if in.Slug != "" {
			p.Type = problemType(in.Slug)
		}
	case errors.Is(err, sessionpool.ErrUnknownUnit):
		p.Status, p.Type, p.Detail = http.StatusNotFound, problemType("unknown-unit"), fmt.Sprintf("no unit %q is configured in this gateway", p.Unit)
	case errors.As(err, &stop):
		p.Status, p.Type = http.StatusBadGateway, problemType("unit-login-stopped")
		p.Detail = "the unit refused the gateway's own credentials, so the gateway stopped logging in to protect the unit's remaining login attempts; an operator must fix the configuration and reset the unit (POST /v1/units/{unit}/reset)"
		if s, ok := ucm.StatusOf(stop.Cause); ok {
			p.UCMStatus = ptr(int(s))
		}
	case errors.As(err, &unknown):
		p.Status, p.Type = http.StatusGatewayTimeout, problemType("unit-write-outcome-unknown")
		p.Detail = "the unit received the request but its answer was lost, so the change may or may not have been made; the gateway did not retry it: read the resource before you retry"
	case errors.As(err, &tlsE):
		// Before the refusals: while TLS to the unit is broken, every answer says so, because
		// waiting does not cure it.
		p.Status, p.Type = http.StatusBadGateway, problemType("unit-tls-error")
		p.Detail = "the gateway could not set up TLS with the unit: " + tlsE.Reason + "; the gateway's log names the certificate the unit presented"
	case errors.As(err, &unav):
		p = unavailableProblem(p, unav)
	case errors.As(err, &ue):
		p = ucmProblem(p, ue)
	case errors.Is(err, ucm.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		p.Status, p.Type, p.Detail = http.StatusGatewayTimeout, problemType("unit-timeout"), "the unit did not answer in time"
	case errors.Is(err, ucm.ErrTransport):
		p.Status, p.Type, p.Detail, p.retryAfter = http.StatusServiceUnavailable, problemType("unit-unreachable"), "the unit could not be reached ("+transportSummary(err)+")", 5*time.Second
	case errors.Is(err, ucm.ErrNotJSON):
		p.Status, p.Type, p.Detail = http.StatusBadGateway, problemType("unit-bad-reply"), "the unit answered with something other than its JSON API (an HTML error page, for example: a blocked or blacklisted gateway IP)"
	case errors.Is(err, context.Canceled):
		p.Status, p.Type, p.Detail = 499, problemType("client-closed-request"), "the client closed the request"
	default:
		p.Status, p.Type, p.Detail = http.StatusInternalServerError, problemType("internal"), "internal error; the request id finds the details in the gateway's log"
	}
	p.Title = http.StatusText(p.Status)
	if p.Status == 499 {
		p.Title = "Client Closed Request"
	}
	return p
}

// unavailableProblem maps the pool's refusals: nothing was sent to the unit, and Retry-After says
// when trying again makes sense.
func unavailableProblem(p Problem, unav *sessionpool.UnavailableError) Problem {
	p.Status, p.Type, p.retryAfter = http.StatusServiceUnavailable, problemType("unit-unavailable"), unav.RetryAfter
	p.Detail = "the unit is unavailable: " + unav.Reason
	switch {
	case unav.Kind == sessionpool.RefusedPaused:
		// The unit's own "too frequent", kept as a pause: the same answer as the reply that
		// started it, with the time that is left.
		p.Status, p.Type = http.StatusTooManyRequests, problemType("unit-rate-limited")
		p.Detail = "the unit asked the gateway to slow down (too frequent requests); no requests are sent to it until the pause ends"
		if s, ok := ucm.StatusOf(unav.Cause); ok {
			p.UCMStatus = ptr(int(s))
		}
	case unav.Kind == sessionpool.RefusedOverloaded:
		p.Type = problemType("unit-overloaded")
		p.Detail = "every connection to the unit is busy (the unit is slow or not answering); the request was not sent"
	case unav.Kind == sessionpool.RefusedSharedState:
		p.Type = problemType("shared-state-unavailable")
		p.Detail = "the unit needs a login and the gateway's shared state (Redis) is unavailable; replicas do not log in on their own, so that they cannot spend the unit's login attempts"
	case unav.Kind == sessionpool.RefusedBackingOff && errors.Is(unav.Cause, ucm.ErrTransport):
		p.Type = problemType("unit-unreachable")
		p.Detail = "the unit could not be reached (" + transportSummary(unav.Cause) + "); the gateway tries again after the back-off"
	}
	return p
}

// transportSummary names a transport failure without the unit's address or internals.
func transportSummary(err error) string {
	switch {
	case errors.Is(err, ucm.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "it did not answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	}
	return "no connection"
}

// ucmProblem maps a UCM status code. 4xx when the request itself is the problem, 502 when the
// gateway's own credentials or the unit failed, 409/429 with Retry-After when waiting helps.
func ucmProblem(p Problem, e *ucm.Error) Problem {
	p.UCMStatus = ptr(int(e.Status))
	p.Detail = fmt.Sprintf("the unit refused %s: %s", e.Action, e.Status.Text())
	if e.Message != "" {
		p.Detail += " (" + e.Message + ")"
	}
	set := func(status int, slug string, retry time.Duration) {
		p.Status, p.Type, p.retryAfter = status, problemType(slug), retry
	}
	switch e.Status {
	case ucm.StatusInvalidParams:
		set(http.StatusBadRequest, "ucm-invalid-parameters", 0)
	case ucm.StatusInvalidValue, ucm.StatusSensitiveChars:
		set(http.StatusUnprocessableEntity, "ucm-invalid-value", 0)
	case ucm.StatusNoSuchItem:
		set(http.StatusNotFound, "not-found", 0)
	case ucm.StatusAlreadyExists:
		set(http.StatusConflict, "already-exists", 0)
	case ucm.StatusDataChanged:
		set(http.StatusConflict, "changed-since-read", 0)
	case ucm.StatusTooFrequent, ucm.StatusTooFrequent2:
		set(http.StatusTooManyRequests, "unit-rate-limited", 15*time.Second)
	case ucm.StatusTooFrequentLong:
		set(http.StatusTooManyRequests, "unit-rate-limited", 60*time.Second)
	case ucm.StatusTaskRunning:
		set(http.StatusConflict, "unit-busy", 5*time.Second)
	case ucm.StatusConferenceActive, ucm.StatusConferenceBusy, ucm.StatusDigitalCallsActive:
		set(http.StatusConflict, "unit-busy", 30*time.Second)
	case ucm.StatusSystemTimeout:
		set(http.StatusGatewayTimeout, "unit-timeout", 0)
	case ucm.StatusUnsupported:
		set(http.StatusNotImplemented, "unsupported-by-unit", 0)
	case ucm.StatusWrongCredentials, ucm.StatusNoPermission, ucm.StatusLoginRestricted,
		ucm.StatusLoginForbidden, ucm.StatusNoSuchUser, ucm.StatusNeedAuth, ucm.StatusCookie:
		set(http.StatusBadGateway, "unit-refused-gateway", 0)
	default: // -7, -9, -24..-26 and anything undocumented
		set(http.StatusBadGateway, "unit-error", 0)
	}
	return p
}

func slugFor(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "body-too-large"
	case http.StatusUnsupportedMediaType:
		return "unsupported-media-type"
	case http.StatusMethodNotAllowed:
		return "method-not-allowed"
	case http.StatusNotFound:
		return "not-found"
	case http.StatusUnprocessableEntity:
		return "unprocessable"
	case http.StatusConflict:
		return "conflict"
	}
	return "invalid-request"
}

// writeProblem answers with a problem document; internal errors go to the log in full and to the
// client only as "internal error" with the request id.
func writeProblem(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	p := problemFor(err)
	if p.Unit == "" {
		p.Unit = unitFromPath(r)
	}
	p.RequestID = RequestIDFrom(r.Context())
	p.Instance = r.URL.Path
	httplog.SetError(r.Context(), err)
	if p.UCMStatus != nil {
		httplog.SetAttrs(r.Context(), slog.Int("ucm_status", *p.UCMStatus))
	}
	// Upstream failures are already on the request's log line (httplog logs 5xx at error level
	// with the cause); only our own bugs deserve a line of their own.
	if p.Status == http.StatusInternalServerError {
		logger.ErrorContext(r.Context(), "internal error", "request_id", p.RequestID, "err", err)
	}
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(p.retryAfter.Seconds()))))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func ptr[T any](v T) *T { return &v }
