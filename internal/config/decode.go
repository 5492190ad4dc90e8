package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// fileConfig is the file's shape. Defaults are filled in before decoding, so a key the file leaves
// out keeps its default.
type fileConfig struct {
	Listen    string        `yaml:"listen"`
	LogLevel  string        `yaml:"log_level"`
	Units     []fileUnit    `yaml:"units"`
	Session   Session       `yaml:"session"`
	Server    Server        `yaml:"server"`
	APIKeys   []APIKey      `yaml:"api_keys"`
	CORS      CORS          `yaml:"cors"`
	RateLimit RateLimit     `yaml:"rate_limit"`
	Webhooks  []fileWebhook `yaml:"webhooks"`
	Events    Events        `yaml:"events"`
	Redis     fileRedis     `yaml:"redis"`
	Metrics   Metrics       `yaml:"metrics"`
}

// fileUnit is a unit as written: the secret is named, not yet resolved.
type fileUnit struct {
	ID           string  `yaml:"id"`
	URL          string  `yaml:"url"`
	Username     string  `yaml:"username"`
	Password     string  `yaml:"password"`
	PasswordFile string  `yaml:"password_file"`
	TLS          fileTLS `yaml:"tls"`
	// Events, when present, is the web user for the unit's live-event socket.
	Events   *fileEvents `yaml:"events"`
	TimeZone string      `yaml:"timezone"`
}

// fileTLS is a unit's tls block as written: a CA file is named, not yet read.
type fileTLS struct {
	CAFile             string `yaml:"ca_file"`
	PinSHA256          string `yaml:"pin_sha256"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	LegacyRSAKex       bool   `yaml:"legacy_rsa_kex"`
}

// decoder walks the YAML node tree beside the target struct instead of handing the whole document
// to yaml.v3. That way every problem names its place (units[1].tls.pin_sha256) as well as its line,
// ${ENV} is expanded in values after parsing (so a secret holding "#" or ": " is never re-read as
// YAML), and a value that came from the environment is never echoed in a message.
type decoder struct {
	getenv func(string) string
	p      *problems
}

var durationType = reflect.TypeFor[time.Duration]()

// decode stores node n into v, reporting what does not fit. A null value keeps the default.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.Pointer: // an optional block: present in the file, so it exists
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

// mapping decodes a YAML mapping into a struct, refusing unknown and repeated keys: a misspelt key
// that silently fell back to a default would be found only in production.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.broken(n.Line, path, "must be a mapping of keys, not %s", describe(n))
		return
	}
	fields, known := yamlFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		at := k.Value
		if path != "" {
			at = path + "." + k.Value
		}
		if first, dup := seen[k.Value]; dup {
			d.broken(k.Line, at, "is set twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			d.p.addAt(k.Line, path, "unknown key %q (known keys: %s)", k.Value, known)
			continue
		}
		d.decode(val, v.Field(idx), at)
	}
}

// sequence decodes a YAML list into a slice.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.broken(n.Line, path, "must be a list, not %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		d.decode(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// scalar expands ${ENV} in a single value and stores it. Strings take the expanded text as is;
// other types let yaml.v3 resolve it, so `max_in_flight: ${N}` works as if the number were written.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.broken(n.Line, path, "must be %s, not %s", want(v.Type()), describe(n))
		return
	}
	x := expand(n.Value, d.getenv)
	if x.bad {
		d.p.add(path, `has a "${" that is not a ${NAME} reference (write "$${" for a literal "${")`)
		d.p.markBroken(path)
		return
	}
	for _, name := range x.missing {
		d.p.add(path, "${%s} is not set in the environment", name)
		d.p.markBroken(path)
	}
	if len(x.missing) > 0 {
		return
	}
	if v.Kind() == reflect.String {
		v.SetString(x.value)
		return
	}
	// A fresh, untagged node resolves from the text alone, so a quoted "8" or an expanded value
	// decodes like a plain 8.
	node := &yaml.Node{Kind: yaml.ScalarNode, Value: x.value}
	if err := node.Decode(v.Addr().Interface()); err != nil {
		if x.changed {
			// The expanded text may be a secret put in the wrong place; show only the reference.
			d.broken(n.Line, path, "must be %s; %s does not expand to one", want(v.Type()), n.Value)
		} else {
			d.broken(n.Line, path, "must be %s, not %q", want(v.Type()), n.Value)
		}
	}
}

// broken records a problem at a line and marks path as unusable, so validation stays quiet about it.
func (d *decoder) broken(line int, path, format string, args ...any) {
	d.p.addAt(line, path, format, args...)
	d.p.markBroken(path)
}

// yamlFields maps a struct's yaml keys to field indexes, and lists them for messages.
func yamlFields(t reflect.Type) (map[string]int, string) {
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = i
		names = append(names, name)
	}
	return fields, strings.Join(names, ", ")
}

// want describes the kind of value a field takes, in the operator's terms.
func want(t reflect.Type) string {
	switch {
	case t == durationType:
		return `a duration such as "90s" or "10m"`
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number"
	default:
		return "a single value"
	}
}

// describe names what the file has at a node, for "must be X, not Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}
