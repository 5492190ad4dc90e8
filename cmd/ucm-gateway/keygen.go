package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
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
		unitList = append(unitList, fmt.Sprintf("%q", strings.TrimSpace(u)))
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
