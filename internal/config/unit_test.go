package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestUnitNeverShowsPassword(t *testing.T) {
	u := Unit{ID: "hq", URL: "https://ucm", Username: "api", Password: "hunter2", TLS: TLS{PinSHA256: "ab"}}
	cfg := Config{Units: []Unit{u}}

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("unit", "unit", u, "config", cfg)
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("unit", "unit", u, "config", cfg)
	encoded, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}

	shown := map[string]string{
		"String":    u.String(),
		"%v":        fmt.Sprintf("%v", u),
		"%+v":       fmt.Sprintf("%+v", u),
		"%#v":       fmt.Sprintf("%#v", u),
		"%v config": fmt.Sprintf("%v", cfg),
		"%+v &cfg":  fmt.Sprintf("%+v", &cfg),
		"%#v cfg":   fmt.Sprintf("%#v", cfg),
		"slog":      logged.String(),
		"slog text": text.String(),
		"json":      string(encoded),
	}
	for how, s := range shown {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%s = %s; leaks the password", how, s)
		}
		if !strings.Contains(s, "hq") {
			t.Errorf("%s = %s; want the unit id shown", how, s)
		}
	}
	if !strings.Contains(logged.String(), `"unit":{"id":"hq","url":"https://ucm","username":"api","tls":{`) {
		t.Errorf("slog output = %s; want the unit as a group without password", logged.String())
	}
}

func TestRedacted(t *testing.T) {
	u := Unit{ID: "hq", Password: "hunter2"}
	if got := u.Redacted(); got.Password != "REDACTED" || got.ID != "hq" {
		t.Errorf("Redacted() = %#v, password %q; want password REDACTED", got, got.Password)
	}
	if u.Password != "hunter2" {
		t.Errorf("Redacted changed the original: %q", u.Password)
	}
	if got := (Unit{ID: "hq"}).Redacted().Password; got != "" {
		t.Errorf("Redacted() of an empty password = %q; want it still empty", got)
	}
}
