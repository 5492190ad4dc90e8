package config

import (
	"slices"
	"testing"
)

func TestExpand(t *testing.T) {
	env := fakeEnv(map[string]string{"A": "1", "_b2": "two", "EMPTY": ""})
	tests := []struct {
		in          string
		want        string
		wantMissing []string
		wantBad     bool
	}{
		{in: "plain", want: "plain"},
		{in: "$A $ $$ a$", want: "$A $ $$ a$"},
		{in: "${A}", want: "1"},
		{in: "x${A}y${_b2}z", want: "x1ytwoz"},
		{in: "$${A}", want: "${A}"},
		{in: "$$${A}", want: "$${A}"},
		{in: "${MISSING}-${EMPTY}", want: "-", wantMissing: []string{"MISSING", "EMPTY"}},
		{in: "${1A}", want: "${1A}", wantBad: true},
		{in: "${A", want: "${A", wantBad: true},
		{in: "${}", want: "${}", wantBad: true},
		{in: "${A:-x}", want: "${A:-x}", wantBad: true},
	}
	for _, tt := range tests {
		got := expand(tt.in, env)
		if got.value != tt.want || !slices.Equal(got.missing, tt.wantMissing) || got.bad != tt.wantBad {
			t.Errorf("expand(%q) = %q missing %q bad %t; want %q missing %q bad %t",
				tt.in, got.value, got.missing, got.bad, tt.want, tt.wantMissing, tt.wantBad)
		}
	}
}
