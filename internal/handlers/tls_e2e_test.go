package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// A TLS failure is named as such, says what to do, and logs the certificate's SHA-256 for the
// operator to pin; it is not "login failed", and the other unit does not notice.
func TestTLSFailuresAreNamedAndLogTheCertificate(t *testing.T) {
	tests := []struct {
		name       string
		tls        func(*ucmsim.Server) ucm.TLSOptions
		wantDetail string
	}{
		{name: "unknown authority", tls: func(*ucmsim.Server) ucm.TLSOptions { return ucm.TLSOptions{} }, wantDetail: "not trusted"},
		{name: "pin mismatch", tls: func(*ucmsim.Server) ucm.TLSOptions {
			return ucm.TLSOptions{PinSHA256: strings.Repeat("00", 32)}
		}, wantDetail: "not the pinned one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultEnv(t, faultOptions(), map[string]func(*ucmsim.Server) ucm.TLSOptions{"sick": tc.tls})
			for range 2 { // the request that met the failure, and one during the back-off after it
				a := f.send(t, http.MethodGet, "/v1/units/sick/extensions/1000", "")
				require.Equal(t, http.StatusBadGateway, a.status, a.body)
				assert.Equal(t, "unit-tls-error", a.typ)
				assert.Contains(t, a.body, tc.wantDetail)
				assert.Contains(t, a.body, "pin_sha256", "the answer says what to do")
				assert.NotContains(t, a.body, "login failed")
			}
			a := f.send(t, http.MethodGet, "/v1/units/healthy/extensions/1000", "")
			assert.Equal(t, http.StatusOK, a.status, "the other unit is unaffected")
			assert.Zero(t, f.sick.sim.Counters().Challenges, "nothing reached the unit")
			assert.Contains(t, f.logs.String(), `"cert_sha256":"`+f.sick.srv.CertSHA256()+`"`, "the log names the certificate to pin")
		})
	}
}
