// Command tour drives a gateway through the generated Go client: it lists the extensions of unit
// demo page by page, follows the unit's call events, places a call from 1000 to 1003, watches it
// on the event stream until it is answered, and hangs up.
// CI runs it against the demo gateway; against `make run`:
//
//	export UCM_GATEWAY_KEY=…   # the line make run printed
//	go run ./pkg/client/tour
//
// UCM_GATEWAY_URL overrides the gateway's address (default http://localhost:8080).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ucm-gateway/ucm-gateway/pkg/client"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	baseURL := getenv("UCM_GATEWAY_URL")
	if baseURL == "" {
		baseURL = "http://localhost:8080"
	}
	c, err := client.New(baseURL, getenv("UCM_GATEWAY_KEY"))
	if err != nil {
		return err
	}
	const unit = "demo"

	// 1. Every extension, following next_page_token.
	size, n := 2, 0
	params := &client.ListExtensionsParams{PageSize: &size}
	for {
		page, err := c.ListExtensionsWithResponse(ctx, unit, params)
		if err != nil {
			return err
		}
		if page.JSON200 == nil {
			return unexpected("list extensions", page.StatusCode(), page.Body)
		}
		for _, e := range page.JSON200.Items {
			n++
			status, name := "", ""
			if e.Status != nil {
				status = string(*e.Status)
			}
			if e.Fullname.IsSpecified() && !e.Fullname.IsNull() {
				name = e.Fullname.MustGet()
			}
			fmt.Printf("extension %s  %-11s %s\n", e.Extension, status, name)
		}
		if page.JSON200.NextPageToken == nil {
			break
		}
		params.PageToken = page.JSON200.NextPageToken
	}
	fmt.Printf("%d extensions on unit %s\n", n, unit)

	// 2. Live events: follow the unit's call events on a Server-Sent Events stream. A new stream
	// starts with the unit's state once the gateway watches the unit: dial after it, and the
	// call's whole life is on the stream.
	types := client.EventTypes{"call.*", "unit.state"}
	stream, err := c.StreamUnitEvents(ctx, unit, &client.StreamUnitEventsParams{Types: &types})
	if err != nil {
		return err
	}
	defer stream.Body.Close()
	if stream.StatusCode != 200 {
		body, _ := io.ReadAll(stream.Body)
		return unexpected("follow the events", stream.StatusCode, body)
	}
	calls := make(chan client.Event, 16)
	go func() {
		defer close(calls)
		_ = client.ReadEvents(stream.Body, func(ev client.Event, _ string) bool {
			select {
			case calls <- ev:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()

	select {
	case ev, ok := <-calls:
		if !ok || ev.Type != client.EventTypeUnitState {
			return errors.New("the event stream did not start with the unit's state")
		}
		st, _ := ev.Data.AsUnitStateEventData()
		fmt.Printf("unit %s: events %s (from its %s)\n", unit, st.State, st.Source)
	case <-ctx.Done():
		return errors.New("the event stream said nothing")
	}

	// 3. Place a call: 1000 rings first, then it is connected to 1003. The Idempotency-Key
	// makes a retry of this request safe.
	key := rand.Text()
	placed, err := c.CreateCallWithResponse(ctx, unit, &client.CreateCallParams{IdempotencyKey: &key},
		client.CallCreate{From: client.FromExtension("1000"), To: client.CallDestination{Type: client.CallDestinationTypeExtension, Number: "1003"}})
	if err != nil {
		return err
	}
	if placed.JSON201 == nil {
		return unexpected("place a call", placed.StatusCode(), placed.Body)
	}
	id := placed.JSON201.ID
	fmt.Printf("call %s: %s\n", id, placed.JSON201.Status)

	// 4. Watch it on the stream until it is answered (the demo rings for 3 s).
	if err := follow(ctx, calls, id, client.EventTypeCallAnswered); err != nil {
		return err
	}

	// 5. Hang up: the answer carries the call's final status.
	ended, err := c.HangupCallWithResponse(ctx, unit, id)
	if err != nil {
		return err
	}
	if ended.JSON200 == nil {
		return unexpected("hang up", ended.StatusCode(), ended.Body)
	}
	fmt.Printf("call %s: %s\n", id, ended.JSON200.Status)
	return follow(ctx, calls, id, client.EventTypeCallEnded)
}

// follow prints the events of call id until one of type until arrives.
func follow(ctx context.Context, events <-chan client.Event, id string, until client.EventType) error {
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no %s event for call %s in time", until, id)
		case ev, ok := <-events:
			if !ok {
				return errors.New("the event stream ended")
			}
			data, err := ev.Data.AsCallEventData()
			if err != nil || data.Call.ID != id {
				continue
			}
			fmt.Printf("event %d %s: call %s %s (%s)\n", ev.ID, ev.Type, id, data.Call.Status, data.Direction)
			if ev.Type == until {
				return nil
			}
		}
	}
}

// unexpected reports an answer the tour did not expect: the gateway's problem+json says why.
func unexpected(what string, status int, body []byte) error {
	return fmt.Errorf("%s: HTTP %d: %s", what, status, body)
}
