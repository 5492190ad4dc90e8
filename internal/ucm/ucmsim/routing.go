package ucmsim

import (
	"slices"
	"strconv"
)

// Routes, IVRs, paging and extension groups (FACTS.md "Other actions"). The
// list keys are FACTS.md's: inbound_route, outbound_route, ivr, paginggroup,
// extension_group. The item fields are the names peers read from real units;
// the paging group's (extension, paginggroup_name, paginggroup_type,
// members) are a guess, as FACTS.md names only the list key.
//
// getInboundRoute{inbound_route} and getOutboundRoute{outbound_route} take
// the route's index (FACTS.md); which key the reply puts the route under is
// not documented: the simulator answers under the parameter's name, as
// getQueue answers under "queue". getIVR{ivr} and deleteIVR{ivr} are
// simulated with a guessed parameter (named like getQueue's), strictly, so the
// gateway's pass-through has a read and a write to relay; getPaginggroup and
// the other route, IVR and paging writes, whose parameters nobody documents,
// are not simulated: they answer -1, as an unknown action does on some
// firmware.

func (u *UCM) listInboundRoute(p map[string]any) reply {
	return pageList(p, "inbound_route", "inbound_rt_index", cloneRows(u.cc.inboundRoutes), nil, nil)
}

func (u *UCM) getInboundRoute(p map[string]any) reply {
	return getByIndex(p, "inbound_route", "inbound_rt_index", u.cc.inboundRoutes)
}

func (u *UCM) listOutboundRoute(p map[string]any) reply {
	return pageList(p, "outbound_route", "outbound_rt_index", cloneRows(u.cc.outboundRoutes), nil, nil)
}

func (u *UCM) getOutboundRoute(p map[string]any) reply {
	return getByIndex(p, "outbound_route", "outbound_rt_index", u.cc.outboundRoutes)
}

func (u *UCM) listIVR(p map[string]any) reply {
	return pageList(p, "ivr", "extension", cloneRows(u.cc.ivrs), nil, nil)
}

func (u *UCM) listPaginggroup(p map[string]any) reply {
	return pageList(p, "paginggroup", "extension", cloneRows(u.cc.pagingGroups), nil, nil)
}

func (u *UCM) listExtensionGroup(p map[string]any) reply {
	return pageList(p, "extension_group", "group_id", cloneRows(u.cc.extensionGroups), nil, nil)
}

// getByIndex answers a get action whose parameter param names the item by
// its integer index field.
func getByIndex(p map[string]any, param, field string, rows []map[string]any) reply {
	if rep, bad := onlyParams(p, param); bad {
		return rep
	}
	v, given := p[param]
	if !given {
		return failMsg(StatusInvalidParams, "Invalid parameters! "+param+" is required")
	}
	n, valid := paramInt(v)
	if !valid || n < 1 {
		return failMsg(StatusInvalidValue, "Invalid value: "+param)
	}
	for _, r := range rows {
		if r[field] == n {
			return ok(map[string]any{param: cloneMap(r)})
		}
	}
	return failMsg(StatusNoSuchItem, "No such item: "+param+" "+strconv.Itoa(n))
}

// ivrParam returns the index of the IVR named by the (guessed) "ivr"
// parameter, or the refusal.
func (u *UCM) ivrParam(p map[string]any) (int, reply, bool) {
	if rep, bad := onlyParams(p, "ivr"); bad {
		return 0, rep, false
	}
	ext, _ := paramString(p["ivr"])
	if ext == "" {
		return 0, failMsg(StatusInvalidParams, "Invalid parameters! ivr is required"), false
	}
	for i, r := range u.cc.ivrs {
		if r["extension"] == ext {
			return i, reply{}, true
		}
	}
	return 0, failMsg(StatusNoSuchItem, "No such item: ivr "+ext), false
}

func (u *UCM) getIVR(p map[string]any) reply {
	i, rep, found := u.ivrParam(p)
	if !found {
		return rep
	}
	return ok(map[string]any{"ivr": cloneMap(u.cc.ivrs[i])})
}

func (u *UCM) deleteIVR(p map[string]any) reply {
	i, rep, found := u.ivrParam(p)
	if !found {
		return rep
	}
	u.cc.ivrs = slices.Delete(u.cc.ivrs, i, i+1)
	u.markPending()
	return ok(needApply())
}
