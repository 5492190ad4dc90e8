package config

import (
	"fmt"
	"strings"
)

// Error is what Load returns when the configuration is wrong. It lists every problem, one line each
// naming its place, so the operator fixes the file in one pass instead of one restart per mistake.
type Error struct {
	// Problems are self-contained lines such as `units[1].url: "http://x" must use https (…)`.
	Problems []string
}

// Error joins the problems with newlines.
func (e *Error) Error() string {
	return strings.Join(e.Problems, "\n")
}

// problems collects what is wrong while loading. A place whose value could not be decoded or
// expanded is marked, so validation does not pile a second, misleading complaint on top of it.
type problems struct {
	list   []string
	broken []string
}

// add records a problem at path (a dotted place such as "units[0].tls"; "" for the whole file).
func (p *problems) add(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	p.list = append(p.list, msg)
}

// addAt records a problem that points at a line of the file.
func (p *problems) addAt(line int, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	p.list = append(p.list, fmt.Sprintf("line %d: %s", line, msg))
}

// markBroken notes that path's value is already reported as unusable.
func (p *problems) markBroken(path string) {
	p.broken = append(p.broken, path)
}

// ok reports whether path, and every place that contains it, decoded cleanly.
func (p *problems) ok(path string) bool {
	for _, b := range p.broken {
		if b == "" || path == b || strings.HasPrefix(path, b+".") || strings.HasPrefix(path, b+"[") {
			return false
		}
	}
	return true
}

// err returns the collected problems as an *Error, or nil when there are none.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &Error{Problems: p.list}
}
