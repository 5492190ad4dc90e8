package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"syscall"
)

// subcommands are the words that may follow the program name, with what each does.
var subcommands = [][2]string{
	{"keygen", "make an API key and print the api_keys entry that admits it (--cookie-key: a redis.cookie_key)"},
	{"healthcheck", "exit 0 if a running gateway's /healthz answers 200 (container health checks)"},
	{"help", "print this help"},
}

// printUsage is --help (and `ucm-gateway help`): the subcommands first, then the flags.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "ucm-gateway: a REST API in front of Grandstream UCM IP-PBXs.\n\nUsage:\n")
	fmt.Fprintf(w, "  ucm-gateway [flags]               serve the API (--config FILE, or --demo to try it without a PBX)\n")
	for _, sc := range subcommands {
		words := sc[0] + " [flags]"
		if sc[0] == "help" {
			words = sc[0]
		}
		fmt.Fprintf(w, "  ucm-gateway %-22s%s\n", words, sc[1])
	}
	fmt.Fprintf(w, "\n`ucm-gateway <subcommand> --help` lists a subcommand's flags.\n\nFlags:\n")
	fs.PrintDefaults()
}

// isSubcommand reports whether word names a subcommand.
func isSubcommand(word string) bool {
	return slices.ContainsFunc(subcommands, func(sc [2]string) bool { return sc[0] == word })
}

// strayArgs explains arguments left over after the flags: the gateway takes none, and a word
// that was silently ignored (a misspelt subcommand, a flag value without its flag) would start
// something other than what was asked for.
func strayArgs(prog string, args []string, first bool) error {
	word := args[0]
	switch {
	case isSubcommand(word):
		return fmt.Errorf("%q is a subcommand: it comes first (%s %s …); see %s --help", word, prog, word, prog)
	case first && !strings.HasPrefix(word, "-"):
		names := make([]string, 0, len(subcommands))
		for _, sc := range subcommands {
			names = append(names, sc[0])
		}
		return fmt.Errorf("unknown subcommand %q: the subcommands are %s (see %s --help)", word, strings.Join(names, ", "), prog)
	}
	return fmt.Errorf("unexpected argument %q: flags take the form --name value; see %s --help", word, prog)
}

// noArgs refuses arguments after a subcommand's flags.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() == 0 {
		return nil
	}
	return fmt.Errorf("%s: unexpected argument %q (see %s --help)", fs.Name(), fs.Arg(0), fs.Name())
}

// missingConfig turns "no such file" into what a newcomer needs: how to try the demo, and how
// to make a configuration.
func missingConfig(path string, err error) error {
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return fmt.Errorf(`no configuration file %s (%w).
  To try the gateway without a PBX: ucm-gateway --demo   (or, in the source tree: make run)
  To serve your units: cp ucm-gateway.example.yaml ucm-gateway.yaml, fill in your units, add a
  key from "ucm-gateway keygen", and start again (--config FILE or UCM_GATEWAY_CONFIG names
  another file)`, path, err)
}

// busyPort explains a listen address already in use, and how to choose another.
func busyPort(addr string, err error) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	return fmt.Errorf(`cannot listen on %s: the address is in use (another gateway, or another program, listens there).
  Choose another: --listen 127.0.0.1:8081, or UCM_GATEWAY_LISTEN=127.0.0.1:8081,
  or with make: make run ARGS="--listen 127.0.0.1:8081"`, addr)
}
