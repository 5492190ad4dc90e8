package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
)

// keygen prints a new API key and the configuration entry that admits it. The key is shown
// this once; the configuration keeps only its hash.
func keygen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ucm-gateway keygen", flag.ContinueOnError)
	fs.SetOutput(stdout)
	name := fs.String("name", "my-client", "the client's `name`, shown in logs and audit lines")
	scopes := fs.String("scopes", "read", "comma-separated `scopes`: read, write, calls, admin")
	units := fs.String("units", "*", "comma-separated unit `ids`, or * for every unit")
	cookieKey := fs.Bool("cookie-key", false, "print a redis.cookie_key instead (32 random bytes, base64) for the replicas' shared sessions")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *cookieKey {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("keygen: %w", err)
		}
		fmt.Fprintf(stdout, `Cookie key (give every replica the same one, as a secret: it decrypts the units' sessions in Redis):

    %s

redis:
  cookie_key_file: /run/secrets/ucm-gateway-cookie-key   # a file holding the line above
`, base64.StdEncoding.EncodeToString(b))
		return nil
	}
	// The name is pasted into YAML: hold it to the configuration's own rule here, so a newline
	// or ": " cannot produce a broken or altered api_keys entry.
	if !keygenName.MatchString(*name) {
		return errors.New("keygen: --name must be 1 to 64 of A-Z a-z 0-9 . _ -")
	}
	var scopeList []string
	for _, s := range strings.Split(*scopes, ",") {
		sc, err := auth.ParseScope(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("keygen: --scopes: %w", err)
		}
		scopeList = append(scopeList, string(sc))
	}
	var unitList []string
	for _, u := range strings.Split(*units, ",") {
		if u = strings.TrimSpace(u); u != "*" && !keygenUnit.MatchString(u) {
			return fmt.Errorf("keygen: --units: %q is not a unit id ([a-z0-9][a-z0-9-]{0,62}) or *", u)
		}
		unitList = append(unitList, fmt.Sprintf("%q", u))
	}
	key, hash, err := auth.Generate()
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(stdout, `API key (give it to the client; it is not stored anywhere and not shown again):

    %s

Add this to api_keys in the gateway's configuration (to rotate, add the new hash beside the old
one, move the client to the new key, then remove the old hash):

api_keys:
  - name: %s
    hashes:
      - %s
    scopes: [%s]
    units: [%s]
`, key, *name, hash, strings.Join(scopeList, ", "), strings.Join(unitList, ", "))
	return nil
}

var (
	keygenName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	keygenUnit = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)
