package main

import (
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// A unit's timezone must resolve in the scratch container, which has no /usr/share/zoneinfo:
// the binary carries the tz database itself. This machine has one, so the import cannot be
// proven by loading a zone; it is checked where it lives.
func TestBinaryEmbedsTheTimeZoneDatabase(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		if path, _ := strconv.Unquote(imp.Path.Value); path == "time/tzdata" {
			return
		}
	}
	t.Error(`main.go does not import _ "time/tzdata": units' time zones would not resolve in a container built FROM scratch`)
}
