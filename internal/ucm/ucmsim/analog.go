package ucmsim

import (
	"maps"
	"slices"
	"strconv"
)

// Analog trunks: listAnalogTrunk, addAnalogTrunk, getAnalogTrunk,
// updateAnalogTrunk, deleteAnalogTrunk and the SLA actions (Tables 15-21),
// with the guide's quirks: the id parameter is "analogtrunk" for get and
// delete, "trunk_index" for update (whose sample sends "trunkgroup"
// instead, so either is accepted), and add takes a mandatory "trunkgroup"
// that is 0 when adding. getAnalogTrunk returns "chans" as a string and
// "trunk_index"/"trunkgroup" as numbers, as in the guide's sample.

func newAnalogTrunk(index int, name string) map[string]any {
	return map[string]any{
		"auto_record": "no", "busy": "f1=480@-50,f2=620@-50,c=500/500", "busycount": 2,
		"busydetect": "yes", "callerid": "asreceived", "chans": "1", "cidmode": 0,
		"cidsignalling": "bell", "cidstart": "ring",
		"congestion": "f1=480@-50,f2=620@-50,c=250/250", "congestioncount": 2,
		"congestiondetect": "yes", "countrytone": "us", "currentdisconnectthreshold": 200,
		"dahdilineselectmode": "ascend", "dialin_direct": "no", "echocancel": 128,
		"enablecurrentdisconnectthreshold": "yes", "fax_gateway": "no",
		"fax_intelligent_route": "no", "fax_intelligent_route_destination": nil,
		"faxdetect": "incoming", "fxooutbandcalldialdelay": 0, "lectype": 0, "out_maxchans": 0,
		"out_of_service": "no", "polarityonanswerdelay": 600, "polarityswitch": "no",
		"ringtimeout": 8000, "rxgain": 0.0, "tmp": index, "trunk_index": index,
		"trunk_name": name, "trunkgroup": index, "trunkmode": "normal", "txgain": 0.0,
		"usecallerid": "yes",
	}
}

// analogRule is the rule of an addAnalogTrunk/updateAnalogTrunk parameter
// (Table 16). Fields the table gives no range for accept what the web UI
// plausibly offers.
func analogRule(name string) (rule, bool) {
	text := func(hi int) rule {
		return rule{kind: kStr, check: func(s string) bool { return len(s) <= hi && isText(s) }}
	}
	switch name {
	case "auto_record", "busydetect", "congestiondetect", "dialin_direct",
		"enablecurrentdisconnectthreshold", "fax_gateway", "out_of_service", "polarityswitch",
		"usecallerid":
		return rule{kind: kYesNo}, true
	case "trunkmode":
		// Table 16 spells the values "Normal, SLA", the samples "normal"; firmware differs
		// (FACTS.md). Either casing is accepted and stored as sent.
		r := enum("normal", "sla")
		r.anyCase = true
		return r, true
	case "trunk_name":
		return rule{kind: kStr, check: func(s string) bool { return len(s) <= 64 && isText(s) }}, true
	case "chans":
		return rule{kind: kInt, min: 1, max: 64}, true
	case "busycount", "congestioncount":
		return rule{kind: kInt, min: 1, max: 100}, true
	case "currentdisconnectthreshold":
		return rule{kind: kInt, min: 50, max: 3000}, true
	case "fxooutbandcalldialdelay":
		return rule{kind: kInt, min: 0, max: 3000}, true
	case "polarityonanswerdelay":
		return rule{kind: kInt, min: 100, max: 2000}, true
	case "ringtimeout":
		return rule{kind: kInt, min: 4000, max: 20000}, true
	case "lectype", "cidmode", "out_maxchans":
		return rule{kind: kInt, min: 0, max: 999}, true
	case "rxgain", "txgain":
		return rule{kind: kReal, fmin: -13, fmax: 12}, true
	case "busy", "congestion":
		return text(128), true
	case "countrytone", "dahdilineselectmode", "cidsignalling", "cidstart":
		return text(32), true
	case "faxdetect":
		return enum("no", "incoming", "outgoing", "both"), true
	}
	return rule{}, false
}

