package calls

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

func TestRingingDestinationType(t *testing.T) {
	exts := map[string]bool{"1001": true}
	tests := []struct {
		number string
		exts   map[string]bool
		want   string // "" for untyped
	}{
		{"1001", exts, "extension"},
		{"1001", nil, ""},
		{"6500", exts, ""}, // a queue, an IVR or a ring group: the lists do not say
		{"+15551234567", nil, "external"},
		{"0049301234567890123", nil, "external"}, // 19 digits: no extension is that long
		{"0612345678", exts, ""},
		{"*97", exts, ""},
		{"+", nil, ""},
	}
	for _, tc := range tests {
		c := Channels{Unbridged: []map[string]any{{"channel": "PJSIP/1000-0000002a", "state": "Ringing", "connectednum": tc.number}}, Extensions: tc.exts}
		call, found := c.Find("hq", "PJSIP/1000-0000002a", nil)
		if !found || call.To == nil {
			t.Fatalf("Find(%q) = %v, %v; want the ringing call", tc.number, call, found)
		}
		got := ""
		if call.To.Type != nil {
			got = string(*call.To.Type)
		}
		if got != tc.want {
			t.Errorf("to.type of a call ringing %q (extensions %v) = %q; want %q", tc.number, tc.exts, got, tc.want)
		}
	}
	if !(Channels{Unbridged: []map[string]any{{"connectednum": "1001"}}}).NeedsExtensions() {
		t.Error("NeedsExtensions() = false for a ringing call to a number an extension could have")
	}
	if (Channels{Unbridged: []map[string]any{{"connectednum": "+15551234567"}}}).NeedsExtensions() {
		t.Error("NeedsExtensions() = true for an E.164 destination, which its form types")
	}
}

// A unit's naive times are read in its zone; uniqueids are true Unix times, shown in that zone.
func TestTimesInTheUnitsZone(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	b := map[string]any{"channel1": "PJSIP/1000-0000002a", "channel2": "PJSIP/1001-0000002b",
		"bridge_time": "2026-01-15 20:30:05", "uniqueid1": "1768489200.42", "uniqueid2": "1768489199.43"}
	call := Channels{Bridged: []map[string]any{b}}.Calls("hq", kolkata)[0]
	answered, _ := call.AnsweredAt.Get()
	if want := time.Date(2026, 1, 15, 15, 0, 5, 0, time.UTC); !answered.Equal(want) || answered.Format(time.RFC3339) != "2026-01-15T20:30:05+05:30" {
		t.Errorf("answered_at = %s; want %s written with +05:30", answered.Format(time.RFC3339), want)
	}
	created, _ := call.CreatedAt.Get()
	if got := created.Format(time.RFC3339); got != "2026-01-15T20:29:59+05:30" {
		t.Errorf("created_at = %s; want the older channel's uniqueid, 2026-01-15T20:29:59+05:30", got)
	}
	cdr := FlattenCdr(map[string]json.RawMessage{"start": json.RawMessage(`"2026-01-15 20:29:59"`), "disposition": json.RawMessage(`"ANSWERED"`)}, kolkata)
	if cdr.Start == nil || cdr.Start.Format(time.RFC3339) != "2026-01-15T20:29:59+05:30" {
		t.Errorf("cdr start = %v; want 2026-01-15T20:29:59+05:30", cdr.Start)
	}
	if d := api.CdrDispositionAnswered; cdr.Disposition == nil || *cdr.Disposition != d {
		t.Errorf("cdr disposition = %v; want %s", cdr.Disposition, d)
	}
}
