package handlers

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// pageToken is opaque to clients; it carries the UCM page number and the query it belongs to, so
// a token reused with another page size or order is refused instead of silently skipping items.
type pageToken struct {
	Page int    `json:"p"`
	Size int    `json:"s"`
	Sort string `json:"o,omitempty"`
}

func (t pageToken) encode() string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(tok string, size int, sort string) (pageToken, error) {
	if tok == "" {
		return pageToken{Page: 1, Size: size, Sort: sort}, nil
	}
	bad := &InputError{Detail: "invalid page_token", Errors: []FieldError{{Location: "query.page_token", Message: "not a token this gateway issued"}}}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return pageToken{}, bad
	}
	var t pageToken
	if json.Unmarshal(raw, &t) != nil || t.Page < 1 {
		return pageToken{}, bad
	}
	if t.Size != size || t.Sort != sort {
		bad.Errors[0].Message = "the token belongs to another page_size or sort; start again without page_token"
		return pageToken{}, bad
	}
	return t, nil
}

// listPage is the paging part of every UCM list reply.
type listPage struct {
	Page      ucm.Int `json:"page"`
	TotalItem ucm.Int `json:"total_item"`
	TotalPage ucm.Int `json:"total_page"`
}

// next returns the token of the following page, or "" on the last one.
func (p listPage) next(cur pageToken) string {
	if !p.TotalPage.Valid || int64(cur.Page) >= p.TotalPage.Value {
		return ""
	}
	cur.Page++
	return cur.encode()
}

// nextLink builds the RFC 8288 Link header value for the next page of a list.
func nextLink(path string, q url.Values, token string) string {
	q.Set("page_token", token)
	u := url.URL{Path: path, RawQuery: q.Encode()}
	return fmt.Sprintf("<%s>; rel=\"next\"", u.String())
}

// badReply is a UCM reply that parsed as the envelope but not as the action's documented shape.
func badReply(action string, err error) error {
	return &ucm.NotJSONError{Action: action, HTTPStatus: http.StatusOK, ContentType: "reply not in the documented shape: " + err.Error()}
}
