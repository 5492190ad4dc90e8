package config

import "strings"

// expansion is the result of expanding one value.
type expansion struct {
	value   string
	changed bool     // a reference or escape was replaced, so the value may hold a secret
	missing []string // referenced names the environment does not set (or sets empty)
	bad     bool     // a "${" that does not form a ${NAME} reference
}

// expand replaces ${NAME} with getenv(NAME). Only that form is recognised, so a bare "$" (common in
// passwords) survives untouched, and "$${" is an escape that yields a literal "${". A "${" that does
// not start a valid reference is reported rather than guessed at: "${FOO:-x}" is shell syntax this
// loader does not speak, and silently keeping it would hand the UCM a wrong password.
func expand(s string, getenv func(string) string) expansion {
	if !strings.Contains(s, "${") {
		return expansion{value: s}
	}
	var b strings.Builder
	x := expansion{changed: true}
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 || !isEnvName(s[i+2:i+2+end]) {
				x.bad = true
				b.WriteString("${")
				i += 2
				continue
			}
			name := s[i+2 : i+2+end]
			v := getenv(name)
			if v == "" {
				x.missing = append(x.missing, name)
			}
			b.WriteString(v)
			i += 2 + end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	x.value = b.String()
	return x
}

// isEnvName reports whether name matches [A-Za-z_][A-Za-z0-9_]*.
func isEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
