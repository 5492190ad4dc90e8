package ucm

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
)

// FuzzDecodeReply feeds the reply decoder whatever a unit might send. Whatever the bytes, the
// answer is a JSON value or a typed error (*Error with a non-zero status, or *NotJSONError):
// never a panic, never an untyped error, never a value that is not JSON.
func FuzzDecodeReply(f *testing.F) {
	for _, seed := range []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "application/json", `{"response":{"a":"1"},"status":0}`},
		{200, "application/json", `{"response":null,"status":"0"}`},
		{200, "text/plain", `{"response":{"error_msg":"Invalid parameters!"},"status":-1}`},
		{200, "application/json", `{"response":{"remain_num":"4","remain_time":"600"},"status":-37}`},
		{200, "application/json", `{"response":{"remain_num":4.5},"status":-37}`},
		{200, "application/json", `{"response":{"a":`},
		{200, "application/json", `{"response":[],"status":1e400}`},
		{200, "application/json", `{"status":"-6"}`},
		{200, "application/json", `{"cdr_root":[]}`},
		{200, "application/json", "\ufeff {\"response\":{},\"status\":0}"},
		{403, "text/html", "<html><head><title>403 Forbidden</title></head></html>"},
		{200, "", "<TITLE>\xff\xfe</title>"},
		{200, "audio/x-wav", "RIFF\x00\x00WAVE"},
		{200, "application/json; charset=\"", `{}`},
	} {
		f.Add(seed.status, seed.ctype, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		raw, err := decodeReply("getSystemStatus", status, ctype, body)
		again, err2 := decodeReply("getSystemStatus", status, ctype, body)
		if !bytes.Equal(raw, again) || (err == nil) != (err2 == nil) {
			t.Fatalf("decodeReply is not deterministic: %q/%v then %q/%v", raw, err, again, err2)
		}
		if err == nil {
			if !json.Valid(raw) {
				t.Fatalf("decodeReply(%q) = %q, which is not JSON", body, raw)
			}
			return
		}
		_ = err.Error()
		var ue *Error
		var nj *NotJSONError
		switch {
		case errors.As(err, &ue):
			if ue.Status == StatusOK {
				t.Fatalf("decodeReply(%q): an *Error with status 0", body)
			}
			if !errors.Is(err, ue.Status) {
				t.Fatalf("decodeReply(%q): errors.Is does not match the status %d", body, ue.Status)
			}
		case errors.As(err, &nj):
			if !errors.Is(err, ErrNotJSON) {
				t.Fatalf("decodeReply(%q): a NotJSONError that is not ErrNotJSON", body)
			}
		default:
			t.Fatalf("decodeReply(%q) = untyped error %T %v", body, err, err)
		}
	})
}

// FuzzCheckRaw does the same for replies to cdrapi and recapi, which may be bare JSON, audio, an
// HTML page or the envelope with an error: the answer is a readable body or a typed error, and
// the body is closed on error.
func FuzzCheckRaw(f *testing.F) {
	for _, seed := range []struct{ ctype, body string }{
		{"application/json", `{"cdr_root":[{"main_cdr":{"src":"1000"}}]}`},
		{"application/json", `{"response":{},"status":-6}`},
		{"", `  {"response":{},"status":"-16"}`},
		{"audio/x-wav", "RIFF\x24\x00\x00\x00WAVEfmt "},
		{"", "RIFF\x24\x00\x00\x00WAVEfmt "},
		{"text/html", "<html><title>x</title>"},
		{"", "<"},
		{"", ""},
		{"application/json", `{"response":`},
	} {
		f.Add(seed.ctype, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		closed := false
		rc := &closeSpy{Reader: bytes.NewReader(body), closed: &closed}
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {ctype}}, Body: rc}
		got, err := CheckRaw("cdrapi", resp)
		if err != nil {
			var ue *Error
			var nj *NotJSONError
			var te *TransportError
			if !errors.As(err, &ue) && !errors.As(err, &nj) && !errors.As(err, &te) {
				t.Fatalf("CheckRaw(%q) = untyped error %T %v", body, err, err)
			}
			if !closed {
				t.Fatalf("CheckRaw(%q) failed without closing the body", body)
			}
			return
		}
		out, rerr := io.ReadAll(got.Body)
		_ = got.Body.Close()
		if rerr != nil {
			t.Fatalf("CheckRaw(%q): reading the body: %v", body, rerr)
		}
		if !bytes.Equal(out, body) {
			t.Fatalf("CheckRaw(%q) changed the body to %q", body, out)
		}
	})
}

type closeSpy struct {
	io.Reader
	closed *bool
}

func (c *closeSpy) Close() error { *c.closed = true; return nil }

// FuzzInt: numbers the unit sends as 3, "3", 3.0, "" or null.
func FuzzInt(f *testing.F) {
	for _, s := range []string{`3`, `"3"`, `3.0`, `""`, `null`, `"3.5"`, `1e400`, `"-0"`, `" 42 "`, `9223372036854775808`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var i Int
		if err := i.UnmarshalJSON(b); err != nil {
			return
		}
		if !i.Valid {
			if i.Value != 0 {
				t.Fatalf("Int(%q) = %+v: a value without Valid", b, i)
			}
			return
		}
		// The same number sent the other way (a string for a number, or back) reads the same.
		var back Int
		if err := back.UnmarshalJSON([]byte(`"` + strconv.FormatInt(i.Value, 10) + `"`)); err != nil || back != i {
			t.Fatalf("Int(%q) = %d, but its string form reads as %+v (%v)", b, i.Value, back, err)
		}
	})
}
