package main

import (
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"
)

// newLogHandler writes JSON lines for machines (containers, log shippers) or, for a person at a
// terminal, slog's text lines, which read at a glance.
func newLogHandler(w io.Writer, level slog.Leveler, text bool) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if text {
		return slog.NewTextHandler(w, opts)
	}
	return slog.NewJSONHandler(w, opts)
}

// humanLogs decides the log format: text only for the demo, and only when its output is a
// terminal. A gateway serving real units always logs JSON, whatever it runs on, so its log
// pipeline never meets a second format.
func humanLogs(demo bool, w io.Writer) bool {
	f, isFile := w.(*os.File)
	return demo && isFile && term.IsTerminal(int(f.Fd()))
}
