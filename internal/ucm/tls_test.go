package ucm

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TLS failures must reach the operator as what they are (not "login failed"), with the
// certificate's fingerprint when there is one, so that it can be pinned from the log.
func TestTLSFailuresAreNamed(t *testing.T) {
	srv := fakeUnit(t, 200, "application/json", `{"response":{},"status":0}`)
	tests := []struct {
		name       string
		url        string
		opts       TLSOptions
		wantReason string
		wantSHA    string
	}{
		{name: "unknown authority", url: srv.URL, opts: TLSOptions{}, wantReason: "signed by an unknown authority", wantSHA: hexSum(srv)},
		{name: "pin mismatch", url: srv.URL, opts: TLSOptions{PinSHA256: hex.EncodeToString(make([]byte, 32))}, wantReason: "not the pinned one", wantSHA: hexSum(srv)},
		{name: "plain HTTP on the port", url: "https://" + plainHTTP(t), opts: TLSOptions{InsecureSkipVerify: true}, wantReason: "did not answer with TLS"},
		{name: "no common cipher (a unit with only RSA key exchange)", url: rsaKexOnly(t).URL, opts: TLSOptions{InsecureSkipVerify: true}, wantReason: "tls.legacy_rsa_kex"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.opts.Config()
			require.NoError(t, err)
			c, err := NewClient(tc.url, cfg)
			require.NoError(t, err)
			t.Cleanup(c.CloseIdle)
			_, err = c.Call(context.Background(), "challenge", "", nil)
			require.ErrorIs(t, err, ErrTLS)
			require.ErrorIs(t, err, ErrTransport, "a TLS failure is a transport failure too: the unit was not reached")
			var te *TLSError
			require.ErrorAs(t, err, &te)
			assert.Contains(t, te.Reason, tc.wantReason)
			assert.Equal(t, tc.wantSHA, te.CertSHA256)
			if tc.wantSHA != "" {
				assert.Contains(t, err.Error(), tc.wantSHA, "the message names the certificate to pin")
			}
		})
	}
}

func TestLegacyRSAKeyExchangeIsPerUnit(t *testing.T) {
	old := rsaKexOnly(t)
	modern := fakeUnit(t, 200, "application/json", `{"response":{},"status":0}`)
	call := func(url string, opts TLSOptions) error {
		cfg, err := opts.Config()
		require.NoError(t, err)
		c, err := NewClient(url, cfg)
		require.NoError(t, err)
		defer c.CloseIdle()
		_, err = c.Call(context.Background(), "getSystemStatus", "", nil)
		return err
	}
	require.ErrorIs(t, call(old.URL, TLSOptions{PinSHA256: hexSum(old)}), ErrTLS, "by default the gateway offers no RSA key exchange")
	require.NoError(t, call(old.URL, TLSOptions{PinSHA256: hexSum(old), LegacyRSAKeyExchange: true}), "legacy_rsa_kex reaches the old unit")
	require.NoError(t, call(modern.URL, TLSOptions{PinSHA256: hexSum(modern), LegacyRSAKeyExchange: true}), "and still reaches a modern one")

	// The option changes only the config it is set on.
	plain, err := TLSOptions{}.Config()
	require.NoError(t, err)
	assert.Nil(t, plain.CipherSuites, "a unit without the option keeps Go's defaults")
	legacy, err := TLSOptions{LegacyRSAKeyExchange: true}.Config()
	require.NoError(t, err)
	assert.Contains(t, legacy.CipherSuites, tls.TLS_RSA_WITH_AES_128_GCM_SHA256)
	for _, id := range legacy.CipherSuites {
		name := tls.CipherSuiteName(id)
		for _, bad := range []string{"RC4", "3DES", "CBC_SHA256", "NULL"} {
			assert.NotContains(t, name, bad, "legacy_rsa_kex adds RSA key exchange only, never broken ciphers")
		}
	}
}

// rsaKexOnly is a unit like older UCM firmware: TLS 1.2 with RSA key exchange only.
func rsaKexOnly(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"response":{},"status":0}`)
	}))
	srv.TLS = &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}
	srv.Config.ErrorLog = discardLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// plainHTTP is a server speaking HTTP without TLS; it returns host:port.
func plainHTTP(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).String()
}

// A unit's configuration is checked when it is loaded and built at its first connection; built
// late, it protects the connection as one built at once does.
func TestLazyTLSConfig(t *testing.T) {
	_, err := TLSOptions{PinSHA256: "not hex"}.Lazy()
	require.Error(t, err, "a bad pin is refused at load")
	_, err = TLSOptions{CAPEM: []byte("no certificate here")}.Lazy()
	require.Error(t, err, "a CA file without a certificate is refused at load")

	srv := fakeUnit(t, 200, "application/json", `{"response":{},"status":0}`)
	for name, tc := range map[string]struct {
		pin  string
		good bool
	}{
		"the unit's pin": {pin: hexSum(srv), good: true},
		"another pin":    {pin: hex.EncodeToString(make([]byte, 32))},
	} {
		t.Run(name, func(t *testing.T) {
			lazy, err := TLSOptions{PinSHA256: tc.pin}.Lazy()
			require.NoError(t, err)
			c, err := NewClientTLS(srv.URL, lazy)
			require.NoError(t, err)
			defer c.CloseIdle()
			assert.Nil(t, lazy.conf, "built before the first connection")
			_, err = c.Call(context.Background(), "getSystemStatus", "", nil)
			require.NotNil(t, lazy.conf, "not built at the first connection")
			if tc.good {
				require.NoError(t, err)
				return
			}
			var te *TLSError
			require.ErrorAs(t, err, &te)
			assert.Contains(t, te.Reason, "not the pinned one")
		})
	}
}
