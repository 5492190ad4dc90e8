package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/config"
)

// access is who may call the gateway, as decided at start.
type access struct {
	keys  *auth.Keyring
	open  bool   // --demo --insecure-no-auth
	demo  string // the demo key (printed once, in the banner; never logged)
	fixed bool   // the demo key came from UCM_GATEWAY_DEMO_KEY
	audit *slog.Logger
}

// setUpAccess builds the key ring from the configuration. A gateway that can place calls must
// never start open by accident: without keys only --demo starts, and then with a key of its own
// unless --insecure-no-auth says otherwise (warned about at every start).
func setUpAccess(cfg *config.Config, demo, insecure bool, getenv func(string) string, logger *slog.Logger) (access, error) {
	keys := configKeys(cfg)
	var acc access
	switch {
	case insecure:
		logger.Warn("AUTHENTICATION IS OFF (--insecure-no-auth): anyone who can reach this port can read, change and dial through every unit; use this only on a machine of your own")
		acc.open = true
	case demo:
		key := getenv("UCM_GATEWAY_DEMO_KEY")
		if key != "" {
			if len(key) < 16 || len(key) > 200 || strings.ContainsFunc(key, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsGraphic(r) || r == ' ' }) {
				return access{}, errors.New("UCM_GATEWAY_DEMO_KEY must be 16 to 200 printable ASCII characters without spaces (the value is not shown)")
			}
			acc.fixed, acc.demo = true, key
		} else {
			var err error
			if key, _, err = auth.Generate(); err != nil {
				return access{}, err
			}
			acc.demo = key
		}
		// The demo key reaches the simulator only: with --config beside --demo, real units stay
		// behind the configured keys.
		keys = append(keys, auth.Key{Name: "demo", Hashes: []string{auth.Hash(key)}, Scopes: auth.AllScopes, Units: []string{"demo"}})
	case len(keys) == 0:
		return access{}, errors.New("no api_keys in the configuration: the gateway would be open to anyone who can reach it; create a key with `ucm-gateway keygen` and add the printed entry")
	}
	if !acc.open {
		kr, err := auth.NewKeyring(keys)
		if err != nil {
			return access{}, err
		}
		acc.keys = kr
	}
	return acc, nil
}

// configKeys are the configuration's API keys as the key ring takes them.
func configKeys(cfg *config.Config) []auth.Key {
	keys := make([]auth.Key, 0, len(cfg.APIKeys)+1)
	for _, k := range cfg.APIKeys {
		scopes := make([]auth.Scope, len(k.Scopes))
		for i, s := range k.Scopes {
			scopes[i] = auth.Scope(s)
		}
		keys = append(keys, auth.Key{Name: k.Name, Hashes: k.Hashes, Scopes: scopes, Units: k.Units, RateLimit: k.RateLimit})
	}
	return keys
}

// printDemoBanner shows the newcomer how to call the demo. It writes plain lines, not log
// records: the demo key is meant to be copied from here, and must never be in a log line.
//
// For a key from UCM_GATEWAY_DEMO_KEY, a person at a terminal gets the key itself in the export
// line, quoted for the shell, so the line works pasted into a new shell (where the variable, set
// for the demo's own command only, is not set). Anywhere else stdout is a log stream (a
// container, CI), whose reader set the key and has it: the line names the variable instead, so
// a key the operator chose is not copied into logs. The key admits to the simulator only.
func printDemoBanner(w io.Writer, acc access, try string, terminal bool) {
	switch {
	case acc.open:
		fmt.Fprintf(w, "\nucm-gateway demo, WITHOUT authentication. Try:\n\n    %s\n\n", try)
	case acc.fixed:
		export := `"$UCM_GATEWAY_DEMO_KEY"`
		if terminal {
			export = shellQuote(acc.demo)
		}
		fmt.Fprintf(w, "\nucm-gateway demo: the API key is the one in UCM_GATEWAY_DEMO_KEY (every scope, unit demo). In another shell:\n\n    export UCM_GATEWAY_KEY=%s\n    %s\n\n", export, try)
	default:
		fmt.Fprintf(w, "\nucm-gateway demo: this run's API key (every scope, unit demo). In another shell:\n\n    export UCM_GATEWAY_KEY=%s\n    %s\n\n", acc.demo, try)
	}
}

// shellQuote quotes s for a POSIX shell: inside single quotes nothing is special but the quote
// itself, which is written by closing the quotes, adding a backslash-escaped quote and reopening.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
