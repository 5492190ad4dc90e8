package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// validator checks every API request against the spec before a handler runs, so nothing the
// gateway could refuse itself is ever sent to a unit.
func (s *Server) validator(spec *openapi3.T) func(http.Handler) http.Handler {
	router, err := newSpecRouter(spec)
	if err != nil {
		panic(err) // our own embedded spec: the tests build it
	}
	return validateWith(router, openapi3filter.Options{
		MultiError: true,
		// authenticate has already run; this only makes a route that somehow skipped it fail
		// closed instead of open.
		AuthenticationFunc: func(ctx context.Context, _ *openapi3filter.AuthenticationInput) error {
			if principalFrom(ctx) == nil {
				return errNoPrincipal
			}
			return nil
		},
	}, func(ctx context.Context, err error, w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, s.logger, s.explain(w, r, inputErrorFrom(err)))
	})
}

// explain adds what the spec knows of the operation to a refusal: the methods the resource
// serves (Allow, on a 405) and the media types the operation takes (a 415, an empty body).
func (s *Server) explain(w http.ResponseWriter, r *http.Request, err error) error {
	var in *InputError
	if !errors.As(err, &in) {
		return err
	}
	if in.Status == http.StatusMethodNotAllowed && s.routes != nil {
		w.Header().Set("Allow", strings.Join(allowedMethods(s.routes, routePath(r)), ", "))
	}
	op, found := s.operationOf(r)
	if !found || len(op.mediaTypes) == 0 {
		return in
	}
	types := strings.Join(op.mediaTypes, " or ")
	switch {
	case in.Status == http.StatusUnsupportedMediaType:
		in.Detail = "unsupported content type: this operation takes " + types
		for i, fe := range in.Errors {
			if fe.Location == "header.Content-Type" {
				in.Errors[i].Message = "must be " + types
			}
		}
		if r.Method == http.MethodPatch {
			w.Header().Set("Accept-Patch", strings.Join(op.mediaTypes, ", ")) // RFC 5789
		}
	case len(in.Errors) == 1 && in.Errors[0].Location == "body" && in.Errors[0].Message == msgEmptyBody:
		in.Detail = "the request body is empty: this operation takes a body (" + types + ")"
	}
	return in
}

// refuseUnknownQuery answers 400 for a query parameter the operation does not have, as the
// schemas do for an unknown body field: a misspelt ?page_sise=10 or ?aply=true would otherwise
// be ignored without a word, and the client would never learn why it had no effect.
func (s *Server) refuseUnknownQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, found := s.operationOf(r)
		if !found || r.URL.RawQuery == "" {
			next.ServeHTTP(w, r)
			return
		}
		var errs []FieldError
		for _, name := range slices.Sorted(maps.Keys(r.URL.Query())) {
			if !op.query[name] {
				errs = append(errs, FieldError{Location: "query." + name, Message: "unknown parameter"})
			}
		}
		if len(errs) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		known := slices.Sorted(maps.Keys(op.query))
		detail := "unknown query parameter " + strings.TrimPrefix(errs[0].Location, "query.")
		if len(errs) > 1 {
			detail = "the request has " + strconv.Itoa(len(errs)) + " unknown query parameters"
		}
		if len(known) == 0 {
			detail += "; this operation takes none"
		} else {
			detail += "; this operation takes " + strings.Join(known, ", ")
		}
		writeProblem(w, r, s.logger, &InputError{Detail: detail, Errors: errs})
	})
}

// msgEmptyBody is the message of a missing required body; explain names the media types.
const msgEmptyBody = "is empty"

// inputErrorFrom turns kin-openapi's errors into one InputError listing every bad field by place
// ("body.max_contacts", "query.page_size", "path.ext"), with kin-openapi's reason but never the
// client's value: the value may be a secret.
func inputErrorFrom(err error) error {
	// First: kin-openapi reads the body while checking security, so an overlong body also
	// surfaces as a failed security requirement.
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || strings.Contains(err.Error(), "http: request body too large") {
		return &InputError{Status: http.StatusRequestEntityTooLarge, Detail: "the request body is larger than this gateway accepts"}
	}
	if hasSecurityError(err) {
		return &AccessError{Status: http.StatusUnauthorized, Detail: "an API key is required: send Authorization: Bearer <key>"}
	}
	var re *routers.RouteError
	if errors.As(err, &re) {
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			return &InputError{Status: http.StatusMethodNotAllowed, Detail: "this method is not allowed on this resource"}
		}
		return &InputError{Status: http.StatusNotFound, Detail: "no such resource in this API"}
	}
	in := &InputError{Detail: "the request is invalid"}
	in.Errors = flatten(err, "")
	for _, fe := range in.Errors {
		if fe.Location == "header.Content-Type" {
			in.Status = http.StatusUnsupportedMediaType
			in.Detail = "unsupported content type"
		}
	}
	if len(in.Errors) == 1 {
		in.Detail = "invalid " + in.Errors[0].Location + ": " + in.Errors[0].Message
	} else if len(in.Errors) > 1 {
		in.Detail = "the request has " + strconv.Itoa(len(in.Errors)) + " invalid fields"
	}
	return in
}

var unsupportedProp = regexp.MustCompile(`^property "([^"]+)" is unsupported$`)

