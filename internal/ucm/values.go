package ucm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Int decodes a number the UCM may send as 3, "3", 3.0 or null: replies mix numbers and numeric
// strings for the same field across actions and firmware.
type Int struct {
	Value int64
	Valid bool // false for null, "" or absent
}

// UnmarshalJSON accepts a JSON number, a numeric string, "" and null.
func (i *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*i = Int{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			*i = Int{}
			return nil
		}
		b = []byte(strings.TrimSpace(s))
	}
	n, ok := ParseInt(json.Number(b))
	if !ok {
		return fmt.Errorf("ucm: %q is not an integer", truncate(string(b), 20))
	}
	*i = Int{Value: n, Valid: true}
	return nil
}

// IntPtr is the value as *int, nil when absent.
func (i *Int) IntPtr() *int {
	if i == nil || !i.Valid {
		return nil
	}
	v := int(i.Value)
	return &v
}

// ParseInt reads an integer from any JSON-decoded value: float64, json.Number, a numeric string.
// Integral floats ("3.0") are accepted because some firmware formats counters that way.
func ParseInt(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		// Beyond int64 (12345678901234567890 arrives as a float) is not a number we can answer:
		// int64(x) would wrap it to a wrong one.
		if x != math.Trunc(x) || x < -(1<<63) || x >= 1<<63 {
			return 0, false
		}
		return int64(x), true
	case int:
		return int64(x), true
	case int64:
		return x, true
	case json.Number:
		return ParseInt(string(x))
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return ParseInt(f)
		}
	}
	return 0, false
}

// ParseBool reads the UCM's yes/no flags (and true/false, 1/0, on/off seen on some fields).
func ParseBool(v any) (value, ok bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "yes", "true", "1", "on", "enabled":
			return true, true
		case "no", "false", "0", "off", "disabled":
			return false, true
		}
	case float64:
		if x == 0 || x == 1 {
			return x == 1, true
		}
	}
	return false, false
}

// YesNo is the wire form of a boolean parameter.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
