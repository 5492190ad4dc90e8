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
	file := fileConfig{Listen: def.Listen, LogLevel: def.LogLevel, Session: def.Session, Server: def.Server, CORS: def.CORS, RateLimit: def.RateLimit, Events: def.Events}
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
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
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
