package ucm

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"
)

// CheckRaw classifies the reply to Open, for actions that do not answer with the envelope when
// they succeed (cdrapi answers bare JSON, recapi streams audio) but still fail with it: an
// envelope carrying a non-zero status becomes an *Error (so -6 can trigger a re-login), an HTML
// page a *NotJSONError. A body labelled as audio streams at once; for any other label (units are
// not known to set it consistently) it decides by the first bytes: a body that starts like JSON
// is buffered (bounded) and put back, anything else (a WAV starts "RIFF") is left streaming,
// never read into memory first.
// On error the body is closed.
func CheckRaw(action string, resp *http.Response) (*http.Response, error) {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "audio/") || mt == "application/octet-stream" {
		return resp, nil // labelled as audio: stream it from the first byte on
	}
	br := bufio.NewReaderSize(resp.Body, 4096)
	// Wait for the first byte only, then look at what has arrived: a stream that sends a few
	// bytes and waits for the reader must not stall here.
	_, _ = br.Peek(1) // a read error shows again on the next Read
	head, _ := br.Peek(br.Buffered())
	first := bytes.TrimLeft(head, " \t\r\n\ufeff")
	resp.Body = readCloser{br, resp.Body}
	switch {
	case strings.HasPrefix(mt, "text/html") || (len(first) > 0 && first[0] == '<'):
		defer resp.Body.Close()
		page, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &NotJSONError{Action: action, HTTPStatus: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Title: htmlTitle(page)}
	case len(first) == 0 || first[0] != '{':
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, &TransportError{Action: action, Err: err}
	}
	if len(body) > maxReplyBytes {
		return nil, &NotJSONError{Action: action, HTTPStatus: resp.StatusCode, ContentType: "oversized reply"}
	}
	if _, err := decodeEnvelope(action, body); err != nil {
		if _, isUCM := StatusOf(err); isUCM {
			return nil, err
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// readCloser reads through the peeking buffer and closes the original body.
type readCloser struct {
	io.Reader
	io.Closer
}
