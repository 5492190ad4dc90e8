package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheck is the `ucm-gateway healthcheck` subcommand: it asks a running gateway's /healthz
// and exits non-zero unless it answers 200. Container images built FROM scratch have no shell or
// curl, so the binary checks itself (Dockerfile HEALTHCHECK, compose healthcheck).
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ucm-gateway healthcheck", flag.ContinueOnError)
	fs.SetOutput(stdout)
	listen := fs.String("listen", envOr(getenv, "UCM_GATEWAY_LISTEN", ":8080"), "the gateway's listen `address` (env UCM_GATEWAY_LISTEN); the check goes to its loopback")
	url := fs.String("url", "", "check this `URL` instead of http://<listen>/healthz")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this `duration`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	target := *url
	if target == "" {
		u, err := healthURL(*listen)
		if err != nil {
			return err
		}
		target = u
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", target, resp.StatusCode)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// healthURL turns a listen address (":8080", "0.0.0.0:8080", "[::]:8080", "10.0.0.5:8080") into a
// URL this same host can reach: an unspecified host becomes the IPv4 loopback.
func healthURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("healthcheck: listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
