package handlers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// The pool's refusals and the client's transport failures each map to the problem that tells a
// client what happened and what to do; the end-to-end fault suite shows them in context, this
// table shows every one, cold-unit cases included.
func TestFaultErrorsMapToProblems(t *testing.T) {
	refused := &ucm.TransportError{Action: "challenge", NotSent: true, Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}
	timeout := &ucm.TransportError{Action: "challenge", Timeout: true, Err: context.DeadlineExceeded}
	tlsErr := &ucm.TLSError{Action: "challenge", Reason: "the unit's certificate is not trusted; pin it (tls.pin_sha256)", CertSHA256: "ab"}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
		wantRetry  time.Duration
		wantUCM    int
	}{
		{"login refused by a closed port", &sessionpool.UnavailableError{Kind: sessionpool.RefusedBackingOff, Reason: "login failed", RetryAfter: 750 * time.Millisecond, Cause: refused},
			http.StatusServiceUnavailable, "unit-unreachable", 750 * time.Millisecond, 0},
		{"login timed out", &sessionpool.UnavailableError{Kind: sessionpool.RefusedBackingOff, Reason: "login failed", RetryAfter: time.Second, Cause: timeout},
			http.StatusServiceUnavailable, "unit-unreachable", time.Second, 0},
		{"login failed with -9", &sessionpool.UnavailableError{Kind: sessionpool.RefusedBackingOff, Reason: "login failed", RetryAfter: time.Second, Cause: &ucm.Error{Status: ucm.StatusSystemError}},
			http.StatusServiceUnavailable, "unit-unavailable", time.Second, 0},
		{"TLS failure at login", &sessionpool.UnavailableError{Kind: sessionpool.RefusedBackingOff, Reason: "login failed", RetryAfter: time.Second, Cause: tlsErr},
			http.StatusBadGateway, "unit-tls-error", 0, 0},
		{"breaker open after TLS failures", &sessionpool.UnavailableError{Kind: sessionpool.RefusedBreakerOpen, RetryAfter: time.Second, Cause: tlsErr},
			http.StatusBadGateway, "unit-tls-error", 0, 0},
		{"breaker open", &sessionpool.UnavailableError{Kind: sessionpool.RefusedBreakerOpen, RetryAfter: 2 * time.Second, Cause: refused},
			http.StatusServiceUnavailable, "unit-unavailable", 2 * time.Second, 0},
		{"bulkhead full", &sessionpool.UnavailableError{Kind: sessionpool.RefusedOverloaded, RetryAfter: 2 * time.Second},
			http.StatusServiceUnavailable, "unit-overloaded", 2 * time.Second, 0},
		{"paused after -57", &sessionpool.UnavailableError{Kind: sessionpool.RefusedPaused, RetryAfter: 42 * time.Second, Cause: &ucm.Error{Status: ucm.StatusTooFrequentLong}},
			http.StatusTooManyRequests, "unit-rate-limited", 42 * time.Second, -57},
		{"write answer lost", &sessionpool.OutcomeUnknownError{Action: "updateSIPAccount", Cause: timeout},
			http.StatusGatewayTimeout, "unit-write-outcome-unknown", 0, 0},
		{"read timed out", timeout, http.StatusGatewayTimeout, "unit-timeout", 0, 0},
		{"read refused", refused, http.StatusServiceUnavailable, "unit-unreachable", 5 * time.Second, 0},
		{"request deadline", context.DeadlineExceeded, http.StatusGatewayTimeout, "unit-timeout", 0, 0},
		{"wrapped with the unit", withUnit("hq", errors.Join(errors.New("context"), refused)), http.StatusServiceUnavailable, "unit-unreachable", 5 * time.Second, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := problemFor(tc.err)
			if p.Status != tc.wantStatus || p.Type != problemType(tc.wantType) || p.retryAfter != tc.wantRetry {
				t.Errorf("problemFor(%v) = %d %s Retry-After %s; want %d %s %s", tc.err, p.Status, p.Type, p.retryAfter, tc.wantStatus, problemType(tc.wantType), tc.wantRetry)
			}
			if tc.wantUCM != 0 && (p.UCMStatus == nil || *p.UCMStatus != tc.wantUCM) {
				t.Errorf("problemFor(%v).ucm_status = %v; want %d", tc.err, p.UCMStatus, tc.wantUCM)
			}
			if p.Detail == "" || p.Title == "" {
				t.Errorf("problemFor(%v) has no title or detail: %+v", tc.err, p)
			}
		})
	}
}
