package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
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
	if p.StartTime != nil {
		params["startTime"] = p.StartTime.UTC().Format(cdrFilterTime)
		q.Set("start_time", p.StartTime.Format(time.RFC3339))
	}
	if p.EndTime != nil {
		params["endTime"] = p.EndTime.UTC().Format(cdrFilterTime)
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
		out.Body.Items = append(out.Body.Items, flattenCdr(item))
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

// flattenCdr turns one cdr_root item (a flat record, or {"main_cdr":…, "sub_cdr_N":…}) into one
// call with its legs in order. The call's own fields come from its first leg; its end, duration
// and billsec span every leg; recordings are gathered from all of them.
func flattenCdr(item map[string]json.RawMessage) api.Cdr {
	var recs []map[string]any
	if main, grouped := item["main_cdr"]; grouped {
		var m map[string]any
		_ = json.Unmarshal(main, &m)
		recs = append(recs, m)
		var subs []string
		for k := range item {
			if strings.HasPrefix(k, "sub_cdr_") {
				subs = append(subs, k)
			}
		}
		slices.SortFunc(subs, func(a, b string) int { return subIndex(a) - subIndex(b) })
		for _, k := range subs {
			var m map[string]any
			if json.Unmarshal(item[k], &m) == nil {
				recs = append(recs, m)
			}
		}
	} else {
		m := make(map[string]any, len(item))
		for k, v := range item {
			var x any
			_ = json.Unmarshal(v, &x)
			m[k] = x
		}
		recs = append(recs, m)
	}
	out := api.Cdr{Legs: make([]api.CdrLeg, 0, len(recs)), Recordfiles: &[]string{}}
	var end time.Time
	answered := false
	for _, r := range recs {
		l := cdrLeg(r)
		out.Legs = append(out.Legs, l)
		if l.End != nil && l.End.After(end) {
			end = *l.End
		}
		if l.Answer.IsSpecified() && !l.Answer.IsNull() {
			answered = true
		}
		*out.Recordfiles = append(*out.Recordfiles, *l.Recordfiles...)
	}
	first, main := out.Legs[0], recs[0]
	out.Session = ptr(str(main["session"]))
	if *out.Session == "" {
		out.Session = first.Uniqueid
	}
	out.Src, out.Dst, out.CallerName = first.Src, first.Dst, nullStr(str(main["caller_name"]))
	out.Start, out.Answer = first.Start, first.Answer
	if !end.IsZero() {
		out.End = &end
	}
	if first.Start != nil && !end.IsZero() {
		out.Duration = ptr(int(end.Sub(*first.Start).Seconds()))
	} else {
		out.Duration = first.Duration
	}
	if ans, err := first.Answer.Get(); err == nil && !end.IsZero() {
		out.Billsec = ptr(int(end.Sub(ans).Seconds()))
	}
	if first.Disposition != nil {
		d := api.CdrDisposition(*first.Disposition)
		if answered {
			d = api.CdrDispositionAnswered
		}
		out.Disposition = &d
		out.Status = cdrStatus(d)
	}
	return out
}

func subIndex(k string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(k, "sub_cdr_"))
	return n
}

// cdrLeg types one record: times as RFC 3339 (null when absent), durations as integers,
// recordfiles as a list of file names.
func cdrLeg(r map[string]any) api.CdrLeg {
	l := api.CdrLeg{
		Uniqueid: optStr(str(r["uniqueid"])), Channel: optStr(str(r["channel"])), Dstchannel: optStr(str(r["dstchannel"])),
		Src: optStr(str(r["src"])), Dst: optStr(str(r["dst"])), ActionType: optStr(str(r["action_type"])),
		Answer: ucmTimeOf(str(r["answer"])),
	}
	if t, err := ucmTimeOf(str(r["start"])).Get(); err == nil {
		l.Start = &t
	}
	if t, err := ucmTimeOf(str(r["end"])).Get(); err == nil {
		l.End = &t
	}
	for k, dst := range map[string]**int{"duration": &l.Duration, "billsec": &l.Billsec} {
		if n, err := strconv.Atoi(strings.TrimSpace(str(r[k]))); err == nil && n >= 0 {
			*dst = ptr(n)
		}
	}
	switch d := api.CdrLegDisposition(str(r["disposition"])); d {
	case api.CdrLegDispositionAnswered, api.CdrLegDispositionNoAnswer, api.CdrLegDispositionBusy, api.CdrLegDispositionFailed:
		l.Disposition = &d
	}
	files := []string{}
	for _, f := range strings.FieldsFunc(str(r["recordfiles"]), func(c rune) bool { return c == '@' || c == ',' }) {
		if f = strings.TrimSpace(f[strings.LastIndexByte(f, '/')+1:]); f != "" {
			files = append(files, f)
		}
	}
	l.Recordfiles = &files
	return l
}

func cdrStatus(d api.CdrDisposition) *api.CallStatus {
	switch d {
	case api.CdrDispositionAnswered:
		return ptr(api.CallStatusCompleted)
	case api.CdrDispositionNoAnswer:
		return ptr(api.CallStatusNoAnswer)
	case api.CdrDispositionBusy:
		return ptr(api.CallStatusBusy)
	case api.CdrDispositionFailed:
		return ptr(api.CallStatusFailed)
	}
	return nil
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
