package client

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// ReadEvents reads a gateway event stream (the body of StreamUnitEvents or StreamEvents, a
// text/event-stream) and calls f with each event until f returns false or the stream ends. The
// SSE framing is simple enough to need no library: an event is its "data:" line, one JSON Event;
// comment lines (heartbeats) and the other fields are skipped. A client that reconnects keeps the
// last "id:" it saw and sends it as Last-Event-ID; ReadEvents passes it to f beside the event.
func ReadEvents(body io.Reader, f func(ev Event, lastID string) bool) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	lastID := ""
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			lastID = v
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev Event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
		if !f(ev, lastID) {
			return nil
		}
	}
	return sc.Err()
}
