package events

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ucm-gateway/ucm-gateway/internal/shared/sharedtest"
)

// BenchmarkFleetPublishToOtherReplica measures an event's way from the holder's source through
// Redis to a subscriber on another replica: one op is one event published and received there.
func BenchmarkFleetPublishToOtherReplica(b *testing.B) {
	rs := sharedtest.Start(b)
	hub := func(name string, src Source) *Hub {
		c := redis.NewClient(&redis.Options{Addr: rs.Addr()})
		b.Cleanup(func() { c.Close() })
		f, err := NewFleet(FleetOptions{Client: c, Prefix: "b:", Replica: name, Block: 100 * time.Millisecond, Retry: 10 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		h := NewHub("hq", src, HubOptions{Fleet: f, BufferSize: 10000})
		b.Cleanup(func() { _ = h.Close(context.Background()) })
		return h
	}
	src := &blockingSource{emit: make(chan Emit, 1)}
	a := hub("a", src)
	sa := a.Subscribe(SubscribeOptions{})
	defer sa.Close()
	emit := <-src.emit
	other := hub("b", &blockingSource{})
	sb := other.Subscribe(SubscribeOptions{})
	defer sb.Close()
	b.ResetTimer()
	for i := range b.N {
		emit(TypeCallRinging, map[string]int{"seq": i})
		for got := false; !got; {
			<-sb.Bell()
			for _, ev := range drain(sb) {
				got = got || ev.Type == TypeCallRinging
			}
		}
	}
}
