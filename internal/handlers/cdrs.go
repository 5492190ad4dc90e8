package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
)

// cdrFilterTime is the cdrapi time filter format (FACTS.md), the unit's wall-clock time.
const cdrFilterTime = "2006-01-02T15:04:05"

// ListCdrs reads call records through cdrapi, whose reply has no envelope ({"cdr_root":[…]}) and
// which answers a malformed filter with an empty list instead of an error: every filter is typed
// and checked here first, so an empty list means no records.
func (s *Server) ListCdrs(ctx context.Context, req api.ListCdrsRequestObject) (api.ListCdrsResponseObject, error) {
	p := req.Params
	if err := checkCdrFilters(p); err != nil {
		return nil, withUnit(req.Unit, err)
	}
	size := 50
	if p.PageSize != nil {
		size = *p.PageSize
	}
	q := url.Values{}
	params := map[string]any{"format": "json", "numRecords": strconv.Itoa(size)}
	set := func(param, query, v string) {
		params[param] = v
		q.Set(query, v)
	}
	if p.Caller != nil {
		set("caller", "caller", *p.Caller)
	}
	if p.Callee != nil {
		set("callee", "callee", *p.Callee)
	}
	// cdrapi reads its time filters as the unit's wall clock, in its own zone.
	loc := s.zone(req.Unit)
	if p.StartTime != nil {
		params["startTime"] = p.StartTime.In(loc).Format(cdrFilterTime)
		q.Set("start_time", p.StartTime.Format(time.RFC3339))
	}
	if p.EndTime != nil {
		params["endTime"] = p.EndTime.In(loc).Format(cdrFilterTime)
		q.Set("end_time", p.EndTime.Format(time.RFC3339))
	}
	if p.MinDuration != nil {
		set("minDur", "min_duration", strconv.Itoa(*p.MinDuration))
	}
	if p.MaxDuration != nil {
		set("maxDur", "max_duration", strconv.Itoa(*p.MaxDuration))
	}
	// A page token is bound to its filters, so it cannot be replayed against another query.
	sum := sha256.Sum256([]byte(q.Encode()))
	filters := hex.EncodeToString(sum[:6])
	tok := ""
	if p.PageToken != nil {
		tok = *p.PageToken
	}
	cur, err := decodePageToken(tok, size, filters)
	if err != nil {
		return nil, withUnit(req.Unit, err)
	}
	params["offset"] = strconv.Itoa((cur.Page - 1) * size)

	resp, err := s.up.Open(ctx, req.Unit, "cdrapi", params)
	if err != nil {
		return nil, withUnit(req.Unit, err)
	}
	defer resp.Body.Close()
	var reply struct {
		Root []map[string]json.RawMessage `json:"cdr_root"`
	}
	raw, err := io.ReadAll(resp.Body)
	if err == nil {
		err = json.Unmarshal(raw, &reply)
	}
	if err != nil {
		return nil, withUnit(req.Unit, badReply("cdrapi", err))
	}
	out := api.ListCdrs200JSONResponse{Body: api.CdrList{Items: make([]api.Cdr, 0, len(reply.Root))}}
	for _, item := range reply.Root {
		out.Body.Items = append(out.Body.Items, calls.FlattenCdr(item, loc))
	}
	if len(reply.Root) == size {
		cur.Page++
		next := cur.encode()
		out.Body.NextPageToken = &next
		q.Set("page_size", strconv.Itoa(size))
		link := nextLink("/v1/units/"+req.Unit+"/cdrs", q, next)
		out.Headers.Link = &link
	}
	return out, nil
}

func checkCdrFilters(p api.ListCdrsParams) error {
	var errs []FieldError
	if p.StartTime != nil && p.EndTime != nil && !p.EndTime.After(*p.StartTime) {
		errs = append(errs, FieldError{Location: "query.end_time", Message: "must be after start_time"})
	}
	if p.MinDuration != nil && p.MaxDuration != nil && *p.MaxDuration < *p.MinDuration {
		errs = append(errs, FieldError{Location: "query.max_duration", Message: "must not be below min_duration"})
	}
	for _, t := range []struct {
		loc string
		v   *time.Time
	}{{"query.start_time", p.StartTime}, {"query.end_time", p.EndTime}} {
		if t.v != nil && (t.v.UTC().Year() < 1970 || t.v.UTC().Year() > 9999) {
			errs = append(errs, FieldError{Location: t.loc, Message: "out of range"})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &InputError{Detail: "invalid " + errs[0].Location + ": " + errs[0].Message, Errors: errs}
}
