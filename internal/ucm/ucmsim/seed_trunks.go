package ucmsim

// loadTrunkSeed installs demo trunks and the read-only PBX objects the
// "other actions" return. Called from New only (with Seed).
func (u *UCM) loadTrunkSeed() {
	reg := newSIPTrunk(u.nextTrunk(), "carrier-register", "sip.carrier.example", "register")
	reg["username"], reg["secret"] = "4930123456", "Tr7#kS3cret!9Reg"
	reg["status"], reg["need_register"], reg["allow"] = "Registered", "yes", "ulaw,alaw,g722"
	reg["cidnumber"], reg["keepcid"] = "4930123456", "yes"
	u.sipTrunks[reg["trunk_index"].(int)] = reg

	peer := newSIPTrunk(u.nextTrunk(), "branch-peer", "192.0.2.40", "peer")
	peer["enable_qualify"], peer["status"], peer["transport"] = "yes", "Reachable", "tcp"
	peer["ldap_sync_passwd"] = "Ldap_Peer_Sync_77"
	u.sipTrunks[peer["trunk_index"].(int)] = peer

	an := newAnalogTrunk(u.nextTrunk(), "pstn-line-1")
	u.analogTrunks[an["trunk_index"].(int)] = an

	u.digitalTrunks = []map[string]any{{
		"channel": "1-15,17-31", "out_of_service": "no", "span": 3, "trunk_index": "1",
		"trunk_name": "e1-carrier", "type": "E1 (CPE)",
	}}
	u.queues = []map[string]any{
		{"extension": "6500", "queue_name": "Support", "strategy": "ringall", "members": "1000,1001",
			"ring_time": 30, "wrapuptime": 10, "maxlen": 0, "musicclass": "default", "enable_agent_login": "no"},
		{"extension": "6501", "queue_name": "Sales", "strategy": "rrmemory", "members": "1002,1003",
			"ring_time": 20, "wrapuptime": 5, "maxlen": 10, "musicclass": "default", "enable_agent_login": "yes"},
	}
	u.inboundRoutes = []map[string]any{
		{"inbound_rt_index": 1, "trunk_index": reg["trunk_index"], "did_pattern_match": "_X.",
			"destination_type": "queue", "queue": "6500", "out_of_service": "no"},
	}
	u.outboundRoutes = []map[string]any{
		{"outbound_rt_index": 1, "outbound_rt_name": "national", "pattern": "_0XXXXXXXXX",
			"permission": "internal-local-national", "default_trunk_index": reg["trunk_index"], "out_of_service": "no"},
		{"outbound_rt_index": 2, "outbound_rt_name": "branch", "pattern": "_7XXX",
			"permission": "internal", "default_trunk_index": peer["trunk_index"], "out_of_service": "no"},
	}
	u.ivrs = []map[string]any{
		{"extension": "7000", "ivr_name": "Main menu", "prompt": "welcome", "dial_extension": "yes", "ivr_out_of_service": "no"},
	}
	u.extensionGroups = []map[string]any{
		{"group_id": "extension_group-1", "group_name": "Front office", "members": "1000,1001,1005"},
	}
}
