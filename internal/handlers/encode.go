package handlers

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	fastjson "github.com/segmentio/encoding/json"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// The read path converts a UCM reply to the REST JSON in one pass: the reply is decoded once
// (segmentio's decoder, strings pointing into the reply instead of copied) and the schema walk
// appends the REST document straight to a buffer, properties in a precomputed order. The
// earlier path went reply → map → schema walk → map → JSON → generated struct → JSON, sorting
// map keys at every encode: a profile of GET …/extensions/{ext} put 40% of the gateway's CPU
// and most of its 1,460 allocations there. The output is the one the struct path gave: the
// same fields, in the same (alphabetical) order, required fields present.

// prop is one property of an object schema, in output order.
type prop struct {
	name     string
	key      []byte // `"name":`
	schema   *openapi3.Schema
	kind     schemaKind
	required bool
}

// schemaKind is a schema's one type, looked up once: the read path asks it of every value.
type schemaKind uint8

const (
	kindOther schemaKind = iota // no type, several, or number: the Types.Is path decides
	kindObject
	kindArray
	kindBoolean
	kindInteger
	kindString
)

func kindOf(s *openapi3.Schema) schemaKind {
	if s == nil || s.Type == nil || len(*s.Type) != 1 {
		return kindOther
	}
	switch (*s.Type)[0] {
	case openapi3.TypeObject:
		return kindObject
	case openapi3.TypeArray:
		return kindArray
	case openapi3.TypeBoolean:
		return kindBoolean
	case openapi3.TypeInteger:
		return kindInteger
	case openapi3.TypeString:
		return kindString
	}
	return kindOther
}

// propsCache holds each object schema's properties in output order; schemas are the spec's own
// and never change, so an entry is computed once.
type propsCache struct {
	m   sync.Map // *openapi3.Schema -> []prop
	idx sync.Map // *openapi3.Schema -> *propIndex (transcode.go)
}

