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
)

// TransportError says which action failed to reach the unit, and whether it was a timeout.
type TransportError struct {
	Action  string
	Timeout bool
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
