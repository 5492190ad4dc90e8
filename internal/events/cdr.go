package events

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
)

// cdrFilterTime is the cdrapi time filter format (FACTS.md), the unit's wall-clock time.
const cdrFilterTime = "2006-01-02T15:04:05"

// maxCdrLookups bounds the ended calls waiting for their record; beyond it the oldest is given up
// (a unit ending hundreds of calls a second is not one the gateway should query per call).
const maxCdrLookups = 1000

// cdrLookups finds the records of ended calls: one goroutine per source run, asking cdrapi after
// each of the configured delays until the record is there, then emitting cdr.created.
type cdrLookups struct {
	w    *watch
	ctx  context.Context
	in   chan api.Call
	done chan struct{}
}

type cdrLookup struct {
	call    api.Call
	attempt int
	at      time.Time
}

func startCdrLookups(ctx context.Context, w *watch) *cdrLookups {
	l := &cdrLookups{w: w, ctx: ctx, in: make(chan api.Call, 64), done: make(chan struct{})}
	go l.run(ctx, l.in)
	return l
}

// add asks for the record of a call that just ended.
func (l *cdrLookups) add(c api.Call) {
	select {
	case l.in <- c:
	case <-l.ctx.Done():
	}
}

func (l *cdrLookups) wait() { <-l.done }

func (l *cdrLookups) run(ctx context.Context, in <-chan api.Call) {
	defer close(l.done)
	var pending []cdrLookup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := time.Duration(-1)
		if len(pending) > 0 {
			next = max(0, pending[0].at.Sub(l.w.o.Now()))
			for _, p := range pending[1:] {
				next = min(next, max(0, p.at.Sub(l.w.o.Now())))
			}
		}
		var fire <-chan time.Time
		if next >= 0 {
			timer.Reset(next)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case c := <-in:
			if len(pending) >= maxCdrLookups {
				pending = pending[1:]
			}
			pending = append(pending, cdrLookup{call: c, at: l.w.o.Now().Add(l.w.o.CdrDelays[0])})
		case <-fire:
			now := l.w.o.Now()
			kept := pending[:0]
			for _, p := range pending {
				if p.at.After(now) {
					kept = append(kept, p)
					continue
				}
				cdr, found := l.find(ctx, p.call)
				if found {
					l.w.emit(TypeCdrCreated, api.CdrCreatedEventData{CallID: p.call.ID, Cdr: cdr})
					continue
				}
				if p.attempt+1 < len(l.w.o.CdrDelays) && ctx.Err() == nil {
					p.attempt++
					p.at = now.Add(l.w.o.CdrDelays[p.attempt])
					kept = append(kept, p)
				} else if ctx.Err() == nil {
					l.w.o.Logger.Info("no call record appeared for an ended call", "unit", l.w.o.Unit, "call", p.call.ID)
				}
			}
			pending = kept
		}
		timer.Stop() // since Go 1.23 a stopped timer delivers nothing stale
	}
}

// find asks cdrapi for the records of the call's caller around its time and picks the one one
// of whose legs is the call's first channel.
func (l *cdrLookups) find(ctx context.Context, c api.Call) (api.Cdr, bool) {
	if len(c.Channels) == 0 {
		return api.Cdr{}, false
	}
	loc := l.w.o.Location
	now := l.w.o.Now()
	from := now.Add(-24 * time.Hour)
	if t, err := c.CreatedAt.Get(); err == nil {
		from = t.Add(-time.Minute)
	}
	params := map[string]any{"format": "json", "numRecords": "50",
		"startTime": from.In(loc).Format(cdrFilterTime), "endTime": now.Add(time.Minute).In(loc).Format(cdrFilterTime)}
	if f, err := c.From.Get(); err == nil && f != "" {
		params["caller"] = f
	}
	resp, err := l.w.o.Upstream.Open(ctx, l.w.o.Unit, "cdrapi", params)
	if err != nil {
		return api.Cdr{}, false
	}
	defer resp.Body.Close()
	var reply struct {
		Root []map[string]json.RawMessage `json:"cdr_root"`
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil || json.Unmarshal(raw, &reply) != nil {
		return api.Cdr{}, false
	}
	want := c.Channels[0].Name
	for _, item := range reply.Root {
		cdr := calls.FlattenCdr(item, loc)
		for _, leg := range cdr.Legs {
			if leg.Channel != nil && *leg.Channel == want {
				return cdr, true
			}
		}
	}
	return api.Cdr{}, false
}
