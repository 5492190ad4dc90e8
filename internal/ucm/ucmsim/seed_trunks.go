package ucmsim

// loadTrunkSeed installs the demo trunks. Called from New only (with Seed).
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
}
