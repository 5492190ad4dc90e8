package ucm

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// TLSOptions says how to trust one unit. UCMs ship a self-signed web certificate, so besides the
// system roots an operator can name a CA file or pin the certificate itself; turning verification
// off is possible only by saying so.
type TLSOptions struct {
	CAPEM              []byte // PEM bundle to trust instead of the system roots
	PinSHA256          string // hex SHA-256 of the leaf certificate's DER; colons and case are ignored
	InsecureSkipVerify bool
	ServerName         string // override SNI/verification name (rarely needed)
}

// Config builds the tls.Config. With a pin, the chain and host name are not checked (a
// self-signed appliance certificate has neither), but the exact certificate is.
func (o TLSOptions) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	switch {
	case o.PinSHA256 != "":
		want, err := hex.DecodeString(strings.ToLower(strings.ReplaceAll(o.PinSHA256, ":", "")))
		if err != nil || len(want) != sha256.Size {
			return nil, errors.New("ucm: pin_sha256 must be 64 hex characters")
		}
		cfg.InsecureSkipVerify = true // replaced by the pin check below
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("ucm: unit presented no certificate")
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return fmt.Errorf("ucm: certificate pin mismatch: unit presented sha256 %s", hex.EncodeToString(got[:]))
			}
			return nil
		}
	case len(o.CAPEM) > 0:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(o.CAPEM) {
			return nil, errors.New("ucm: ca file holds no PEM certificate")
		}
		cfg.RootCAs = pool
	case o.InsecureSkipVerify:
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}
