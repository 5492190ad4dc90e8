package ucmsim

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Call records (cdrapi) and recordings (recapi): the two actions that do not
// answer with the {"response","status"} envelope. FACTS.md: cdrapi replies
// {"cdr_root":[…]} with every value a string, a call of several legs as
// {"main_cdr":{…},"sub_cdr_1":{…},…}; a bad filter gives an empty list, not
// an error. recapi returns the WAV itself, or a JSON error.

// recordingSeconds is the length of every simulated recording: short, so a
// download is quick, and long enough to be real audio.
const recordingSeconds = 1

// cdrRecord is one cdr_root item and the instant its call started (its start field is the
// unit's wall clock, which a DST change makes ambiguous to read back).
type cdrRecord struct {
	start time.Time
	item  map[string]any
}

// writeCDR stores the record of a finished call. Called with u.mu held.
func (u *UCM) writeCDR(c *liveCall, at time.Time) {
	recs := make([]map[string]any, 0, len(c.legs))
	for i, l := range c.legs {
		if l.end.IsZero() {
			l.end = at
		}
		rec := map[string]any{
			"AcctId":      strconv.Itoa(len(u.cdrs)*10 + i + 1),
			"session":     c.session,
			"uniqueid":    l.uniqueid,
			"channel":     l.channel,
			"dstchannel":  l.dstchannel,
			"src":         l.src,
			"dst":         l.dst,
			"clid":        fmt.Sprintf("%q <%s>", l.callerName, l.src),
			"caller_name": l.callerName,
			"start":       u.wallClock(l.start),
			"answer":      "",
			"end":         u.wallClock(l.end),
			"duration":    strconv.Itoa(int(l.end.Sub(l.start).Seconds())),
			"billsec":     "0",
			"disposition": l.disposition,
			"action_type": l.actionType,
			"lastapp":     "Dial",
			"dcontext":    "from-internal",
			"recordfiles": "",
		}
		if !l.answer.IsZero() {
			rec["answer"] = u.wallClock(l.answer)
			rec["billsec"] = strconv.Itoa(int(l.end.Sub(l.answer).Seconds()))
		}
		if l.record != "" {
			// Several files are joined with "@", as units list them.
			rec["recordfiles"] = l.record + "@"
		}
		recs = append(recs, rec)
	}
	start := c.legs[0].start
	if len(recs) == 1 {
		u.cdrs = append(u.cdrs, cdrRecord{start, recs[0]})
		return
	}
	group := map[string]any{"main_cdr": recs[0]}
	for i, r := range recs[1:] {
		group[fmt.Sprintf("sub_cdr_%d", i+1)] = r
	}
	u.cdrs = append(u.cdrs, cdrRecord{start, group})
}

// cdrFilterTime parses the cdrapi time filter, YYYY-MM-DDTHH:MM[:SS], as the unit's wall clock.
// Called with u.mu held.
func (u *UCM) cdrFilterTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, u.cfg.TimeZone); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// cdrapi answers the call records, newest first, filtered and paged.
// Called with u.mu held.
func (u *UCM) cdrapi(p map[string]any) []byte {
	u.settleCalls(time.Now())
	empty := []byte(`{"cdr_root":[]}`)
	str := func(k string) string { s, _ := paramString(p[k]); return s }
	if f := str("format"); f != "" && f != "json" {
		return empty // csv and xml exist on real units; the simulator only speaks JSON
	}
	limit, offset := 1000, 0
	if s := str("numRecords"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return empty
		}
		limit = n
	}
	if s := str("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return empty
		}
		offset = n
	}
	var from, to time.Time
	if s := str("startTime"); s != "" {
		t, valid := u.cdrFilterTime(s)
		if !valid {
			return empty
		}
		from = t
	}
	if s := str("endTime"); s != "" {
		t, valid := u.cdrFilterTime(s)
		if !valid {
			return empty
		}
		to = t
	}
	minDur, maxDur := -1, -1
	for k, dst := range map[string]*int{"minDur": &minDur, "maxDur": &maxDur} {
		if s := str(k); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return empty
			}
			*dst = n
		}
	}
	caller, callee := str("caller"), str("callee")
	var matched []any
	for i := len(u.cdrs) - 1; i >= 0; i-- {
		rec, start := u.cdrs[i].item, u.cdrs[i].start
		main := rec
		if m, grouped := rec["main_cdr"].(map[string]any); grouped {
			main = m
		}
		dur, _ := strconv.Atoi(main["duration"].(string))
		switch {
		case caller != "" && main["src"] != caller,
			callee != "" && main["dst"] != callee,
			!from.IsZero() && start.Before(from),
			!to.IsZero() && !start.Before(to),
			minDur >= 0 && dur < minDur,
			maxDur >= 0 && dur > maxDur:
			continue
		}
		matched = append(matched, rec)
	}
	if offset >= len(matched) {
		matched = nil
	} else {
		matched = matched[offset:min(offset+limit, len(matched))]
	}
	if matched == nil {
		matched = []any{}
	}
	b, _ := json.Marshal(map[string]any{"cdr_root": matched})
	return b
}

// serveRaw answers cdrapi and recapi, which have no envelope on success.
// Authentication failures still come back as the envelope (-6).
func (u *UCM) serveRaw(w http.ResponseWriter, action string, p map[string]any) {
	u.mu.Lock()
	if st := u.authorize(p, time.Now()); st != StatusOK {
		u.mu.Unlock()
		writeJSON(w, fail(st))
		return
	}
	if action == "cdrapi" {
		body := u.cdrapi(p)
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_, _ = w.Write(body)
		return
	}
	dir, _ := paramString(p["filedir"])
	name, _ := paramString(p["filename"])
	secs, found := u.recordings[name]
	u.mu.Unlock()
	switch {
	case dir == "" || name == "" || strings.ContainsAny(name, "/\\") || strings.Contains(name, ".."):
		writeJSON(w, failMsg(StatusInvalidParams, "Invalid parameters!"))
	case !found || dir != "monitor":
		writeJSON(w, fail(StatusNoSuchItem))
	default:
		wav := makeWAV(secs)
		w.Header().Set("Content-Type", "audio/x-wav")
		w.Header().Set("Content-Length", strconv.Itoa(len(wav)))
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		_, _ = w.Write(wav)
	}
}

// makeWAV is a valid 8 kHz 16-bit mono PCM WAV: a 440 Hz tone.
func makeWAV(seconds int) []byte {
	const rate = 8000
	n := rate * seconds
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))        // PCM
	le(uint16(1))        // mono
	le(uint32(rate))     // sample rate
	le(uint32(rate * 2)) // byte rate
	le(uint16(2))        // block align
	le(uint16(16))       // bits per sample
	b.WriteString("data")
	le(uint32(2 * n))
	for i := range n {
		le(int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return b.Bytes()
}

// Recordings lists the recording files the unit holds, for tests.
func (u *UCM) Recordings() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]string, 0, len(u.recordings))
	for name := range u.recordings {
		out = append(out, name)
	}
	return out
}
