package ucmsim

import (
	"maps"
	"slices"
	"strings"
)

// Call queues: listQueue, getQueue{queue} (→ response.queue), addQueue,
// updateQueue{queue, …} and deleteQueue{queue}, all writes need_apply
// (FACTS.md "Other actions", seen on a UCM6510). A queue is stored as the
// object getQueue returns: strings for names and yes/no, numbers for the
// timers, members as the comma-separated list of extensions.

// queueRule is the rule of an addQueue/updateQueue parameter. FACTS.md names
// the parameters and the strategies but gives no ranges: the bounds below are
// an assumption (the web UI's usual limits), and anything else is refused, so
// a client is never tested against a value a unit might not take. members must
// name extensions the unit has (the web UI offers nothing else).
func queueRule(name string) (rule, bool) {
	switch name {
	case "queue_name":
		return rule{kind: kStr, check: func(s string) bool { return len(s) <= 64 && isText(s) }}, true
	case "strategy":
		return enum("ringall", "linear", "rrmemory", "leastrecent", "fewestcalls", "random"), true
	case "members":
		return rule{kind: kStr, allowEmpty: true, check: func(s string) bool {
			for m := range strings.SplitSeq(s, ",") {
				if !isDigits(m) {
					return false
				}
			}
			return true
		}}, true
	case "ringtime":
		return rule{kind: kInt, min: 1, max: 600}, true
	case "queue_timeout":
		return rule{kind: kInt, min: 0, max: 86400}, true
	case "maxlen":
		return rule{kind: kInt, min: 0, max: 1000}, true
	case "retry":
		return rule{kind: kInt, min: 0, max: 600}, true
	case "wrapuptime":
		return rule{kind: kInt, min: 0, max: 3600}, true
	case "musicclass":
		return rule{kind: kStr, check: func(s string) bool { return len(s) <= 64 && isText(s) }}, true
	case "enable_agent_login":
		return rule{kind: kYesNo}, true
	}
	return rule{}, false
}

// queueRow is a listQueue item: the fields peers read from the list.
func queueRow(q map[string]any) map[string]any {
	return map[string]any{"extension": q["extension"], "queue_name": q["queue_name"],
		"strategy": q["strategy"], "members": q["members"]}
}

func (u *UCM) listQueue(p map[string]any) reply {
	rows := make([]map[string]any, 0, len(u.cc.queues))
	for _, ext := range slices.Sorted(maps.Keys(u.cc.queues)) {
		rows = append(rows, queueRow(u.cc.queues[ext]))
	}
	return pageList(p, "queue", "extension", rows, nil, nil)
}

// queueParam returns the queue named by the "queue" parameter, or the reply
// that refuses the request.
func (u *UCM) queueParam(p map[string]any) (map[string]any, reply, bool) {
	ext, _ := paramString(p["queue"])
	if ext == "" {
		return nil, failMsg(StatusInvalidParams, "Invalid parameters! queue is required"), false
	}
	q, found := u.cc.queues[ext]
	if !found {
		return nil, failMsg(StatusNoSuchItem, "No such item: queue "+ext), false
	}
	return q, reply{}, true
}

func (u *UCM) getQueue(p map[string]any) reply {
	q, rep, found := u.queueParam(p)
	if !found {
		return rep
	}
	return ok(map[string]any{"queue": cloneMap(q)})
}

func (u *UCM) addQueue(p map[string]any) reply {
	ext, _ := paramString(p["extension"])
	name, _ := paramString(p["queue_name"])
	strategy, _ := paramString(p["strategy"])
	if ext == "" || name == "" || strategy == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters! extension, queue_name and strategy are required")
	}
	if len(ext) < 2 || len(ext) > 18 || !isDigits(ext) {
		return failMsg(StatusInvalidValue, "Invalid value: extension")
	}
	if _, taken := u.cc.queues[ext]; taken {
		return failMsg(StatusItemExists, "Item already added: queue "+ext)
	}
	if _, taken := u.accounts[ext]; taken {
		// A number belongs to one thing on a unit.
		return failMsg(StatusItemExists, "Item already added: extension "+ext)
	}
	q := map[string]any{"extension": ext, "members": "", "ringtime": 30, "wrapuptime": 0, "maxlen": 0,
		"retry": 5, "queue_timeout": 0, "musicclass": "default", "enable_agent_login": "no"}
	if rep, failed := u.setQueueParams(q, p, "extension"); failed {
		return rep
	}
	u.cc.queues[ext] = q
	u.markPending()
	return ok(needApply())
}

func (u *UCM) updateQueue(p map[string]any) reply {
	q, rep, found := u.queueParam(p)
	if !found {
		return rep
	}
	if rep, failed := u.setQueueParams(q, p, "queue"); failed {
		return rep
	}
	u.markPending()
	return ok(needApply())
}

func (u *UCM) deleteQueue(p map[string]any) reply {
	q, rep, found := u.queueParam(p)
	if !found {
		return rep
	}
	ext := q["extension"].(string)
	delete(u.cc.queues, ext)
	delete(u.cc.loggedIn, ext)
	u.markPending()
	return ok(needApply())
}

// setQueueParams validates every parameter (id is the one naming the
// queue) and, only if all are valid, stores them in q.
func (u *UCM) setQueueParams(q, p map[string]any, id string) (reply, bool) {
	set := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(p)) {
		if name == "action" || name == "cookie" || name == id {
			continue
		}
		r, known := queueRule(name)
		if !known {
			return failMsg(StatusInvalidParams, "Invalid parameters! unknown parameter: "+name), true
		}
		v, valid := r.normalize(p[name])
		if !valid {
			return failMsg(StatusInvalidValue, "Invalid value: "+name), true
		}
		set[name] = v
	}
	if members, given := set["members"].(string); given && members != "" {
		for m := range strings.SplitSeq(members, ",") {
			if _, exists := u.accounts[m]; !exists {
				return failMsg(StatusInvalidValue, "Invalid value: members ("+m+" is not an extension)"), true
			}
		}
	}
	maps.Copy(q, set)
	return reply{}, false
}

// queueMembers returns the agents of a queue, in the order configured.
func queueMembers(q map[string]any) []string {
	s, _ := q["members"].(string)
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Queue returns a deep copy of the stored getQueue object of ext, for tests.
func (u *UCM) Queue(ext string) (map[string]any, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	q, found := u.cc.queues[ext]
	if !found {
		return nil, false
	}
	return cloneMap(q), true
}
