package handlers

import (
	"bytes"
	"strconv"
	"strings"
	"unsafe"

	"github.com/getkin/kin-openapi/openapi3"
	fastjson "github.com/segmentio/encoding/json"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
)

// The extension read's fast path: the getSIPAccount reply is transcoded straight from its bytes
// to the REST document, with no map in between. Each object's members are found by a scan of
// the (already validated) reply and kept as byte ranges in a slot per schema property, then
// written in the schema's order by the same rules as appendObject. Decoding the reply into maps
// was half of the read's allocations and a fifth of the gateway's CPU in a profile of
// BenchmarkGatewayHop.
//
// It reads only what it is sure of: plain ASCII strings, literals, integers, objects and lists
// of objects. Any other value is decoded on its own and written by appendValue, and a reply it
// cannot read member by member (an escaped key, a repeated top-level object, a shape the old
// path would refuse) makes it decline, so the decoded path answers, errors included. A
// differential test and fuzz target hold the two paths to the same bytes.

// maxSlots is the most properties an object schema may have for its slots to live on the
// stack; bigger schemas get a slice.
const maxSlots = 160

// propIndex is an object schema's properties in output order and by name.
type propIndex struct {
	props  []prop
	byName map[string]int
}

func (c *propsCache) index(s *openapi3.Schema) *propIndex {
	if v, ok := c.idx.Load(s); ok {
		return v.(*propIndex)
	}
	props := c.of(s)
	pi := &propIndex{props: props, byName: make(map[string]int, len(props))}
	for i, p := range props {
		pi.byName[p.name] = i
	}
	v, _ := c.idx.LoadOrStore(s, pi)
	return v.(*propIndex)
}

// slots are one slot per property: on the caller's stack (stack), unless the schema has more
// properties than it holds.
func (pi *propIndex) slots(stack *[maxSlots][]byte) [][]byte {
	if len(pi.props) > maxSlots {
		return make([][]byte, len(pi.props))
	}
	return stack[:len(pi.props)]
}

// appendExtensionReply writes the REST extension for getSIPAccount's response object raw, as
// extensionReply and appendObject would; false means it declined and wrote nothing.
func (c *codec) appendExtensionReply(b []byte, raw []byte) ([]byte, bool) {
	if !fastjson.Valid(raw) {
		return b, false
	}
	s := c.schema("Extension")
	pi := c.props.index(s)
	var stack [maxSlots][]byte
	slots := pi.slots(&stack)
	var ext, presence, voicemail, cti []byte
	var seen [4]bool
	sc, ok := newObjScan(raw, 0)
	if !ok {
		return b, false
	}
	for {
		key, more, plain := sc.key()
		if !more {
			break
		}
		if !plain {
			return b, false
		}
		// A decoder matches a struct's fields in any case, as extensionFromReply's does.
		n := -1
		k := bytesString(key)
		switch {
		case strings.EqualFold(k, "extension"):
			n = 0
			if raw[sc.i] == '{' { // read into the slots as it is scanned: one pass
				start := sc.i
				end, plain := fillSlots(pi, raw, start, slots)
				if !plain {
					return b, false
				}
				sc.i = skipWS(raw, end)
				ext = raw[start:end]
			} else {
				ext = sc.value()
			}
		case strings.EqualFold(k, "sip_presence_settings"):
			n, presence = 1, sc.value()
		case strings.EqualFold(k, "voicemail"):
			n, voicemail = 2, sc.value()
		case strings.EqualFold(k, "cti_feature_privilege"):
			n, cti = 3, sc.value()
		default:
			sc.value()
		}
		if n >= 0 {
			if seen[n] { // the decoder would merge repeats into one map: leave that to it
				return b, false
			}
			seen[n] = true
		}
	}
	if len(ext) == 0 || ext[0] != '{' {
		return b, false // no extension object (or null): the decoded path says so
	}
	// The decoded path decodes voicemail and CTI into maps made beforehand, so an absent one is
	// an empty object and a null one leaves the extension's own member, if any.
	for _, v := range [][]byte{voicemail, cti} {
		if len(v) > 0 && v[0] != '{' && v[0] != 'n' {
			return b, false
		}
	}
	if len(presence) > 0 && presence[0] != '[' && presence[0] != 'n' {
		return b, false
	}
	set := func(name string, v []byte) {
		if i, ok := pi.byName[name]; ok {
			slots[i] = v
		}
	}
	if len(presence) > 0 && presence[0] != 'n' {
		set("sip_presence_settings", presence)
	}
	sibling := func(name string, v []byte) {
		switch {
		case len(v) == 0:
			set(name, emptyObject)
		case v[0] != 'n':
			set(name, v)
		}
	}
	sibling("voicemail", voicemail)
	sibling("cti_feature_privilege", cti)
	tr := transcoder{c: c}
	b = tr.appendSlots(b, pi, slots)
	return b, !tr.declined
}

