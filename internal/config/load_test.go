package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("hq.secret", "from-disk\n")
	write("hq.pem", string(testCertPEM(t)))
	write("gateway.yaml", `
listen: ${LISTEN}
units:
  - id: hq
    url: https://ucm:8089
    username: api
    password_file: hq.secret
    tls:
      ca_file: hq.pem
`)

	path := filepath.Join(dir, "gateway.yaml")
	c, err := LoadFile(path, fakeEnv(map[string]string{"LISTEN": ":9000"}))
	if err != nil {
		t.Fatalf("LoadFile(%q) error: %v", path, err)
	}
	if u := c.Units[0]; c.Listen != ":9000" || u.Password != "from-disk" || len(u.TLS.CAPEM) == 0 {
		t.Errorf("LoadFile(%q) = listen %q, unit %v, password %q, %d CA bytes; want files read beside the config",
			path, c.Listen, u, u.Password, len(u.TLS.CAPEM))
	}

	if _, err := LoadFile(filepath.Join(dir, "absent.yaml"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadFile(absent) error = %v; want fs.ErrNotExist", err)
	}
}
