package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
)

// Upstream is how sources read a unit: the same session pool the handlers use, so a source's
// reads share the unit's one session, its in-flight bound and breaker, and coalesce with
// identical REST reads made at the same time.
type Upstream interface {
	Do(ctx context.Context, unit, action string, params map[string]any) (json.RawMessage, error)
	Open(ctx context.Context, unit, action string, params map[string]any) (*http.Response, error)
}

// reader reads the state sources diff into events.
type reader struct {
	unit string
	up   Upstream
}

// channels reads both channel lists, unbridged first (see calls.Lists). An event source's reads
// skip the pool's freshness window: a re-read after the socket said something changed must see
// the change, not a list read before it.
func (r reader) channels(ctx context.Context) (calls.Channels, error) {
	ctx = sessionpool.FreshRead(ctx)
	var out calls.Channels
	for _, list := range calls.Lists {
		raw, err := r.up.Do(ctx, r.unit, list, nil)
		if err != nil {
			return out, err
		}
		items, err := calls.Parse(raw)
		if err != nil {
			return out, fmt.Errorf("%s: reply not understood: %w", list, err)
		}
		out.Set(list, items)
	}
	return out, nil
}

// listPageSize is the page size of the lists a source reads whole.
const listPageSize = 500

// pages reads every page of a list action and returns its items.
func (r reader) pages(ctx context.Context, action, key string, params map[string]any) ([]map[string]any, error) {
	ctx = sessionpool.FreshRead(ctx)
	var all []map[string]any
	for page := 1; page <= 100; page++ {
		p := map[string]any{"page": strconv.Itoa(page), "item_num": strconv.Itoa(listPageSize)}
		for k, v := range params {
			p[k] = v
		}
		raw, err := r.up.Do(ctx, r.unit, action, p)
		if err != nil {
			return nil, err
		}
		var reply map[string]json.RawMessage
		if err := json.Unmarshal(raw, &reply); err != nil {
			return nil, fmt.Errorf("%s: reply not understood: %w", action, err)
		}
		var items []map[string]any
		if v, ok := reply[key]; ok {
			if err := json.Unmarshal(v, &items); err != nil {
				return nil, fmt.Errorf("%s: reply not understood: %w", action, err)
			}
		}
		all = append(all, items...)
		var total int
		if v, ok := reply["total_page"]; ok {
			var x any
			_ = json.Unmarshal(v, &x)
			total, _ = strconv.Atoi(calls.Str(x))
		}
		if page >= total || len(items) < listPageSize {
			break
		}
	}
	return all, nil
}

// extensions reads every extension's state from listAccount's status column.
func (r reader) extensions(ctx context.Context) (map[string]api.ExtensionState, error) {
	items, err := r.pages(ctx, "listAccount", "account", map[string]any{"options": "extension,status", "sidx": "extension", "sord": "asc"})
	if err != nil {
		return nil, err
	}
	out := make(map[string]api.ExtensionState, len(items))
	for _, it := range items {
		if st, ok := extensionState(calls.Str(it["status"])); ok {
			out[calls.Str(it["extension"])] = st
		}
	}
	return out, nil
}

// queues reads the unit's call queue numbers.
func (r reader) queues(ctx context.Context) ([]string, error) {
	items, err := r.pages(ctx, "listQueue", "queue", map[string]any{"options": "extension"})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if q := calls.Str(it["extension"]); q != "" {
			out = append(out, q)
		}
	}
	return out, nil
}

// waiting counts the callers waiting in each queue, by the same reading GET
// …/queues/{queue}/waiting uses (calls.QueueCallers).
func waiting(queues []string, ch calls.Channels) map[string]int {
	out := make(map[string]int, len(queues))
	for _, q := range queues {
		out[q] = len(ch.QueueCallers(q, time.Time{}, nil))
	}
	return out
}
