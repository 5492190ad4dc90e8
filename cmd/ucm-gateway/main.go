// Command ucm-gateway serves a REST API in front of Grandstream UCM IP-PBX units.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	// The tz database inside the binary: units' timezone names resolve in a scratch container,
	// which has no /usr/share/zoneinfo.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ucm-gateway:", err)
		os.Exit(1)
	}
}