// transcoder carries one transcoding: declined is set where a value is one the decoded path
// would refuse the whole reply for (a number beyond float64), so the caller declines too.
type transcoder struct {
	c        *codec
	declined bool
}

var emptyObject = []byte("{}")

// fillSlots puts each member of the object at raw[start:] whose name is a property into that
// property's slot (a repeated member: the last, as a decoder keeps) and returns the index just
// past the object; plain is false for a key it cannot read plainly.
func fillSlots(pi *propIndex, raw []byte, start int, slots [][]byte) (end int, plain bool) {
	sc, ok := newObjScan(raw, start)
	if !ok {
		return 0, false
	}
	next := 0
	for {
		key, more, plain := sc.key()
		if !more {
			return sc.end(), true
		}
		if !plain {
			return 0, false
		}
		val := sc.value()
		// Replies list their members in the schema's (alphabetical) order, or close to it:
		// the property after the last one found is tried before the map.
		if next < len(pi.props) && pi.props[next].name == bytesString(key) {
			slots[next] = val
			next++
		} else if i, ok := pi.byName[bytesString(key)]; ok {
			slots[i] = val
			next = i + 1
		}
	}
}

// appendSlots is appendObject over raw member values.
func (tr *transcoder) appendSlots(b []byte, pi *propIndex, slots [][]byte) []byte {
	b = append(b, '{')
	first := true
	for i, p := range pi.props {
		mark := len(b)
		if !first {
			b = append(b, ',')
		}
		b = append(b, p.key...)
		ok := false
		if v := slots[i]; len(v) > 0 {
			b, ok = tr.appendRawValue(b, p.schema, p.kind, v)
		}
		if !ok && p.required && !p.schema.Nullable {
			b, ok = tr.c.appendZero(b, p.schema), true
		}
		if !ok {
			b = b[:mark]
			continue
		}
		first = false
	}
	return append(b, '}')
}

// appendRawObject is appendObject for a raw JSON object; false if a key is not plain.
func (tr *transcoder) appendRawObject(b []byte, s *openapi3.Schema, raw []byte) ([]byte, bool) {
	out, _, ok := tr.appendRawObjectAt(b, s, raw, 0)
	return out, ok
}

// appendRawObjectAt is appendRawObject for the object at raw[start:]; end is the index just
// past it.
func (tr *transcoder) appendRawObjectAt(b []byte, s *openapi3.Schema, raw []byte, start int) (out []byte, end int, ok bool) {
	pi := tr.c.props.index(s)
	var stack [maxSlots][]byte
	slots := pi.slots(&stack)
	end, ok = fillSlots(pi, raw, start, slots)
	if !ok {
		return b, 0, false
	}
	return tr.appendSlots(b, pi, slots), end, true
}

// appendRawValue is appendValue for one raw JSON value v under s, whose kind is k.
func (tr *transcoder) appendRawValue(b []byte, s *openapi3.Schema, k schemaKind, v []byte) ([]byte, bool) {
	switch v[0] {
	case 'n':
		return appendScalarFromUCM(b, s, nil)
	case '"':
		str, plain := plainString(v)
		if !plain || k == kindOther {
			break
		}
		switch k {
		case kindObject:
			return b, false
		case kindArray:
			return tr.c.appendList(b, s, str)
		}
		return appendStringKind(b, s, k, str)
	case 't', 'f':
		if k == kindBoolean {
			return append(b, v...), true
		}
	case '{':
		if k != kindObject {
			break
		}
		if out, ok := tr.appendRawObject(b, s, v); ok {
			return out, true
		}
	case '[':
		if out, ok, done := tr.appendRawArray(b, s, v); done {
			return out, ok
		}
	default: // a number
		f, err := strconv.ParseFloat(bytesString(v), 64)
		if err != nil { // beyond float64: the decoder refuses the reply
			tr.declined = true
			return b, false
		}
		if k == kindInteger {
			n, ok := ucm.ParseInt(f)
			return strconv.AppendInt(b, n, 10), ok
		}
	}
	return tr.appendDecoded(b, s, v)
}

// appendDecoded decodes one raw value and writes it by the decoded path's rules.
func (tr *transcoder) appendDecoded(b []byte, s *openapi3.Schema, v []byte) ([]byte, bool) {
	var x any
	if err := decodeReply(v, &x); err != nil {
		tr.declined = true
		return b, false
	}
	return tr.c.appendValue(b, s, x)
}

