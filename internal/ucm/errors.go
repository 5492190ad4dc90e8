package ucm

import (
	"errors"
	"fmt"
)

// Status is a UCM reply status code. Every negative code the vendor documents (FACTS.md) has a
// named constant, and a Status is itself an error so callers can write
// errors.Is(err, ucm.StatusCookie) without caring how the reply was decoded.
type Status int

// The UCM's status codes, as transcribed identically by six independent clients.
const (
	StatusOK                 Status = 0
	StatusInvalidParams      Status = -1  // also "unknown action" on some firmware
	StatusNeedAuth           Status = -5  // no session: log in again
	StatusCookie             Status = -6  // missing, expired or invalid cookie
	StatusConnectionClosed   Status = -7  //
	StatusSystemTimeout      Status = -8  //
	StatusSystemError        Status = -9  //
	StatusInvalidValue       Status = -15 //
	StatusNoSuchItem         Status = -16 //
	StatusUnsupported        Status = -19 //
	StatusOperateFailed      Status = -24 //
	StatusUpdateFailed       Status = -25 //
	StatusGetFailed          Status = -26 //
	StatusWrongCredentials   Status = -37 //
	StatusDataChanged        Status = -43 // changed or deleted since read
	StatusAlreadyExists      Status = -44 //
	StatusTooFrequent        Status = -45 // retry after 15 s
	StatusTooFrequent2       Status = -46 // retry after 15 s
	StatusNoPermission       Status = -47 // privilege or whitelist
	StatusSensitiveChars     Status = -50 //
	StatusTaskRunning        Status = -51 // another task is running
	StatusTooFrequentLong    Status = -57 // retry after 60 s
	StatusLoginRestricted    Status = -68 //
	StatusConferenceActive   Status = -69 // changes cannot be applied
	StatusLoginForbidden     Status = -70 //
	StatusNoSuchUser         Status = -71 //
	StatusConferenceBusy     Status = -90 // cannot edit or delete
	StatusDigitalCallsActive Status = -98 // applying configuration failed
)

var statusText = map[Status]string{
	StatusOK:                 "success",
	StatusInvalidParams:      "invalid parameters",
	StatusNeedAuth:           "need authentication",
	StatusCookie:             "cookie error",
	StatusConnectionClosed:   "connection closed",
	StatusSystemTimeout:      "system timeout",
	StatusSystemError:        "abnormal system error",
	StatusInvalidValue:       "invalid value",
	StatusNoSuchItem:         "no such item",
	StatusUnsupported:        "unsupported",
	StatusOperateFailed:      "failed to operate data",
	StatusUpdateFailed:       "failed to update data",
	StatusGetFailed:          "failed to get data",
	StatusWrongCredentials:   "wrong account or password",
	StatusDataChanged:        "data changed or deleted since read",
	StatusAlreadyExists:      "item already added",
	StatusTooFrequent:        "too frequent",
	StatusTooFrequent2:       "too frequent",
	StatusNoPermission:       "no permission",
	StatusSensitiveChars:     "command contains sensitive characters",
	StatusTaskRunning:        "another task is running",
	StatusTooFrequentLong:    "too frequent",
	StatusLoginRestricted:    "login restriction",
	StatusConferenceActive:   "conference in progress; changes cannot be applied",
	StatusLoginForbidden:     "login forbidden",
	StatusNoSuchUser:         "username does not exist",
	StatusConferenceBusy:     "conference busy; cannot edit or delete",
	StatusDigitalCallsActive: "digital calls active; applying configuration failed",
}

// Text is the vendor's meaning of the code, or "unknown status" for codes no document lists.
func (s Status) Text() string {
	if t, ok := statusText[s]; ok {
		return t
	}
	return "unknown status"
}

// Error makes a Status usable as an errors.Is target.
func (s Status) Error() string { return fmt.Sprintf("ucm status %d (%s)", int(s), s.Text()) }

// Known reports whether the vendor documents this code.
func (s Status) Known() bool { _, ok := statusText[s]; return ok }

