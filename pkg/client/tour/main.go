// Command tour drives a gateway through the generated Go client: it lists the extensions of unit
// demo page by page, places a call from 1000 to 1003, waits until it is answered and hangs up.
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

	// 2. Live events: subscribe here, before dialling, once the gateway has an event stream
	// (GET /v1/units/{unit}/events), and print the call.* events of the call placed below.

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

	// 4. Watch it until it is answered (the demo rings for 3 s).
	for status := placed.JSON201.Status; status != client.CallStatusInProgress; {
		select {
		case <-ctx.Done():
			return errors.New("the call was not answered in time")
		case <-time.After(250 * time.Millisecond):
		}
		call, err := c.GetCallWithResponse(ctx, unit, id)
		if err != nil {
			return err
		}
		if call.JSON200 == nil {
			return unexpected("get the call", call.StatusCode(), call.Body)
		}
		if call.JSON200.Status != status {
			status = call.JSON200.Status
			fmt.Printf("call %s: %s (%d channels)\n", id, status, len(call.JSON200.Channels))
		}
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
	return nil
}

// unexpected reports an answer the tour did not expect: the gateway's problem+json says why.
func unexpected(what string, status int, body []byte) error {
	return fmt.Errorf("%s: HTTP %d: %s", what, status, body)
}