func analogChanges(p map[string]any, skip ...string) (map[string]any, reply, bool) {
	out := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(p)) {
		if name == "action" || name == "cookie" || slices.Contains(skip, name) {
			continue
		}
		r, known := analogRule(name)
		if !known {
			return nil, failMsg(StatusInvalidParams, "Invalid parameters! unknown parameter: "+name), true
		}
		val, valid := r.normalize(p[name])
		if !valid {
			return nil, failMsg(StatusInvalidValue, "Invalid value: "+name), true
		}
		if name == "chans" {
			val = strconv.Itoa(val.(int)) // stored, and returned, as a string
		}
		out[name] = val
	}
	return out, reply{}, false
}

func (u *UCM) listAnalogTrunk(p map[string]any) reply {
	rows := make([]map[string]any, 0, len(u.analogTrunks))
	for _, t := range u.analogTrunks {
		rows = append(rows, map[string]any{
			"chans": t["chans"], "out_of_service": t["out_of_service"],
			"trunk_index": t["trunk_index"], "trunk_name": t["trunk_name"], "trunkmode": t["trunkmode"],
		})
	}
	return pageList(p, "analogtrunk", "trunk_index", rows, nil, nil)
}

func (u *UCM) analogTrunk(p map[string]any, keys ...string) (map[string]any, reply, bool) {
	for _, k := range keys {
		if _, given := p[k]; !given {
			continue
		}
		n, rep, valid := trunkParam(p, k)
		if !valid {
			return nil, rep, false
		}
		t, found := u.analogTrunks[n]
		if !found {
			return nil, failMsg(StatusNoSuchItem, "No such item: "+k+" "+strconv.Itoa(n)), false
		}
		return t, reply{}, true
	}
	return nil, failMsg(StatusInvalidParams, "Invalid parameters! "+keys[0]+" is required"), false
}

func (u *UCM) getAnalogTrunk(p map[string]any) reply {
	t, rep, found := u.analogTrunk(p, "analogtrunk")
	if !found {
		return rep
	}
	return ok(map[string]any{"analogtrunk": cloneMap(t)})
}

func (u *UCM) addAnalogTrunk(p map[string]any) reply {
	if _, given := p["trunkgroup"]; !given {
		return failMsg(StatusInvalidParams, "Invalid parameters! trunkgroup is required")
	}
	ch, rep, failed := analogChanges(p, "trunkgroup")
	if failed {
		return rep
	}
	name, _ := ch["trunk_name"].(string)
	if name == "" || ch["chans"] == nil {
		return failMsg(StatusInvalidParams, "Invalid parameters! trunk_name and chans are required")
	}
	if u.trunkNameTaken(name, 0) {
		return failMsg(StatusItemExists, "Item already added: trunk_name "+name)
	}
	for _, t := range u.analogTrunks {
		if t["chans"] == ch["chans"] {
			return failMsg(StatusItemExists, "Item already added: chans "+ch["chans"].(string))
		}
	}
	idx := u.nextTrunk()
	t := newAnalogTrunk(idx, name)
	maps.Copy(t, ch)
	u.analogTrunks[idx] = t
	u.markPending()
	return ok(needApply())
}

func (u *UCM) updateAnalogTrunk(p map[string]any) reply {
	t, rep, found := u.analogTrunk(p, "trunk_index", "trunkgroup")
	if !found {
		return rep
	}
	if a, b := p["trunk_index"], p["trunkgroup"]; a != nil && b != nil {
		x, _ := paramInt(a)
		y, _ := paramInt(b)
		if x != y {
			return failMsg(StatusInvalidValue, "Invalid value: trunkgroup")
		}
	}
	ch, rep, failed := analogChanges(p, "trunk_index", "trunkgroup")
	if failed {
		return rep
	}
	idx := t["trunk_index"].(int)
	if name, renamed := ch["trunk_name"].(string); renamed && u.trunkNameTaken(name, idx) {
		return failMsg(StatusItemExists, "Item already added: trunk_name "+name)
	}
	maps.Copy(t, ch)
	u.markPending()
	return ok(needApply())
}

