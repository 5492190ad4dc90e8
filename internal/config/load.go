package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load turns a YAML document into a checked Config. It expands ${NAME} references in values with
// getenv (NAME matching [A-Za-z_][A-Za-z0-9_]*; a bare "$" is left alone so passwords with "$"
// survive; "$${" yields a literal "${"), decodes strictly (unknown keys are errors), applies
// defaults and validates. readFile reads password_file and ca_file; pass os.ReadFile in production
// and a fake in tests (nil means os.ReadFile; a nil getenv means an empty environment).
//
// When anything is wrong the error is an *Error listing every problem, so one edit fixes them all.
// Secrets (passwords, values from the environment) never appear in it.
func Load(data []byte, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	var p problems
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// A syntax error leaves nothing to check further. Expansion has not happened yet, so the
		// message can only quote the file itself.
		p.add("", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, p.err()
	}
	def := defaults()
	file := fileConfig{Listen: def.Listen, LogLevel: def.LogLevel, Session: def.Session, Server: def.Server, CORS: def.CORS, RateLimit: def.RateLimit, Events: def.Events,
		Redis: defaultRedis(), Metrics: def.Metrics}
	if len(doc.Content) > 0 {
		d := decoder{getenv: getenv, p: &p}
		d.decode(doc.Content[0], reflect.ValueOf(&file).Elem(), "")
	}
	cfg := build(file, readFile, &p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// LoadFile is Load over the named file, reading secrets and CA files from disk. A relative
// password_file or ca_file is taken relative to the configuration file's directory, as Prometheus
// does, so a config directory can be mounted anywhere.
func LoadFile(path string, getenv func(string) string) (*Config, error) {
	return LoadFileWithUnits(path, getenv, "")
}

// LoadFileWithUnits is LoadFile with more units appended to the file's units list before it is
// checked (YAML of a units list, "- id: demo\n  url: …"), so that keys and webhooks in the file
// may name them: --demo --config adds the demo unit this way.
func LoadFileWithUnits(path string, getenv func(string) string, units string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	if units != "" {
		if data, err = appendUnits(data, units); err != nil {
			return nil, err
		}
	}
	dir := filepath.Dir(path)
	readFile := func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return os.ReadFile(name)
	}
	return Load(data, getenv, readFile)
}

// appendUnits adds the units of extra (a YAML sequence) to the document's units list. A document
// that does not parse is returned as it is, for Load to report.
func appendUnits(data []byte, extra string) ([]byte, error) {
	var doc, add yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return data, nil
	}
	if err := yaml.Unmarshal([]byte(extra), &add); err != nil || len(add.Content) == 0 || add.Content[0].Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("config: the units to add are not a YAML list: %v", err)
	}
	if len(doc.Content) == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return data, nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "units" {
			list := root.Content[i+1]
			if list.Kind == yaml.ScalarNode && list.ShortTag() == "!!null" {
				*list = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			}
			if list.Kind != yaml.SequenceNode {
				return data, nil
			}
			list.Content = append(list.Content, add.Content[0].Content...)
			return yaml.Marshal(&doc)
		}
	}
	root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "units"}, add.Content[0])
	return yaml.Marshal(&doc)
}
