package client

import (
	"context"
	"errors"
	"net/http"
)

// New returns a client for the gateway at baseURL (for example http://localhost:8080) that
// sends apiKey as "Authorization: Bearer <key>" on every request: every /v1 call needs a key,
// and a per-request editor would have to be repeated at every call. opts are the generated
// options (WithHTTPClient, WithRequestEditorFn…).
func New(baseURL, apiKey string, opts ...ClientOption) (*ClientWithResponses, error) {
	if apiKey == "" {
		return nil, errors.New("client: an API key is required (from ucm-gateway keygen, or the one make run prints)")
	}
	bearer := WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+apiKey)
		return nil
	})
	return NewClientWithResponses(baseURL, append([]ClientOption{bearer}, opts...)...)
}

// FromExtension is the "from" of a call placed from an extension of the unit ("1000"), which
// rings first. The spec lets "from" be that string or a typed origin, so the generated type is
// a union; these two helpers spare callers its methods.
func FromExtension(ext string) CallCreate_From {
	var f CallCreate_From
	_ = f.FromExtensionNumber(ext) // a string always encodes
	return f
}

// FromExternal is the "from" of a call that first rings an outside number (a mobile phone, a
// callback service): dialOutboundTwo or dialIVROutbound on the unit.
func FromExternal(number string) CallCreate_From {
	var f CallCreate_From
	_ = f.FromCallOrigin(CallOrigin{Type: CallOriginTypeExternal, Number: number})
	return f
}
