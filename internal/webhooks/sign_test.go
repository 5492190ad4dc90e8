package webhooks

import (
	"testing"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
)

// The example the Standard Webhooks specification and its reference libraries publish.
func TestSignatureMatchesTheStandardWebhooksExample(t *testing.T) {
	got := signature(testKey(t), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature(example) = %q; want %q", got, want)
	}
}

func TestMessageID(t *testing.T) {
	tests := []struct {
		ev   events.Event
		want string
	}{
		{events.Event{ID: 1736934612000001, Type: events.TypeCallRinging, Unit: "hq"}, "evt_hq_1736934612000001"},
		{events.Event{ID: 1736934612000001, Type: events.TypeCdrCreated, Unit: "branch-1"}, "evt_branch-1_1736934612000001"},
		// A sync carries the newest id it stands for: it must not collide with that event's id.
		{events.Event{ID: 1736934612000001, Type: events.TypeSync, Unit: "hq"}, "sync_hq_1736934612000001"},
	}
	for _, tt := range tests {
		if got := MessageID(tt.ev); got != tt.want {
			t.Errorf("MessageID(%s %d on %s) = %q; want %q", tt.ev.Type, tt.ev.ID, tt.ev.Unit, got, tt.want)
		}
	}
}
