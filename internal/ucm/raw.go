package ucm

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"
)

// CheckRaw classifies the reply to Open, for actions that do not answer with the envelope when
// they succeed (cdrapi answers bare JSON, recapi streams audio) but still fail with it: an
// envelope carrying a non-zero status becomes an *Error (so -6 can trigger a re-login), an HTML
// page a *NotJSONError. Anything else is returned for the caller to read: audio is left
// streaming, a JSON body is buffered (bounded) and put back. On error the body is closed.
func CheckRaw(action string, resp *http.Response) (*http.Response, error) {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case strings.HasPrefix(mt, "audio/") || mt == "application/octet-stream":
		return resp, nil
	case strings.HasPrefix(mt, "text/html"):
		defer resp.Body.Close()
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &NotJSONError{Action: action, HTTPStatus: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Title: htmlTitle(head)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, &TransportError{Action: action, Err: err}
	}
	if len(body) > maxReplyBytes {
		return nil, &NotJSONError{Action: action, HTTPStatus: resp.StatusCode, ContentType: "oversized reply"}
	}
	if !looksLikeJSON(resp.Header.Get("Content-Type"), body) {
		return nil, &NotJSONError{Action: action, HTTPStatus: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
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
