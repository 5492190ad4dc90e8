package ucmsim

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// SIP trunks: listVoIPTrunk, addSIPTrunk, getSIPTrunk, updateSIPTrunk and
// deleteSIPTrunk (vendor guide Tables 10-14). A trunk is stored as the
// "trunk" object getSIPTrunk returns, with the sample's JSON types:
// trunk_index and the int columns as numbers, yes/no as strings, unset
// strings as null.

// newSIPTrunk returns a trunk with the defaults of getSIPTrunk's sample.
func newSIPTrunk(index int, name, host, typ string) map[string]any {
	return map[string]any{
		"allow": "ulaw,alaw,gsm,g726,g729,ilbc", "allow_outgoing_calls_if_reg_failed": "yes",
		"auth_trunk": "no", "authid": nil, "auto_recording": "no", "cc_agent_policy": "never",
		"cc_max_agents": 5, "cc_max_monitors": 5, "cc_monitor_policy": "never", "cidname": nil,
		"cidnumber": nil, "dialin_direct": "no", "did_mode": "request-line", "dtmfmode": nil,
		"enable_qualify": "no", "encryption": "no", "fax_intelligent_route": "no",
		"fax_intelligent_route_destination": nil, "faxdetect": "no", "fromdomain": nil,
		"fromuser": nil, "host": host, "keepcid": "no", "keeporgcid": "no",
		"ldap_custom_prefix": nil, "ldap_default_outrt": nil, "ldap_default_outrt_prefix": nil,
		"ldap_sync_enable": "no", "ldap_sync_passwd": nil, "ldap_sync_port": nil, "nat": "no",
		"need_register": ynBool(typ == "register"), "out_maxchans": 0, "out_of_service": "no",
		"outboundproxy": nil, "pai_number": nil, "passthrough_pai": "yes", "qualifyfreq": 60,
		"rmv_obp_from_route": "no", "secret": nil, "send_ppi": "no", "status": "Unmonitored",
		"tel_uri": "disabled", "transport": "udp", "trunk_index": index, "trunk_name": name,
		"trunk_type": typ, "uri_sip_or_sips": 0, "use_dod_as_from_name": "no",
		"use_dod_in_ppi": "no", "use_for_sfu_conf": "no", "use_origcid_in_ppi": "no",
		"username": nil,
	}
}

func ynBool(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// sipTrunkRule is the rule of an updateSIPTrunk parameter (Table 13);
// addSIPTrunk takes the same plus trunk_type (Table 11).
func sipTrunkRule(name string, forAdd bool) (rule, bool) {
	maxLen := func(lo, hi int, nullable bool) rule {
		return rule{kind: kStr, nullable: nullable, check: func(s string) bool {
			return len(s) >= lo && len(s) <= hi && isText(s)
		}}
	}
	switch name {
	case "allow_outgoing_calls_if_reg_failed", "auth_trunk", "auto_recording", "dialin_direct",
		"enable_qualify", "fax_intelligent_route", "faxdetect", "keepcid", "keeporgcid",
		"ldap_sync_enable", "nat", "need_register", "out_of_service", "passthrough_pai",
		"rmv_obp_from_route", "send_ppi", "use_dod_in_ppi", "use_origcid_in_ppi", "use_for_sfu_conf":
		return rule{kind: kYesNo}, true
	case "cc_agent_policy", "cc_monitor_policy":
		return enum("native", "never"), true
	case "did_mode":
		return enum("request-line", "to-header"), true
	case "dtmfmode":
		r := enum("rfc4733", "rfc2833", "info", "inband", "auto")
		r.nullable = true
		return r, true
	case "encryption":
		return enum("no", "yes", "support"), true
	case "tel_uri":
		return enum("disabled", "user_phone", "enabled"), true
	case "transport":
		return enum("udp", "tcp", "tls"), true
	case "cc_max_agents", "cc_max_monitors":
		return rule{kind: kInt, min: 1, max: 999}, true
	case "out_maxchans":
		return rule{kind: kInt, min: 0, max: 999}, true
	case "qualifyfreq":
		return rule{kind: kInt, min: 1, max: 3600}, true
	case "ldap_sync_port":
		return rule{kind: kInt, min: 1, max: 65534, nullable: true}, true
	case "ldap_default_outrt":
		return rule{kind: kInt, min: 1, max: 1 << 30, nullable: true}, true
	case "trunk_name":
		return maxLen(2, 64, false), true
	case "host":
		return maxLen(1, 60, false), true
	case "username", "authid", "fromuser":
		return maxLen(1, 64, true), true
	case "secret":
		return rule{kind: kStr, nullable: true, check: func(s string) bool { return len(s) <= 64 && isPrintable(s) }}, true
	case "cidname", "cidnumber":
		return maxLen(2, 64, true), true
	case "fromdomain", "pai_number":
		return maxLen(1, 60, true), true
	case "ldap_custom_prefix":
		return maxLen(1, 14, true), true
	case "outboundproxy", "fax_intelligent_route_destination":
		return maxLen(1, 255, true), true
	case "ldap_sync_passwd":
		return rule{kind: kStr, nullable: true, check: func(s string) bool {
			return len(s) >= 4 && len(s) <= 64 && isAlnum(strings.ReplaceAll(s, "_", ""))
		}}, true
	case "allow":
		return rule{kind: kStr, check: validCodecs}, true
	case "trunk_type":
		if forAdd {
			return enum("peer", "register"), true
		}
	}
	return rule{}, false
}

// sipTrunkChanges validates every parameter; the caller writes them only if
// all are valid. skip names the id parameters of the action.
func sipTrunkChanges(p map[string]any, forAdd bool, skip ...string) (map[string]any, reply, bool) {
	out := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(p)) {
		if name == "action" || name == "cookie" || slices.Contains(skip, name) {
			continue
		}
		r, known := sipTrunkRule(name, forAdd)
		if !known {
			return nil, failMsg(StatusInvalidParams, "Invalid parameters! unknown parameter: "+name), true
		}
		val, valid := r.normalize(p[name])
		if !valid {
			return nil, failMsg(StatusInvalidValue, "Invalid value: "+name), true
		}
		out[name] = val
	}
	return out, reply{}, false
}

