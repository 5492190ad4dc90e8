package ucm

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
)

// sendTrace follows one request through net/http far enough to tell, when it fails, whether the
// unit can have received it: a write that never left cannot have happened, so the caller may say
// so instead of "outcome unknown".
type sendTrace struct {
	asked atomic.Bool // the transport looked for a connection (net/http's own transport does)
	wrote atomic.Bool // the whole request was written to the connection
}

func (s *sendTrace) attach(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn: func(string) { s.asked.Store(true) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				s.wrote.Store(true)
			}
		},
	})
}

// notSent is true only when the trace proves the request was not written whole. A transport
// that reports nothing (a test double) proves nothing, so its failures stay "may have been sent".
func (s *sendTrace) notSent() bool { return s.asked.Load() && !s.wrote.Load() }

// tlsFailure recognises a failed TLS handshake and explains it; nil for any other error.
func tlsFailure(action string, err error) *TLSError {
	var (
		verify *tls.CertificateVerificationError
		pin    *PinMismatchError
		alert  tls.AlertError
		record tls.RecordHeaderError
		unk    x509.UnknownAuthorityError
		host   x509.HostnameError
		inv    x509.CertificateInvalidError
		op     *net.OpError
	)
	te := &TLSError{Action: action, Err: stripURL(err)}
	switch {
	case errors.As(err, &pin):
		te.Reason = "the certificate is not the pinned one; if the unit's certificate was renewed on purpose, pin the new one (tls.pin_sha256)"
		te.CertSHA256 = pin.Got
	case errors.As(err, &verify):
		te.Reason = "the unit's certificate is not trusted (" + verifyReason(verify.Err) + "); pin it (tls.pin_sha256) or trust its CA (tls.ca_file)"
		if len(verify.UnverifiedCertificates) > 0 {
			te.CertSHA256 = certSHA256(verify.UnverifiedCertificates[0])
		}
	case errors.As(err, &unk), errors.As(err, &host), errors.As(err, &inv):
		te.Reason = "the unit's certificate is not trusted (" + verifyReason(err) + "); pin it (tls.pin_sha256) or trust its CA (tls.ca_file)"
	case errors.As(err, &alert), errors.As(err, &op) && op.Op == "remote error":
		// A TLS alert from the unit comes as net.OpError{Op: "remote error"} over TCP (AlertError
		// is QUIC's); "handshake failure" is what a unit without a cipher suite in common sends.
		te.Reason = "the unit refused the handshake (" + stripURL(err).Error() + "); a unit that offers only old TLS parameters needs tls.legacy_rsa_kex: true"
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http turns a RecordHeaderError into a plain message when the reply looks like HTTP.
		te.Reason = "the unit did not answer with TLS on this port; check the url's port (the UCM's HTTPS port is 8089 by default)"
	default:
		return nil
	}
	return te
}

// verifyReason names the certificate problem without the library's prefixes.
func verifyReason(err error) string {
	var (
		unk  x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unk):
		return "signed by an unknown authority"
	case errors.As(err, &host):
		return "issued for another name: " + host.Error()
	case errors.As(err, &inv):
		return inv.Error()
	}
	return err.Error()
}

func certSHA256(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
