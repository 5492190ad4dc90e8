package calls

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// QueueCallers returns the callers waiting in queue, longest waiting first, as of now.
//
// The UCM has no action that lists a queue's callers, and no document says how a unit shows
// them in its channel lists, so this is the gateway's reading: a caller waits in queue Q when its
// channel is not bridged, is in the Queue application (service), and is connected to Q's number
// (connectednum). A channel that is also in a bridge (answered between the two reads) is not
// waiting. The wait is counted from the channel's alloc_time, read in the unit's zone (loc) like every unit time.
func (c Channels) QueueCallers(queue string, now time.Time, loc *time.Location) []api.WaitingCaller {
	inBridge := make(map[string]bool, 2*len(c.Bridged))
	for _, b := range c.Bridged {
		inBridge[Str(b["channel1"])], inBridge[Str(b["channel2"])] = true, true
	}
	out := []api.WaitingCaller{}
	for _, u := range c.Unbridged {
		ch := Str(u["channel"])
		if ch == "" || inBridge[ch] || !strings.EqualFold(Str(u["service"]), "Queue") || Str(u["connectednum"]) != queue {
			continue
		}
		w := api.WaitingCaller{CallID: ID(ch), Channel: ch, CallerNumber: nullStr(Str(u["callernum"])),
			CallerName: nullStr(Str(u["callername"])), Since: ucmTimeOf(Str(u["alloc_time"]), loc),
			WaitSeconds: nullable.NewNullNullable[int]()}
		if since, err := w.Since.Get(); err == nil {
			w.WaitSeconds = nullable.NewNullableWithValue(max(0, int(now.Sub(since).Seconds())))
		}
		out = append(out, w)
	}
	slices.SortStableFunc(out, func(a, b api.WaitingCaller) int {
		sa, errA := a.Since.Get()
		sb, errB := b.Since.Get()
		switch {
		case errA != nil && errB != nil:
			return cmp.Compare(a.Channel, b.Channel)
		case errA != nil:
			return 1 // an unknown wait goes last
		case errB != nil:
			return -1
		}
		if c := sa.Compare(sb); c != 0 {
			return c
		}
		return cmp.Compare(a.Channel, b.Channel)
	})
	for i := range out {
		out[i].Position = i + 1
	}
	return out
}

// String reads a UCM value that may be a string, a number or null, as the channel lists and
// other loosely typed replies carry ids.
func String(v any) string { return Str(v) }
