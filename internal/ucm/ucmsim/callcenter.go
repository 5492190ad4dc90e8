package ucmsim

import "time"

// The call center and routing objects (FACTS.md "Other actions"): queues
// and their agents, queue statistics (queueapi), callers waiting in a queue,
// inbound and outbound routes, IVRs, paging groups, extension groups and the
// users behind the extensions. Each action lives in the file named after its
// object; this file holds their state and the dispatch.

// callCenter is the state of those objects. Called with u.mu held, like
// everything else on the unit.
type callCenter struct {
	queues   map[string]map[string]any  // queue extension -> getQueue's "queue" object
	loggedIn map[string]map[string]bool // queue -> agent extension -> logged in (queues with agent login)
	paused   map[string]bool            // agent extension -> paused (in every queue: pausing is per agent)
	stats    map[string][]queueDay      // queue -> days of statistics, for queueapi

	inboundRoutes, outboundRoutes, ivrs, pagingGroups, extensionGroups []map[string]any
}

func newCallCenter() callCenter {
	return callCenter{
		queues:   make(map[string]map[string]any),
		loggedIn: make(map[string]map[string]bool),
		paused:   make(map[string]bool),
		stats:    make(map[string][]queueDay),
	}
}

// handleCallCenter dispatches the actions of these objects. Called with u.mu
// held; known is false for any other action.
func (u *UCM) handleCallCenter(action string, p map[string]any) (rep reply, known bool) {
	handlers := map[string]func(map[string]any) reply{
		"listQueue": u.listQueue, "getQueue": u.getQueue, "addQueue": u.addQueue,
		"updateQueue": u.updateQueue, "deleteQueue": u.deleteQueue,
		"loginLogoffQueueAgent": u.loginLogoffQueueAgent, "pauseUnpauseQueueAgent": u.pauseUnpauseQueueAgent,
		"listInboundRoute": u.listInboundRoute, "getInboundRoute": u.getInboundRoute,
		"listOutboundRoute": u.listOutboundRoute, "getOutboundRoute": u.getOutboundRoute,
		"listIVR": u.listIVR, "getIVR": u.getIVR, "deleteIVR": u.deleteIVR, "listPaginggroup": u.listPaginggroup, "listExtensionGroup": u.listExtensionGroup,
		"listUser": u.listUser, "getUser": u.getUser, "updateUser": u.updateUser,
		"dialOutboundTwo": u.dialOutboundTwo, "dialIVROutbound": u.dialIVROutbound,
	}
	h, known := handlers[action]
	if !known {
		return reply{}, false
	}
	return h(p), true
}

// loadCallCenterSeed installs the demo queues, routes, IVR, paging and
// extension groups, and a week of queue statistics ending today. Called from
// New only (with Seed), after the extensions and trunks it refers to.
func (u *UCM) loadCallCenterSeed() {
	for _, q := range []map[string]any{
		{"extension": "6500", "queue_name": "Support", "strategy": "ringall", "members": "1000,1001",
			"ringtime": 30, "wrapuptime": 10, "maxlen": 0, "retry": 5, "queue_timeout": 600,
			"musicclass": "default", "enable_agent_login": "no"},
		{"extension": "6501", "queue_name": "Sales", "strategy": "rrmemory", "members": "1002,1003",
			"ringtime": 20, "wrapuptime": 5, "maxlen": 10, "retry": 5, "queue_timeout": 300,
			"musicclass": "default", "enable_agent_login": "yes"},
	} {
		u.cc.queues[q["extension"].(string)] = q
	}
	u.cc.loggedIn["6501"] = map[string]bool{"1002": true, "1003": false}

	today := time.Now().UTC().Truncate(24 * time.Hour)
	for d := range 7 {
		day := today.AddDate(0, 0, -d)
		u.cc.stats["6500"] = append(u.cc.stats["6500"], queueDay{day: day, total: 24 - d, answered: 21 - d, abandoned: 3,
			transferOut: 1, waitSecs: 18 * (24 - d), talkSecs: 185 * (21 - d), withinSLA: 19 - d})
		u.cc.stats["6501"] = append(u.cc.stats["6501"], queueDay{day: day, total: 9, answered: 8, abandoned: 1,
			waitSecs: 9 * 25, talkSecs: 8 * 240, withinSLA: 7})
	}

	reg, peer := u.sipTrunkIndex("carrier-register"), u.sipTrunkIndex("branch-peer")
	u.cc.inboundRoutes = []map[string]any{
		{"inbound_rt_index": 1, "trunk_index": reg, "did_pattern_match": "_X.",
			"destination_type": "queue", "queue": "6500", "out_of_service": "no"},
	}
	u.cc.outboundRoutes = []map[string]any{
		{"outbound_rt_index": 1, "outbound_rt_name": "national", "pattern": "_0XXXXXXXXX",
			"permission": "internal-local-national", "default_trunk_index": reg, "out_of_service": "no"},
		{"outbound_rt_index": 2, "outbound_rt_name": "branch", "pattern": "_7XXX",
			"permission": "internal", "default_trunk_index": peer, "out_of_service": "no"},
	}
	u.cc.ivrs = []map[string]any{
		{"extension": "7000", "ivr_name": "Main menu", "prompt": "welcome", "dial_extension": "yes", "ivr_out_of_service": "no"},
	}
	u.cc.pagingGroups = []map[string]any{
		{"extension": "7100", "paginggroup_name": "Warehouse", "paginggroup_type": "2way", "members": "1000,1001,1005"},
	}
	u.cc.extensionGroups = []map[string]any{
		{"group_id": "extension_group-1", "group_name": "Front office", "members": "1000,1001,1005"},
	}
}

// sipTrunkIndex is the index of the SIP trunk called name (0 if none).
func (u *UCM) sipTrunkIndex(name string) int {
	for i, t := range u.sipTrunks {
		if t["trunk_name"] == name {
			return i
		}
	}
	return 0
}