// appendRawArray is appendArray for a raw JSON array of objects under an array-of-objects
// schema (sip_presence_settings); done is false for any other array, which the caller decodes.
func (tr *transcoder) appendRawArray(b []byte, s *openapi3.Schema, raw []byte) (out []byte, ok, done bool) {
	if !s.Type.Is(openapi3.TypeArray) || s.Items == nil || s.Items.Value == nil || !s.Items.Value.Type.Is(openapi3.TypeObject) {
		return b, false, false
	}
	is := s.Items.Value
	start := len(b)
	b = append(b, '[')
	n := 0
	i := skipWS(raw, 1)
	for i < len(raw) && raw[i] != ']' {
		var end int
		if raw[i] == '{' { // anything else is not an object: left out, as appendArray does
			if n > 0 {
				b = append(b, ',')
			}
			var plain bool
			if b, end, plain = tr.appendRawObjectAt(b, is, raw, i); !plain {
				return b[:start], false, false
			}
			n++
		} else {
			end = valueEnd(raw, i)
		}
		i = skipWS(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipWS(raw, i+1)
		}
	}
	return append(b, ']'), true, true
}

// appendList is appendArray over the UCM's comma-separated list str, for lists of strings (the
// codecs); any other item schema takes the decoded path's splitList.
func (c *codec) appendList(b []byte, s *openapi3.Schema, str string) ([]byte, bool) {
	var is *openapi3.Schema
	if s.Items != nil {
		is = s.Items.Value
	}
	if is != nil && !is.Type.Is(openapi3.TypeString) {
		return c.appendArray(b, s, str)
	}
	b = append(b, '[')
	n := 0
	for len(str) > 0 {
		part := str
		if j := strings.IndexByte(str, ','); j >= 0 {
			part, str = str[:j], str[j+1:]
		} else {
			str = ""
		}
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		mark := len(b)
		if n > 0 {
			b = append(b, ',')
		}
		if is == nil {
			b = fastjson.AppendEscape(b, part, fastjson.EscapeHTML)
		} else {
			if len(is.Enum) > 0 {
				if _, known := enumValue(is.Enum, part); !known {
					b = b[:mark]
					continue
				}
			}
			var ok bool
			if b, ok = appendStringKind(b, is, kindOf(is), part); !ok {
				b = b[:mark]
				continue
			}
		}
		n++
	}
	return append(b, ']'), true
}

// plainString returns the content of the JSON string v if it needs no decoding: printable
// ASCII without escapes (anything else is left to the decoder, which knows UTF-8).
func plainString(v []byte) (string, bool) {
	body := v[1 : len(v)-1]
	for _, ch := range body {
		if ch == '\\' || ch < 0x20 || ch > 0x7e {
			return "", false
		}
	}
	return bytesString(body), true
}

// bytesString views b as a string without copying; the string must not outlive b's use here.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// objScan walks the members of one valid JSON object: key, then value (or the caller reads
// the value at i itself and moves i past it).
type objScan struct {
	b []byte
	i int
}

func newObjScan(raw []byte, start int) (objScan, bool) {
	i := skipWS(raw, start)
	if i >= len(raw) || raw[i] != '{' {
		return objScan{}, false
	}
	return objScan{b: raw, i: skipWS(raw, i+1)}, true
}

// key returns the next member's name and moves to its value; more is false at the object's
// end, plain false for a name that would need decoding.
func (s *objScan) key() (key []byte, more, plain bool) {
	b, i := s.b, s.i
	if i >= len(b) || b[i] == '}' {
		return nil, false, true
	}
	if b[i] == ',' {
		i = skipWS(b, i+1)
	}
	kEnd := stringEnd(b, i)
	k := b[i:kEnd]
	_, plain = plainString(k)
	i = skipWS(b, kEnd)
	s.i = skipWS(b, i+1) // past the colon
	return k[1 : len(k)-1], true, plain
}

// value returns the member's value and moves past it.
func (s *objScan) value() []byte {
	end := valueEnd(s.b, s.i)
	v := s.b[s.i:end]
	s.i = skipWS(s.b, end)
	return v
}

// end is the index just past the object, once key has said there is no more.
func (s *objScan) end() int { return s.i + 1 }

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// valueEnd is the index just past the valid JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	return j
}

// stringEnd is the index just past the JSON string whose opening quote is b[i]: the next
// quote not escaped (an odd run of backslashes before it escapes it).
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			break
		}
		j += q
		k := j
		for k > i+1 && b[k-1] == '\\' {
			k--
		}
		if (j-k)%2 == 0 {
			return j + 1
		}
		j++
	}
	return len(b)
}