func flatten(err error, loc string) []FieldError {
	// A type switch, not errors.As: a RequestError unwraps to the MultiError inside it, and
	// errors.As would skip the RequestError that says where the problem is.
	switch e := err.(type) {
	case openapi3.MultiError:
		var out []FieldError
		for _, inner := range e {
			out = append(out, flatten(inner, loc)...)
		}
		return out
	case *openapi3filter.RequestError:
		switch {
		case e.Parameter != nil:
			loc = e.Parameter.In + "." + e.Parameter.Name
		case e.RequestBody != nil:
			loc = "body"
		}
		if strings.Contains(e.Reason, "header Content-Type") {
			return []FieldError{{Location: "header.Content-Type", Message: e.Reason}}
		}
		switch {
		case errors.Is(e.Err, openapi3filter.ErrInvalidRequired) && e.RequestBody != nil:
			return []FieldError{{Location: loc, Message: msgEmptyBody}}
		case errors.Is(e.Err, openapi3filter.ErrInvalidRequired):
			return []FieldError{{Location: loc, Message: "is required"}}
		case errors.Is(e.Err, openapi3filter.ErrInvalidEmptyValue):
			return []FieldError{{Location: loc, Message: "must not be empty"}}
		case e.Parameter != nil && isParseError(e.Err):
			return []FieldError{{Location: loc, Message: "malformed value: " + expected(e.Parameter)}}
		case e.Err == nil:
			return []FieldError{{Location: loc, Message: e.Reason}}
		}
		return flatten(e.Err, loc)
	case *openapi3.SchemaError:
		at := loc
		for _, p := range e.JSONPointer() {
			at += "." + p
		}
		msg := e.Reason
		if m := unsupportedProp.FindStringSubmatch(msg); m != nil {
			at += "." + m[1]
			msg = "unknown field"
		}
		return []FieldError{{Location: at, Message: msg}}
	case *openapi3filter.ParseError:
		if loc == "body" || strings.HasPrefix(loc, "body.") {
			return []FieldError{{Location: loc, Message: "not valid JSON"}}
		}
		return []FieldError{{Location: loc, Message: "malformed value"}}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return []FieldError{{Location: "body", Message: "too large"}}
	}
	if next := errors.Unwrap(err); next != nil {
		return flatten(next, loc)
	}
	if loc == "" {
		loc = "request"
	}
	return []FieldError{{Location: loc, Message: "invalid"}}
}

// isParseError reports whether err is a value kin-openapi could not parse at all.
func isParseError(err error) bool {
	var pe *openapi3filter.ParseError
	return errors.As(err, &pe)
}

// expected says what a parameter takes, from its schema, for a value that could not be parsed.
func expected(p *openapi3.Parameter) string {
	if p.Schema == nil || p.Schema.Value == nil || p.Schema.Value.Type == nil {
		return "see the parameter's schema"
	}
	switch t := p.Schema.Value.Type; {
	case t.Is(openapi3.TypeInteger):
		return "expected a whole number"
	case t.Is(openapi3.TypeNumber):
		return "expected a number"
	case t.Is(openapi3.TypeBoolean):
		return "expected true or false"
	case t.Is(openapi3.TypeArray):
		return "expected a comma-separated list"
	}
	if f := p.Schema.Value.Format; f != "" {
		return "expected a " + f + " value"
	}
	return "expected a string"
}

var errNoPrincipal = errors.New("no authenticated principal")

// hasSecurityError finds a failed security requirement, also inside a MultiError.
func hasSecurityError(err error) bool {
	var se *openapi3filter.SecurityRequirementsError
	if errors.As(err, &se) {
		return true
	}
	if me, ok := err.(openapi3.MultiError); ok {
		for _, e := range me {
			if hasSecurityError(e) {
				return true
			}
		}
	}
	return false
}

// refuseControlChars answers 400 when any string in a JSON body holds a control character. The
// UCM writes these values into Asterisk and SIP configuration and headers, where a CR, LF or NUL
// changes meaning; no legitimate value has one. The schema's patterns cover most fields; this
// covers every field, including /actions/ parameters that no schema describes. It runs after
// the validator, which has already read the body and left a copy in its place.
func (s *Server) refuseControlChars(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.ContentLength == 0 || !strings.Contains(r.Header.Get("Content-Type"), "json") {
			next.ServeHTTP(w, r)
			return
		}
		data, err := io.ReadAll(r.Body)
		if err != nil {
			writeProblem(w, r, s.logger, inputErrorFrom(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		var v any
		if json.Unmarshal(data, &v) == nil {
			if at := controlCharAt(v, "body"); at != "" {
				writeProblem(w, r, s.logger, &InputError{Detail: "invalid " + at + ": control characters are not allowed",
					Errors: []FieldError{{Location: at, Message: "control characters are not allowed"}}})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// controlCharAt returns the location of the first string (value or key) holding a control
// character, or "".
func controlCharAt(v any, at string) string {
	switch x := v.(type) {
	case string:
		if strings.ContainsFunc(x, unicode.IsControl) {
			return at
		}
	case []any:
		for i, e := range x {
			if loc := controlCharAt(e, at+"."+strconv.Itoa(i)); loc != "" {
				return loc
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsFunc(k, unicode.IsControl) {
				return at
			}
			if loc := controlCharAt(e, at+"."+k); loc != "" {
				return loc
			}
		}
	}
	return ""
}
