package calls

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// FlattenCdr turns one cdr_root item (a flat record, or {"main_cdr":…, "sub_cdr_N":…}) into one
// call with its legs in order. The call's own fields come from its first leg; its end, duration
// and billsec span every leg; recordings are gathered from all of them. loc is the unit's time
// zone (nil means UTC): the records' times are its wall clock.
func FlattenCdr(item map[string]json.RawMessage, loc *time.Location) api.Cdr {
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
		l := cdrLeg(r, loc)
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
	out.Session = ptr(Str(main["session"]))
	if *out.Session == "" {
		out.Session = first.Uniqueid
	}
	out.Src, out.Dst, out.CallerName = first.Src, first.Dst, nullStr(Str(main["caller_name"]))
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
func cdrLeg(r map[string]any, loc *time.Location) api.CdrLeg {
	l := api.CdrLeg{
		Uniqueid: optStr(Str(r["uniqueid"])), Channel: optStr(Str(r["channel"])), Dstchannel: optStr(Str(r["dstchannel"])),
		Src: optStr(Str(r["src"])), Dst: optStr(Str(r["dst"])), ActionType: optStr(Str(r["action_type"])),
		Answer: ucmTimeOf(Str(r["answer"]), loc),
	}
	if t, err := ucmTimeOf(Str(r["start"]), loc).Get(); err == nil {
		l.Start = &t
	}
	if t, err := ucmTimeOf(Str(r["end"]), loc).Get(); err == nil {
		l.End = &t
	}
	for k, dst := range map[string]**int{"duration": &l.Duration, "billsec": &l.Billsec} {
		if n, err := strconv.Atoi(strings.TrimSpace(Str(r[k]))); err == nil && n >= 0 {
			*dst = ptr(n)
		}
	}
	switch d := api.CdrLegDisposition(Str(r["disposition"])); d {
	case api.CdrLegDispositionAnswered, api.CdrLegDispositionNoAnswer, api.CdrLegDispositionBusy, api.CdrLegDispositionFailed:
		l.Disposition = &d
	}
	files := []string{}
	for _, f := range strings.FieldsFunc(Str(r["recordfiles"]), func(c rune) bool { return c == '@' || c == ',' }) {
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