func (u *UCM) deleteAnalogTrunk(p map[string]any) reply {
	t, rep, found := u.analogTrunk(p, "analogtrunk")
	if !found {
		return rep
	}
	delete(u.analogTrunks, t["trunk_index"].(int))
	delete(u.slaTrunks, t["trunk_index"].(int))
	u.markPending()
	return ok(needApply())
}

// slaChanges validates addSLATrunk/updateSLATrunk parameters (Table 20).
func slaChanges(p map[string]any) (map[string]any, reply, bool) {
	out := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(p)) {
		var r rule
		switch name {
		case "action", "cookie", "trunk_name", "trunk_index":
			continue
		case "bargeallowed":
			r = rule{kind: kYesNo}
		case "holdaccess":
			r = enum("open", "private")
		case "device":
			r = rule{kind: kStr, check: func(s string) bool { return len(s) <= 32 && isPrintable(s) }}
		default:
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

// addSLATrunk turns the analog trunk named trunk_name into an SLA trunk.
// Doing it twice is refused with -44, as for any item already added.
func (u *UCM) addSLATrunk(p map[string]any) reply {
	name, _ := paramString(p["trunk_name"])
	if name == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters! trunk_name is required")
	}
	ch, rep, failed := slaChanges(p)
	if failed {
		return rep
	}
	for idx, t := range u.analogTrunks {
		if t["trunk_name"] != name {
			continue
		}
		if _, exists := u.slaTrunks[idx]; exists {
			return failMsg(StatusItemExists, "Item already added: SLA trunk "+name)
		}
		sla := map[string]any{"bargeallowed": "yes", "holdaccess": "open", "device": "DAHDI/" + t["chans"].(string)}
		maps.Copy(sla, ch)
		u.slaTrunks[idx] = sla
		// Table 16's casing: no sample shows an SLA trunk, and units are not consistent.
		t["trunkmode"] = "SLA"
		u.markPending()
		return ok(needApply())
	}
	return failMsg(StatusNoSuchItem, "No such item: trunk_name "+name)
}

// updateSLATrunk changes an SLA trunk named by trunk_index; trunk_name is
// required as in addSLATrunk and renames the trunk.
func (u *UCM) updateSLATrunk(p map[string]any) reply {
	n, rep, valid := trunkParam(p, "trunk_index")
	if !valid {
		return rep
	}
	name, _ := paramString(p["trunk_name"])
	if name == "" {
		return failMsg(StatusInvalidParams, "Invalid parameters! trunk_name is required")
	}
	sla, found := u.slaTrunks[n]
	if !found {
		return failMsg(StatusNoSuchItem, "No such item: SLA trunk "+strconv.Itoa(n))
	}
	ch, rep, failed := slaChanges(p)
	if failed {
		return rep
	}
	if u.trunkNameTaken(name, n) {
		return failMsg(StatusItemExists, "Item already added: trunk_name "+name)
	}
	maps.Copy(sla, ch)
	u.analogTrunks[n]["trunk_name"] = name
	u.markPending()
	return ok(needApply())
}

// AnalogTrunk returns a deep copy of the stored getAnalogTrunk object of
// index and its SLA settings (nil when it is not an SLA trunk).
func (u *UCM) AnalogTrunk(index int) (trunk, sla map[string]any, found bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, found := u.analogTrunks[index]
	if !found {
		return nil, nil, false
	}
	if s, isSLA := u.slaTrunks[index]; isSLA {
		sla = cloneMap(s)
	}
	return cloneMap(t), sla, true
}

// listDigitalTrunk lists the digital trunks under the key "digital_trunks",
// with trunk_index as a string (the guide's sample; a number elsewhere).
// The simulator has no digital ports to configure: the seeded trunks are
// read-only, and get/add/update/deleteDigitalTrunk, whose parameters the
// guide does not document, are unknown actions (-1).
func (u *UCM) listDigitalTrunk(p map[string]any) reply {
	rows := make([]map[string]any, 0, len(u.digitalTrunks))
	for _, t := range u.digitalTrunks {
		rows = append(rows, cloneMap(t))
	}
	return pageList(p, "digital_trunks", "trunk_index", rows, nil, nil)
}