func (c *propsCache) of(s *openapi3.Schema) []prop {
	if v, ok := c.m.Load(s); ok {
		return v.([]prop)
	}
	names := make([]string, 0, len(s.Properties))
	for name, ref := range s.Properties {
		if ref.Value != nil && !ref.Value.WriteOnly {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	out := make([]prop, 0, len(names))
	for _, name := range names {
		key := fastjson.AppendEscape(nil, name, fastjson.EscapeHTML)
		ps := s.Properties[name].Value
		out = append(out, prop{name: name, key: append(key, ':'), schema: ps, kind: kindOf(ps),
			required: slices.Contains(s.Required, name)})
	}
	v, _ := c.m.LoadOrStore(s, out)
	return v.([]prop)
}

// appendObject appends the REST form of the UCM object m under s: what objectFromUCM and a
// round trip through the generated struct produce, without either.
func (c *codec) appendObject(b []byte, s *openapi3.Schema, m map[string]any) []byte {
	b = append(b, '{')
	first := true
	for _, p := range c.props.of(s) {
		mark := len(b)
		if !first {
			b = append(b, ',')
		}
		b = append(b, p.key...)
		raw, present := m[p.name]
		ok := false
		if present {
			b, ok = c.appendValue(b, p.schema, raw)
		}
		if !ok && p.required && !p.schema.Nullable {
			// A generated struct writes a required field's zero value when the unit left it out.
			b, ok = c.appendZero(b, p.schema), true
		}
		if !ok {
			b = b[:mark]
			continue
		}
		first = false
	}
	return append(b, '}')
}

// appendValue appends the REST form of v under s; false means the value does not fit the schema
// and is left out (fromUCM's rule).
func (c *codec) appendValue(b []byte, s *openapi3.Schema, v any) ([]byte, bool) {
	if v != nil {
		switch {
		case s.Type.Is(openapi3.TypeObject):
			m, ok := v.(map[string]any)
			if !ok {
				return b, false
			}
			return c.appendObject(b, s, m), true
		case s.Type.Is(openapi3.TypeArray):
			return c.appendArray(b, s, v)
		}
	}
	return appendScalarFromUCM(b, s, v)
}

// appendScalarFromUCM is fromUCM for a scalar, appended rather than boxed in an interface (a
// profile showed that boxing as one allocation in twenty).
func appendScalarFromUCM(b []byte, s *openapi3.Schema, v any) ([]byte, bool) {
	if x, isStr := v.(string); isStr {
		return appendStringFromUCM(b, s, x)
	}
	switch {
	case v == nil:
		if !s.Nullable {
			return b, false
		}
		return append(b, "null"...), true
	case s.Type.Is(openapi3.TypeBoolean):
		x, ok := ucm.ParseBool(v)
		return strconv.AppendBool(b, x), ok
	case s.Type.Is(openapi3.TypeInteger):
		n, ok := ucm.ParseInt(v)
		return strconv.AppendInt(b, n, 10), ok
	}
	x, ok := fromUCM(s, v)
	if !ok {
		return b, false
	}
	return appendScalar(b, x), true
}

// appendStringFromUCM is appendScalarFromUCM for a string the unit sent.
func appendStringFromUCM(b []byte, s *openapi3.Schema, x string) ([]byte, bool) {
	return appendStringKind(b, s, kindOf(s), x)
}

// appendStringKind is appendStringFromUCM for a schema whose kind is known.
func appendStringKind(b []byte, s *openapi3.Schema, k schemaKind, x string) ([]byte, bool) {
	if k == kindOther {
		k = stringReadingKind(s)
	}
	switch k {
	case kindBoolean:
		v, ok := ucm.ParseBool(x)
		return strconv.AppendBool(b, v), ok
	case kindInteger:
		if strings.TrimSpace(x) == "" {
			if !s.Nullable {
				return b, false
			}
			return append(b, "null"...), true
		}
		n, ok := ucm.ParseInt(x)
		return strconv.AppendInt(b, n, 10), ok
	case kindString:
		if x == "" && s.Nullable && (len(s.Enum) > 0 || s.Pattern != "") {
			return append(b, "null"...), true
		}
		if len(s.Enum) > 0 {
			e, known := enumValue(s.Enum, x)
			if !known {
				return b, false
			}
			x = e
		}
		return fastjson.AppendEscape(b, x, fastjson.EscapeHTML), true
	}
	v, ok := fromUCM(s, x)
	if !ok {
		return b, false
	}
	return appendScalar(b, v), true
}

// stringReadingKind is the kind a string is read as under a schema of no one type: the first
// of boolean, integer and string it allows, as Types.Is finds them.
func stringReadingKind(s *openapi3.Schema) schemaKind {
	switch {
	case s.Type.Is(openapi3.TypeBoolean):
		return kindBoolean
	case s.Type.Is(openapi3.TypeInteger):
		return kindInteger
	case s.Type.Is(openapi3.TypeString):
		return kindString
	}
	return kindOther
}

func (c *codec) appendArray(b []byte, s *openapi3.Schema, v any) ([]byte, bool) {
	items, ok := arrayItems(v)
	if !ok {
		return b, false
	}
	var is *openapi3.Schema
	if s.Items != nil {
		is = s.Items.Value
	}
	b = append(b, '[')
	n := 0
	for _, it := range items {
		mark := len(b)
		if n > 0 {
			b = append(b, ',')
		}
		switch {
		case is == nil:
			b = appendScalar(b, it)
		case it != nil && (is.Type.Is(openapi3.TypeObject) || is.Type.Is(openapi3.TypeArray)):
			if b, ok = c.appendValue(b, is, it); !ok {
				b = b[:mark]
				continue
			}
		case it == nil:
			b = b[:mark] // fromUCM's nil items are left out of a list
			continue
		default:
			if str, isStr := it.(string); isStr && is.Type.Is(openapi3.TypeString) && len(is.Enum) > 0 {
				// The common case (codecs, roles) without inEnum's fmt.Sprint: an enumerated
				// string is in the enum by construction once enumValue found it.
				if _, known := enumValue(is.Enum, str); !known {
					b = b[:mark]
					continue
				}
			} else if cv, ok := fromUCM(is, it); !ok || cv == nil || (len(is.Enum) > 0 && !inEnum(is.Enum, cv)) {
				b = b[:mark]
				continue
			}
			if b, ok = appendScalarFromUCM(b, is, it); !ok {
				b = b[:mark]
				continue
			}
		}
		n++
	}
	return append(b, ']'), true
}

// arrayItems is arrayFromUCM's reading of a list: a JSON array, or the UCM's comma-separated
// string.
func arrayItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case string:
		return splitList(x), true
	}
	return nil, false
}

// appendZero is what a generated struct writes for a required field the unit did not send.
func (c *codec) appendZero(b []byte, s *openapi3.Schema) []byte {
	switch {
	case s.Type.Is(openapi3.TypeString):
		return append(b, `""`...)
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		return append(b, '0')
	case s.Type.Is(openapi3.TypeBoolean):
		return append(b, "false"...)
	case s.Type.Is(openapi3.TypeObject):
		return c.appendObject(b, s, nil)
	}
	return append(b, "null"...)
}

// appendScalar appends a converted value as encoding/json would (HTML characters escaped).
func appendScalar(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case string:
		return fastjson.AppendEscape(b, x, fastjson.EscapeHTML)
	}
	out, err := fastjson.Append(b, v, fastjson.EscapeHTML|fastjson.SortMapKeys)
	if err != nil {
		return append(b, "null"...)
	}
	return out
}

// decodeReply reads a UCM response object into dst once, fast: the strings point into raw,
// which the caller keeps for as long as it uses dst.
func decodeReply(raw []byte, dst any) error {
	rest, err := fastjson.Parse(raw, dst, fastjson.ZeroCopy)
	if err == nil && len(trimSpace(rest)) > 0 {
		return &json.SyntaxError{Offset: int64(len(raw) - len(rest))}
	}
	return err
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// jsonBody is a 200 application/json response whose body is already encoded; it answers for
// the operations that the fast read path serves.
type jsonBody []byte

func (j jsonBody) write(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(j)
	return err
}
