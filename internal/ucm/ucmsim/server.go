package ucmsim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a UCM served over HTTPS with its own self-signed certificate,
// like a real unit's web UI certificate, so clients are tested with real
// TLS, certificate pinning included.
type Server struct {
	srv     *http.Server
	ln      net.Listener
	sw      *switchListener // under ln: refuses and drops connections (faults.go)
	unit    *UCM
	url     string
	certPEM []byte
	sha256  string

	// WebSockets outlive http.Server.Close (they are hijacked): the base
	// context ends them, and Close waits for their handlers.
	stop    context.CancelFunc
	mu      sync.Mutex
	closed  bool
	sockets sync.WaitGroup
}

// Listen serves u over HTTPS on addr (e.g. "127.0.0.1:0") with a fresh
// self-signed ECDSA P-256 certificate for 127.0.0.1, ::1 and localhost:
// the API at /api and the live-events WebSocket at /websockify (wss://).
// The server runs until Close.
func Listen(u *UCM, addr string) (*Server, error) {
	if u == nil {
		return nil, errors.New("ucmsim: Listen needs a UCM")
	}
	cert, der, err := selfSigned()
	if err != nil {
		return nil, err
	}
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ucmsim: listen %s: %w", addr, err)
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	sw := newSwitchListener(raw)
	ln := tls.NewListener(sw, tlsCfg)
	base, stop := context.WithCancel(context.Background())
	s := &Server{
		stop:    stop,
		ln:      ln,
		sw:      sw,
		unit:    u,
		url:     "https://" + urlHost(raw.Addr().(*net.TCPAddr)),
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}
	s.srv = &http.Server{
		Handler:           s.track(u),
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: 30 * time.Second,
		// Clients that refuse the certificate are expected in tests.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	sum := sha256.Sum256(der)
	s.sha256 = hex.EncodeToString(sum[:])
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// urlHost names a listening address the way a client should dial it.
func urlHost(a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1) // a wildcard listener also answers there
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

// URL is the base URL, "https://127.0.0.1:PORT"; the API is at URL()+"/api".
func (s *Server) URL() string { return s.url }

// CertSHA256 is the lowercase hex SHA-256 of the leaf certificate's DER,
// the fingerprint a client pins.
func (s *Server) CertSHA256() string { return s.sha256 }

// CertPEM is the certificate in PEM, for a client that trusts it as a root.
func (s *Server) CertPEM() []byte { return append([]byte(nil), s.certPEM...) }

// track counts the WebSocket handlers so Close can wait for them; once
// closed, no new socket starts.
func (s *Server) track(u *UCM) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/websockify" {
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
				return
			}
			s.sockets.Add(1)
			s.mu.Unlock()
			defer s.sockets.Done()
		}
		u.ServeHTTP(w, r)
	})
}

// Close stops the server and closes its connections, WebSockets included
// (without a close frame, like a unit going down), and returns once their
// handlers have ended.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop()
	err := s.srv.Close()
	s.sockets.Wait()
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// selfSigned makes the certificate: self-signed (CA so that trusting it as
// a root works, as with a unit's self-generated certificate).
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("ucmsim: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("ucmsim: serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"Grandstream UCM simulator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("ucmsim: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("ucmsim: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, der, nil
}
