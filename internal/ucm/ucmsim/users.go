package ucmsim

import (
	"maps"
	"slices"
	"strings"
)

// Users: listUser, getUser{user_name} and updateUser{user_name, first_name,
// last_name, email, …} (FACTS.md). A user is the person behind an extension
// (addSIPAccountAndUser creates both; deleteUser deletes both): user_name is
// the extension number. FACTS.md gives neither listUser's list key nor the
// key getUser answers under: the simulator uses "user" and "user_name", both
// guesses. updateUser's "…" is not documented either: the simulator takes
// first_name, last_name, email and department (the fields listUser shows) and
// refuses every other parameter. A new name becomes the extension's caller id
// name (fullname), which the unit derives from the user's names.

// userRow is the user behind an extension.
func (a *account) userRow() map[string]any {
	row := map[string]any{
		"user_name": a.ext["extension"], "first_name": "", "last_name": "", "email": "",
		"fullname": a.ext["fullname"], "privilege": 3, "department": "", "phone_number": "",
	}
	if full, isStr := a.ext["fullname"].(string); isStr {
		first, last, _ := strings.Cut(full, " ")
		row["first_name"], row["last_name"] = first, last
	}
	// The portal password comes back in clear text, as getSIPAccount returns the SIP and
	// voicemail passwords (FACTS.md); not documented for getUser, but the plausible behaviour.
	for _, k := range []string{"first_name", "last_name", "email", "department", "user_password"} {
		if v, set := a.user[k]; set {
			row[k] = v
		}
	}
	return row
}

func (u *UCM) listUser(p map[string]any) reply {
	rows := make([]map[string]any, 0, len(u.accounts))
	for _, ext := range slices.Sorted(maps.Keys(u.accounts)) {
		rows = append(rows, u.accounts[ext].userRow())
	}
	return pageList(p, "user", "user_name", rows, nil, nil)
}

// userParam returns the account named by user_name, or the refusal.
func (u *UCM) userParam(p map[string]any) (*account, reply, bool) {
	name, _ := paramString(p["user_name"])
	if name == "" {
		return nil, failMsg(StatusInvalidParams, "Invalid parameters! user_name is required"), false
	}
	a, found := u.accounts[name]
	if !found {
		return nil, failMsg(StatusNoSuchItem, "No such item: user_name "+name), false
	}
	return a, reply{}, true
}

func (u *UCM) getUser(p map[string]any) reply {
	a, rep, found := u.userParam(p)
	if !found {
		return rep
	}
	return ok(map[string]any{"user_name": a.userRow()})
}

func (u *UCM) updateUser(p map[string]any) reply {
	a, rep, found := u.userParam(p)
	if !found {
		return rep
	}
	text := func(max int) rule {
		return rule{kind: kStr, allowEmpty: true, check: func(s string) bool { return len(s) <= max && isText(s) }}
	}
	rules := map[string]rule{
		"first_name": text(64), "last_name": text(64), "department": text(64),
		"email": {kind: kStr, allowEmpty: true, check: func(s string) bool {
			local, domain, found := strings.Cut(s, "@")
			return len(s) <= 128 && isPrintable(s) && found && local != "" && strings.Contains(domain, ".")
		}},
	}
	set := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(p)) {
		if name == "action" || name == "cookie" || name == "user_name" {
			continue
		}
		r, known := rules[name]
		if !known {
			return failMsg(StatusInvalidParams, "Invalid parameters! unknown parameter: "+name)
		}
		v, valid := r.normalize(p[name])
		if !valid {
			return failMsg(StatusInvalidValue, "Invalid value: "+name)
		}
		set[name] = v
	}
	if len(set) == 0 {
		return failMsg(StatusInvalidParams, "Invalid parameters! nothing to update")
	}
	_, first := set["first_name"]
	_, last := set["last_name"]
	row := a.userRow()
	maps.Copy(row, set)
	maps.Copy(a.user, set)
	if first || last {
		// Both names are kept as they now are, so the other does not come back out of the
		// fullname about to be replaced.
		a.user["first_name"], a.user["last_name"] = row["first_name"], row["last_name"]
		fn, _ := row["first_name"].(string)
		ln, _ := row["last_name"].(string)
		a.ext["fullname"] = nil
		if full := strings.TrimSpace(fn + " " + ln); full != "" {
			a.ext["fullname"] = full
		}
	}
	u.markPending()
	return ok(needApply())
}

// User returns a copy of the user behind extension name, as getUser would.
func (u *UCM) User(name string) (map[string]any, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	a, found := u.accounts[name]
	if !found {
		return nil, false
	}
	return cloneMap(a.userRow()), true
}