// trunkNameTaken reports whether any trunk (SIP, analog or digital) other
// than except is called name: the web UI refuses a duplicate provider name
// across trunk kinds, as routes name trunks by it.
func (u *UCM) trunkNameTaken(name string, except int) bool {
	for _, t := range u.sipTrunks {
		if t["trunk_name"] == name && t["trunk_index"] != except {
			return true
		}
	}
	for _, t := range u.analogTrunks {
		if t["trunk_name"] == name && t["trunk_index"] != except {
			return true
		}
	}
	return false
}

// nextTrunk hands out trunk indexes. Real units number SIP and analog trunks
// in one sequence as far as the guide's samples show (SIP 2-4, analog 7);
// the simulator does the same so an index never names two trunks.
func (u *UCM) nextTrunk() int {
	u.trunkSeq++
	return u.trunkSeq
}

func (u *UCM) listVoIPTrunk(p map[string]any) reply {
	rows := make([]map[string]any, 0, len(u.sipTrunks))
	for _, t := range u.sipTrunks {
		rows = append(rows, map[string]any{
			"trunk_index": t["trunk_index"], "trunk_name": t["trunk_name"], "host": t["host"],
			"trunk_type": t["trunk_type"], "username": t["username"], "technology": "SIP",
			"ldap_sync_enable": t["ldap_sync_enable"], "out_of_service": t["out_of_service"],
		})
	}
	return pageList(p, "voip_trunk", "trunk_index", rows, map[string]string{"trunks.out_of_service": "out_of_service"}, nil)
}

// trunkParam reads the trunk id parameter ("trunk" for SIP trunks).
func trunkParam(p map[string]any, key string) (int, reply, bool) {
	v, given := p[key]
	if !given {
		return 0, failMsg(StatusInvalidParams, "Invalid parameters! "+key+" is required"), false
	}
	n, valid := paramInt(v)
	if !valid {
		return 0, failMsg(StatusInvalidValue, "Invalid value: "+key), false
	}
	return n, reply{}, true
}

func (u *UCM) getSIPTrunk(p map[string]any) reply {
	n, rep, valid := trunkParam(p, "trunk")
	if !valid {
		return rep
	}
	t, found := u.sipTrunks[n]
	if !found {
		return failMsg(StatusNoSuchItem, "No such item: trunk "+strconv.Itoa(n))
	}
	return ok(map[string]any{"trunk": cloneMap(t)})
}

func (u *UCM) addSIPTrunk(p map[string]any) reply {
	ch, rep, failed := sipTrunkChanges(p, true)
	if failed {
		return rep
	}
	for _, req := range []string{"trunk_name", "host", "trunk_type"} {
		if ch[req] == nil {
			return failMsg(StatusInvalidParams, "Invalid parameters! "+req+" is required")
		}
	}
	// Table 11: username is mandatory and the secret "Required for register
	// trunks"; a peer trunk has neither (getSIPTrunk shows null).
	if ch["trunk_type"] == "register" && (ch["username"] == nil || ch["secret"] == nil) {
		return failMsg(StatusInvalidParams, "Invalid parameters! a register trunk needs username and secret")
	}
	name := ch["trunk_name"].(string)
	if u.trunkNameTaken(name, 0) {
		return failMsg(StatusItemExists, "Item already added: trunk_name "+name)
	}
	idx := u.nextTrunk()
	t := newSIPTrunk(idx, name, ch["host"].(string), ch["trunk_type"].(string))
	maps.Copy(t, ch)
	u.sipTrunks[idx] = t
	u.markPending()
	return ok(needApply())
}

func (u *UCM) updateSIPTrunk(p map[string]any) reply {
	n, rep, valid := trunkParam(p, "trunk")
	if !valid {
		return rep
	}
	t, found := u.sipTrunks[n]
	if !found {
		return failMsg(StatusNoSuchItem, "No such item: trunk "+strconv.Itoa(n))
	}
	ch, rep, failed := sipTrunkChanges(p, false, "trunk")
	if failed {
		return rep
	}
	if name, renamed := ch["trunk_name"].(string); renamed && u.trunkNameTaken(name, n) {
		return failMsg(StatusItemExists, "Item already added: trunk_name "+name)
	}
	maps.Copy(t, ch)
	u.markPending()
	return ok(needApply())
}

func (u *UCM) deleteSIPTrunk(p map[string]any) reply {
	n, rep, valid := trunkParam(p, "trunk")
	if !valid {
		return rep
	}
	if _, found := u.sipTrunks[n]; !found {
		return failMsg(StatusNoSuchItem, "No such item: trunk "+strconv.Itoa(n))
	}
	delete(u.sipTrunks, n)
	u.markPending()
	return ok(needApply())
}

// SIPTrunk returns a deep copy of the stored getSIPTrunk object of trunk
// index, so tests can assert what a write stored (secrets included).
func (u *UCM) SIPTrunk(index int) (map[string]any, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, found := u.sipTrunks[index]
	if !found {
		return nil, false
	}
	return cloneMap(t), true
}