// Error is a reply whose status was not 0. It keeps what the UCM said so the gateway can map it to
// HTTP and an operator can read the UCM's own words.
type Error struct {
	Status  Status
	Action  string
	Message string // the UCM's response.error_msg, if any
	// RemainNum and RemainTime come with failed challenge/login replies: attempts left before the UCM
	// blacklists this client, and the length of a ban in seconds.
	RemainNum  *int
	RemainTime *int
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("ucm: %s: status %d (%s)", e.Action, int(e.Status), e.Status.Text())
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RemainNum != nil {
		msg += fmt.Sprintf(" [%d login attempts left]", *e.RemainNum)
	}
	if e.RemainTime != nil {
		msg += fmt.Sprintf(" [banned for %ds]", *e.RemainTime)
	}
	return msg
}

// Is matches a bare Status, so errors.Is(err, ucm.StatusNoSuchItem) works through any wrapping.
func (e *Error) Is(target error) bool {
	s, ok := target.(Status)
	return ok && s == e.Status
}

// StatusOf returns the UCM status carried by err, if any.
func StatusOf(err error) (Status, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Status, true
	}
	return 0, false
}

// Sentinels for failures that never produced a UCM reply. Match them with errors.Is.
var (
	// ErrTransport: the request did not complete (DNS, refused, reset, TLS failure).
	ErrTransport = errors.New("ucm: transport failure")
	// ErrTimeout: the unit did not answer within the deadline.
	ErrTimeout = errors.New("ucm: timeout")
	// ErrNotJSON: the unit answered with something other than the JSON envelope (an HTML error page
	// from a blacklisted IP, a proxy's page, audio where JSON was expected).
	ErrNotJSON = errors.New("ucm: reply is not JSON")
	// ErrTLS: the TLS handshake failed (an untrusted certificate, a pin mismatch, no common
	// cipher). It is also an ErrTransport, but one only the operator can fix.
	ErrTLS = errors.New("ucm: TLS handshake failed")
)

// TransportError says which action failed to reach the unit, whether it was a timeout, and
// whether the unit can have acted on it.
type TransportError struct {
	Action  string
	Timeout bool
	// NotSent is true when the request certainly never reached the unit whole (no connection
	// was made, or the request was not fully written), so a write did not happen. When false, a
	// write may have been done: the unit received it and its answer was lost or late.
	NotSent bool
	Err     error
}

func (e *TransportError) Error() string {
	kind := "transport failure"
	if e.Timeout {
		kind = "timeout"
	}
	return fmt.Sprintf("ucm: %s: %s: %v", e.Action, kind, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Is lets callers match ErrTransport for every transport failure and ErrTimeout for timeouts.
func (e *TransportError) Is(target error) bool {
	return target == ErrTransport || (e.Timeout && target == ErrTimeout)
}

// NotJSONError describes a reply that was not the JSON envelope, without its body (which may be
// large or binary): the HTTP status, the content type and, for HTML, the page title.
type NotJSONError struct {
	Action      string
	HTTPStatus  int
	ContentType string
	Title       string
}

func (e *NotJSONError) Error() string {
	msg := fmt.Sprintf("ucm: %s: reply is not JSON (HTTP %d, %s)", e.Action, e.HTTPStatus, e.ContentType)
	if e.Title != "" {
		msg += fmt.Sprintf(": %q", e.Title)
	}
	return msg
}

// Is matches ErrNotJSON.
func (e *NotJSONError) Is(target error) bool { return target == ErrNotJSON }

// TLSError is a TLS handshake with the unit that failed. It says why in the operator's terms and,
// when the unit presented a certificate, that certificate's SHA-256, which is what tls.pin_sha256
// takes: an operator who trusts the certificate can pin it from the log line.
type TLSError struct {
	Action     string
	Reason     string // what went wrong and what to do
	CertSHA256 string // lowercase hex SHA-256 of the unit's leaf certificate; "" when none was seen
	Err        error
}

func (e *TLSError) Error() string {
	msg := fmt.Sprintf("ucm: %s: TLS handshake failed: %s", e.Action, e.Reason)
	if e.CertSHA256 != "" {
		msg += " (the unit presented a certificate with sha256 " + e.CertSHA256 + ")"
	}
	return msg
}

func (e *TLSError) Unwrap() error { return e.Err }

// Is matches ErrTLS and ErrTransport: the unit was not reached.
func (e *TLSError) Is(target error) bool { return target == ErrTLS || target == ErrTransport }

// PinMismatchError is the unit presenting a certificate other than the pinned one.
type PinMismatchError struct {
	Got string // hex SHA-256 of the certificate the unit presented
}

func (e *PinMismatchError) Error() string {
	return "ucm: certificate pin mismatch: unit presented sha256 " + e.Got
}
