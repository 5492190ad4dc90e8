package handlers

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
)

// GetQueueStats reads queueapi, which answers without the envelope and with every value a
// string: {"root_statistics":{"queue":[{…}]}}. A client in production also finds the list
// collapsed to one object when it has one item, so both are read. A period in which the queue
// had no calls may come without a row: the gateway then asks getQueue whether the queue exists
// (404) and answers zeros if it does.
func (s *Server) GetQueueStats(ctx context.Context, req api.GetQueueStatsRequestObject) (api.GetQueueStatsResponseObject, error) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	from, to := today, today
	if req.Params.From != nil {
		from = req.Params.From.Time
	}
	if req.Params.To != nil {
		to = req.Params.To.Time
	}
	if to.Before(from) {
		return nil, withUnit(req.Unit, &InputError{Detail: "invalid query.to: must not be before from",
			Errors: []FieldError{{Location: "query.to", Message: "must not be before from"}}})
	}
	resp, err := s.up.Open(ctx, req.Unit, "queueapi", map[string]any{
		"format": "json", "queue": req.Queue,
		"startTime": from.Format(time.DateOnly), "endTime": to.Format(time.DateOnly),
	})
	if err != nil {
		return nil, withUnit(req.Unit, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, withUnit(req.Unit, badReply("queueapi", err))
	}
	row, err := queueStatsRow(body, req.Queue)
	if err != nil {
		return nil, withUnit(req.Unit, badReply("queueapi", err))
	}
	if row == nil {
		if _, _, err := s.queue(ctx, req.Unit, req.Queue); err != nil {
			return nil, err
		}
		row = map[string]any{}
	}
	out := api.GetQueueStats200JSONResponse{
		Queue: req.Queue, From: openapi_types.Date{Time: from}, To: openapi_types.Date{Time: to},
		TotalCalls: statInt(row["total_calls"]), AnsweredCalls: statInt(row["answered_calls"]),
		AbandonedCalls: statInt(row["abandoned_calls"]), TransferOutCalls: statInt(row["transfer_out_calls"]),
		AnsweredRate: statNumber(row["answered_rate"]), AbandonedRate: statNumber(row["abandoned_rate"]),
		AvgWait: statNumber(row["avg_wait"]), AvgTalk: statNumber(row["avg_talk"]), SLARate: statNumber(row["sla_rate"]),
	}
	return out, nil
}

// queueStatsRow returns the statistics of queue from a queueapi reply, or nil if it has none.
func queueStatsRow(body []byte, queue string) (map[string]any, error) {
	var reply struct {
		Root *struct {
			Queue json.RawMessage `json:"queue"`
		} `json:"root_statistics"`
	}
	if err := json.Unmarshal(body, &reply); err != nil {
		return nil, err
	}
	if reply.Root == nil {
		return nil, constError("no root_statistics in the reply")
	}
	var rows []map[string]any
	if q := strings.TrimSpace(string(reply.Root.Queue)); strings.HasPrefix(q, "{") {
		var one map[string]any
		if err := json.Unmarshal(reply.Root.Queue, &one); err != nil {
			return nil, err
		}
		rows = append(rows, one)
	} else if q != "" && q != "null" {
		if err := json.Unmarshal(reply.Root.Queue, &rows); err != nil {
			return nil, err
		}
	}
	for _, r := range rows {
		if calls.String(r["queue"]) == queue {
			return r, nil
		}
	}
	return nil, nil
}

// statNumber reads a statistic the UCM sends as a string ("87.50", also seen with a "%"), a
// number, or a duration ("00:01:05"); what cannot be read is 0 rather than a broken reply.
func statNumber(v any) float64 {
	s := strings.TrimSuffix(strings.TrimSpace(calls.String(v)), "%")
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && f >= 0 {
		return f
	}
	if parts := strings.Split(s, ":"); len(parts) == 3 {
		var secs float64
		for _, p := range parts {
			n, err := strconv.ParseFloat(p, 64)
			if err != nil || n < 0 {
				return 0
			}
			secs = secs*60 + n
		}
		return secs
	}
	return 0
}

func statInt(v any) int { return int(math.Round(statNumber(v))) }
