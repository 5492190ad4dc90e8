package handlers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// codec converts between the UCM's loose values and the REST types, driven by the OpenAPI schema
// itself: a field the spec declares boolean is read from "yes"/"no" and written back as "yes"/"no",
// an integer from 3 or "3", an array of strings from the UCM's comma-separated list. writeOnly
// fields (secrets) are dropped on the way out. Adding a field to the spec is all it takes to carry
// it, and the spec cannot drift from what the gateway really returns.
type codec struct {
	schemas openapi3.Schemas
	props   propsCache // each object schema's properties in output order (encode.go)
}

func newCodec(spec *openapi3.T) *codec {
	return &codec{schemas: spec.Components.Schemas}
}

// schema returns a named component schema; the names are fixed by our own spec, so a missing one
// is a programming error caught by the tests.
func (c *codec) schema(name string) *openapi3.Schema {
	ref, ok := c.schemas[name]
	if !ok || ref.Value == nil {
		panic("handlers: spec has no schema " + name)
	}
	return ref.Value
}

// fromUCM turns a decoded UCM value into the REST representation described by s. Values that do not
// fit the schema are dropped rather than passed on mistyped: a field is the same type in every reply.
func fromUCM(s *openapi3.Schema, v any) (any, bool) {
	if v == nil {
		return nil, s.Nullable
	}
	switch {
	case s.Type.Is(openapi3.TypeBoolean):
		b, ok := ucm.ParseBool(v)
		return b, ok
	case s.Type.Is(openapi3.TypeInteger):
		if str, isStr := v.(string); isStr && strings.TrimSpace(str) == "" {
			return nil, s.Nullable
		}
		n, ok := ucm.ParseInt(v)
		return n, ok
	case s.Type.Is(openapi3.TypeString):
		switch x := v.(type) {
		case string:
			if x == "" && s.Nullable && (len(s.Enum) > 0 || s.Pattern != "") {
				return nil, true
			}
			if len(s.Enum) > 0 {
				// Firmware does not case enumerated values alike ("SLA"/"sla", FACTS.md): the
				// spec's own spelling is answered, whatever the unit's.
				v, known := enumValue(s.Enum, x)
				if !known {
					return nil, false // a value newer firmware invented: leave it out rather than break the contract
				}
				return v, true
			}
			return x, true
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		case bool:
			return ucm.YesNo(x), true
		}
		return nil, false
	case s.Type.Is(openapi3.TypeArray):
		return arrayFromUCM(s, v)
	case s.Type.Is(openapi3.TypeObject):
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		return objectFromUCM(s, m), true
	}
	return v, true
}

func objectFromUCM(s *openapi3.Schema, m map[string]any) map[string]any {
	out := make(map[string]any, len(s.Properties))
	for name, ref := range s.Properties {
		raw, present := m[name]
		if !present || ref.Value == nil || ref.Value.WriteOnly {
			continue
		}
		if v, ok := fromUCM(ref.Value, raw); ok {
			out[name] = v
		}
	}
	return out
}

func arrayFromUCM(s *openapi3.Schema, v any) (any, bool) {
	items, ok := arrayItems(v)
	if !ok {
		return nil, false
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		if s.Items == nil || s.Items.Value == nil {
			out = append(out, it)
			continue
		}
		if cv, ok := fromUCM(s.Items.Value, it); ok && cv != nil {
			if enum := s.Items.Value.Enum; len(enum) > 0 && !inEnum(enum, cv) {
				continue // an item this gateway cannot describe (newer firmware): leave it out, never mistype it
			}
			out = append(out, cv)
		}
	}
	return out, true
}

// splitList reads the UCM's list-in-a-string ("ulaw,alaw,g722").
func splitList(x string) []any {
	var items []any
	for part := range strings.SplitSeq(x, ",") {
		if part = strings.TrimSpace(part); part != "" {
			items = append(items, part)
		}
	}
	return items
}

// enumValue finds x among a string enum, in any case, and returns the enum's own spelling.
func enumValue(enum []any, x string) (string, bool) {
	for _, e := range enum {
		if es, isStr := e.(string); isStr && strings.EqualFold(es, x) {
			return es, true
		}
	}
	return "", false
}

func inEnum(enum []any, v any) bool {
	for _, e := range enum {
		if fmt.Sprint(e) == fmt.Sprint(v) {
			return true
		}
	}
	return false
}

// toUCM turns a validated REST value into the UCM's wire form: strings for scalars ("yes"/"no",
// "30"), comma-joined lists, nested objects and arrays converted item by item, null kept as null.
func toUCM(s *openapi3.Schema, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		return ucm.YesNo(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case string:
		return x
	case []any:
		if s != nil && s.Items != nil && s.Items.Value != nil && s.Items.Value.Type.Is(openapi3.TypeString) {
			parts := make([]string, len(x))
			for i, it := range x {
				parts[i] = fmt.Sprint(it)
			}
			return strings.Join(parts, ",")
		}
		out := make([]any, len(x))
		for i, it := range x {
			var is *openapi3.Schema
			if s != nil && s.Items != nil {
				is = s.Items.Value
			}
			out[i] = toUCM(is, it)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, it := range x {
			var ps *openapi3.Schema
			if s != nil {
				if ref, ok := s.Properties[k]; ok {
					ps = ref.Value
				}
			}
			out[k] = toUCM(ps, it)
		}
		return out
	}
	return v
}

// paramsFromBody converts a generated request body (already validated by the OpenAPI middleware)
// into UCM parameters. Marshalling the typed body keeps merge-patch nulls (nullable.Nullable) and
// drops absent fields.
func paramsFromBody(s *openapi3.Schema, body any) (map[string]any, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out, _ := toUCM(s, m).(map[string]any)
	return out, nil
}

// decodeInto fills a generated response type from a converted map.
func decodeInto(m any, dst any) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, dst)
}
