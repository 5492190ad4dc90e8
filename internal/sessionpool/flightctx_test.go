package sessionpool

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A flight's context carries its first caller's values but ends as the flight does. Deriving
// from it (a call's own timeout, the client's stop-on-cancel) must not start a goroutine to
// watch it: context can see through Value only to the caller's context, which is not the one
// that ends the flight, and without valuesOf.AfterFunc it fell back to a goroutine a read.
func TestFlightContextStartsNoGoroutine(t *testing.T) {
	caller, cancelCaller := context.WithCancel(context.Background())
	defer cancelCaller()
	tctx, cancelFlight := context.WithTimeout(context.Background(), time.Hour)
	defer cancelFlight()
	fctx := valuesOf{Context: tctx, values: caller}

	before := runtime.NumGoroutine()
	var cancels []func()
	for range 100 {
		_, cancel := context.WithTimeout(fctx, time.Minute)
		stop := context.AfterFunc(fctx, func() {})
		cancels = append(cancels, cancel, func() { stop() })
	}
	grew := runtime.NumGoroutine() - before
	for _, c := range cancels {
		c()
	}
	assert.Less(t, grew, 10, "goroutines started watching 100 contexts derived from a flight's")

	// And they still end with the flight.
	derived, cancel := context.WithTimeout(fctx, time.Minute)
	defer cancel()
	cancelFlight()
	select {
	case <-derived.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a context derived from the flight's outlived it")
	}
}
