package ucm

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CheckRaw must not trust the Content-Type label of a recapi/cdrapi reply: it decides by the
// first bytes when the label is not audio.
func TestCheckRawDecidesByContent(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		wantErr           error
		wantStatus        Status
		wantBody          string
	}{
		{name: "unlabelled WAV streams", ctype: "", body: "RIFF\x24\x00\x00\x00WAVE", wantBody: "RIFF\x24\x00\x00\x00WAVE"},
		{name: "WAV labelled as a download streams", ctype: "application/force-download", body: "RIFFxxxxWAVE", wantBody: "RIFFxxxxWAVE"},
		{name: "unlabelled -6 envelope", ctype: "", body: `{"response":{},"status":-6}`, wantStatus: StatusCookie},
		{name: "bare cdr JSON is kept", ctype: "text/plain", body: ` {"cdr_root":[]}`, wantBody: ` {"cdr_root":[]}`},
		{name: "unlabelled HTML page", ctype: "", body: "<html><title>403 Forbidden</title></html>", wantErr: ErrNotJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tc.body))}
			if tc.ctype != "" {
				resp.Header.Set("Content-Type", tc.ctype)
			}
			got, err := CheckRaw("recapi", resp)
			switch {
			case tc.wantStatus != 0:
				assert.ErrorIs(t, err, tc.wantStatus)
			case tc.wantErr != nil:
				assert.ErrorIs(t, err, tc.wantErr)
			default:
				require.NoError(t, err)
				b, err := io.ReadAll(got.Body)
				require.NoError(t, err)
				assert.Equal(t, tc.wantBody, string(b))
			}
		})
	}
}
