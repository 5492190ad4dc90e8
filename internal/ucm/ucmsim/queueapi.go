package ucmsim

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// queueapi answers queue statistics without the envelope, like cdrapi
// (FACTS.md): {"root_statistics":{"queue":[{queue, total_calls,
// answered_calls, answered_rate, abandoned_calls, abandoned_rate, avg_wait,
// avg_talk, sla_rate, transfer_out_calls}]}}, every value a string. Failures
// (a dead cookie) still come back as the envelope.
//
// FACTS.md gives the parameters format:"json", queue, startTime and endTime
// but not the time format; a peer sends dates (YYYY-MM-DD). The simulator is
// strict about what it does not know: format must be "json" (units also
// speak csv and xml), startTime and endTime are required dates, read as whole
// days with both ends included, and anything malformed is refused with -1.
// Peers also send statisticsType and agent, which the simulator does not
// model: it refuses them (-1) rather than ignore them.
// queue is optional (every queue); a queue the unit does not have gets an
// empty list, as cdrapi answers a filter that matches nothing. Rates are
// percentages, waits and talk times average seconds, with two decimals.

// queueDay is one day of a queue's statistics.
type queueDay struct {
	day                                     time.Time // UTC midnight
	total, answered, abandoned, transferOut int
	waitSecs, talkSecs                      int // summed over the day's calls
	withinSLA                               int // calls answered within the service level
}

// QueueDayStats is one day of queue statistics, as tests set them with
// AddQueueStats.
type QueueDayStats struct {
	Total, Answered, Abandoned, TransferOut int
	WaitSeconds, TalkSeconds                int // summed over the calls
	WithinSLA                               int
}

// AddQueueStats adds one day of statistics to a queue (it need not exist:
// the statistics of a deleted queue stay on a unit).
func (u *UCM) AddQueueStats(queue string, day time.Time, s QueueDayStats) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.cc.stats[queue] = append(u.cc.stats[queue], queueDay{
		day: day.UTC().Truncate(24 * time.Hour), total: s.Total, answered: s.Answered, abandoned: s.Abandoned,
		transferOut: s.TransferOut, waitSecs: s.WaitSeconds, talkSecs: s.TalkSeconds, withinSLA: s.WithinSLA,
	})
}

// serveQueueAPI answers queueapi.
func (u *UCM) serveQueueAPI(w http.ResponseWriter, p map[string]any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if st := u.authorize(p, time.Now()); st != StatusOK {
		writeJSON(w, fail(st))
		return
	}
	if rep, bad := onlyParams(p, "format", "queue", "startTime", "endTime"); bad {
		writeJSON(w, rep)
		return
	}
	str := func(k string) string { s, _ := paramString(p[k]); return s }
	from, errFrom := time.ParseInLocation(time.DateOnly, str("startTime"), time.UTC)
	to, errTo := time.ParseInLocation(time.DateOnly, str("endTime"), time.UTC)
	if str("format") != "json" || errFrom != nil || errTo != nil || to.Before(from) {
		writeJSON(w, failMsg(StatusInvalidParams, "Invalid parameters!"))
		return
	}
	queues := slices.Sorted(maps.Keys(u.cc.queues))
	if q := str("queue"); q != "" {
		queues = nil
		if _, exists := u.cc.queues[q]; exists {
			queues = []string{q}
		}
	}
	rows := []any{}
	for _, q := range queues {
		var sum queueDay
		for _, d := range u.cc.stats[q] {
			if d.day.Before(from) || d.day.After(to) {
				continue
			}
			sum.total, sum.answered, sum.abandoned = sum.total+d.total, sum.answered+d.answered, sum.abandoned+d.abandoned
			sum.transferOut, sum.waitSecs, sum.talkSecs = sum.transferOut+d.transferOut, sum.waitSecs+d.waitSecs, sum.talkSecs+d.talkSecs
			sum.withinSLA += d.withinSLA
		}
		rows = append(rows, map[string]any{
			"queue": q, "total_calls": strconv.Itoa(sum.total), "answered_calls": strconv.Itoa(sum.answered),
			"abandoned_calls": strconv.Itoa(sum.abandoned), "transfer_out_calls": strconv.Itoa(sum.transferOut),
			"answered_rate": ratio(100*sum.answered, sum.total), "abandoned_rate": ratio(100*sum.abandoned, sum.total),
			"avg_wait": ratio(sum.waitSecs, sum.total), "avg_talk": ratio(sum.talkSecs, sum.answered),
			"sla_rate": ratio(100*sum.withinSLA, sum.total),
		})
	}
	body, _ := json.Marshal(map[string]any{"root_statistics": map[string]any{"queue": rows}})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(body)
}

// ratio is n/d with two decimals, "0.00" when d is 0.
func ratio(n, d int) string {
	if d == 0 {
		return "0.00"
	}
	return strconv.FormatFloat(float64(n)/float64(d), 'f', 2, 64)
}
