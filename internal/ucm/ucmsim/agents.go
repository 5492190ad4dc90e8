package ucmsim

import "slices"

// Queue agents. pauseUnpauseQueueAgent{operatetype: pause|unpause,
// interface: <extension>} is what erxes sends in production (FACTS.md); it
// names no queue, so the agent is paused in every queue. Peers read the
// reply's need_apply and treat "no" as done: these are operations, not
// configuration, and stage nothing.
//
// loginLogoffQueueAgent's parameters are not published (FACTS.md gives a
// guess). The simulator takes the ones the UCM's own web interface and a PHP
// client send: operatetype login|logoff, interface (the agent's extension)
// and extension (the queue's). Because this is a guess, it is strict: every
// parameter is required, nothing else is accepted, the agent must be one of
// the queue's members, and only a queue with agent login can log agents in or
// out (FACTS.md: it logs a *dynamic* agent; the members of other queues are
// static and always in the queue).

func (u *UCM) pauseUnpauseQueueAgent(p map[string]any) reply {
	if rep, bad := onlyParams(p, "operatetype", "interface"); bad {
		return rep
	}
	op, _ := paramString(p["operatetype"])
	agent, _ := paramString(p["interface"])
	if op == "" || agent == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters! operatetype and interface are required")
	}
	if op != "pause" && op != "unpause" {
		return failMsg(StatusInvalidValue, "Invalid value: operatetype")
	}
	if !u.isAgent(agent) {
		return failMsg(StatusNoSuchItem, "No such item: queue agent "+agent)
	}
	u.cc.paused[agent] = op == "pause"
	return ok(map[string]any{"need_apply": "no"})
}

func (u *UCM) loginLogoffQueueAgent(p map[string]any) reply {
	if rep, bad := onlyParams(p, "operatetype", "interface", "extension"); bad {
		return rep
	}
	op, _ := paramString(p["operatetype"])
	agent, _ := paramString(p["interface"])
	ext, _ := paramString(p["extension"])
	if op == "" || agent == "" || ext == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters! operatetype, interface and extension are required")
	}
	if op != "login" && op != "logoff" {
		return failMsg(StatusInvalidValue, "Invalid value: operatetype")
	}
	q, found := u.cc.queues[ext]
	if !found {
		return failMsg(StatusNoSuchItem, "No such item: queue "+ext)
	}
	if !slices.Contains(queueMembers(q), agent) {
		return failMsg(StatusNoSuchItem, "No such item: agent "+agent+" of queue "+ext)
	}
	if q["enable_agent_login"] != "yes" {
		return failMsg(StatusInvalidValue, "Invalid value: queue "+ext+" has no agent login")
	}
	if u.cc.loggedIn[ext] == nil {
		u.cc.loggedIn[ext] = make(map[string]bool)
	}
	u.cc.loggedIn[ext][agent] = op == "login"
	return ok(map[string]any{"need_apply": "no"})
}

// isAgent reports whether ext is a member of any queue.
func (u *UCM) isAgent(ext string) bool {
	for _, q := range u.cc.queues {
		if slices.Contains(queueMembers(q), ext) {
			return true
		}
	}
	return false
}

// onlyParams refuses (-1) a request carrying a parameter other than the
// named ones, action and cookie.
func onlyParams(p map[string]any, names ...string) (reply, bool) {
	for k := range p {
		if k != "action" && k != "cookie" && !slices.Contains(names, k) {
			return failMsg(StatusInvalidParams, "Invalid parameters! unknown parameter: "+k), true
		}
	}
	return reply{}, false
}

// AgentState is what the unit holds about one agent of a queue, for tests.
type AgentState struct {
	// LoggedIn is true for a static member, and for a logged-in agent of a
	// queue with agent login.
	LoggedIn bool
	// Paused is per agent, in every queue.
	Paused bool
}

// QueueAgent returns the state of agent in queue; found is false if the
// queue does not exist or agent is not one of its members.
func (u *UCM) QueueAgent(queue, agent string) (st AgentState, found bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	q, exists := u.cc.queues[queue]
	if !exists || !slices.Contains(queueMembers(q), agent) {
		return AgentState{}, false
	}
	st.LoggedIn = q["enable_agent_login"] != "yes" || u.cc.loggedIn[queue][agent]
	st.Paused = u.cc.paused[agent]
	return st, true
}
