package ucmsim

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Parameters arrive loosely typed: usually strings ("30"), sometimes JSON
// numbers. These helpers accept both, as the real unit does.

// paramString returns v as a string when it is a string or a number.
func paramString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	}
	return "", false
}

// paramInt returns v as an integer when it is an integral number or a
// string holding one.
func paramInt(v any) (int, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		s = x.String()
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1e15 {
			return 0, false
		}
		return int(x), true
	case int:
		return x, true
	default:
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false
	}
	return n, true
}

// isNullWord reports whether v is the literal "null" the guide allows for
// nullable fields such as ring_timeout.
func isNullWord(v any) bool {
	s, isStr := v.(string)
	return isStr && strings.EqualFold(strings.TrimSpace(s), "null")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDialString accepts what a phone can dial: digits and + * # -.
func isDialString(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9') && !strings.ContainsRune("+*#-", c) {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// isPrintable accepts visible ASCII without spaces (passwords).
func isPrintable(s string) bool {
	for _, c := range s {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// isText accepts any text without control characters (names, MoH class).
func isText(s string) bool {
	for _, c := range s {
		if c < ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneValue(e)
		}
		return m
	case []map[string]any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = cloneValue(e)
		}
		return s
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = cloneValue(e)
		}
		return s
	}
	return v
}

func cloneMap(m map[string]any) map[string]any { return cloneValue(m).(map[string]any) }
