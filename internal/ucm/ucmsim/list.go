package ucmsim

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// listFields are the fields listAccount returns when options is absent.
func listFields() []string {
	return []string{"extension", "account_type", "fullname", "out_of_service", "status",
		"addr", "urgmsg", "newmsg", "oldmsg", "presence_status", "user_name"}
}

// listAliases are options names that select a field under another name. Table 7 lists the
// urgent-message count as urgemsg among the options but answers it as urgmsg (FACTS.md): the
// reply uses the reply table's name, whichever was asked for.
func listAliases() map[string]string { return map[string]string{"urgemsg": "urgmsg"} }

// listRow is one listAccount item with every known field, typed as real
// units send them: strings, null for a missing fullname, numbers for the
// message counts.
func (a *account) listRow(status string) map[string]any {
	return map[string]any{
		"extension":           a.ext["extension"],
		"account_type":        a.ext["account_type"],
		"fullname":            a.ext["fullname"],
		"out_of_service":      a.ext["out_of_service"],
		"status":              status,
		"addr":                a.addr,
		"urgmsg":              a.urgmsg,
		"newmsg":              a.newmsg,
		"oldmsg":              a.oldmsg,
		"presence_status":     a.ext["presence_status"],
		"user_name":           a.ext["extension"],
		"presence_def_script": a.ext["presence_def_script"],
		"email_to_user":       "no",
	}
}

// listAccount pages, sorts and projects the extension list (Table 7). Rows go in ordered by
// extension, so equal sort keys keep extension order.
func (u *UCM) listAccount(p map[string]any) reply {
	u.settleCalls(time.Now())
	statuses := u.extStatuses()
	rows := make([]map[string]any, 0, len(u.accounts))
	for ext, a := range u.accounts {
		rows = append(rows, a.listRow(statuses[ext]))
	}
	slices.SortFunc(rows, func(x, y map[string]any) int { return compareValues(x["extension"], y["extension"]) })
	return pageList(p, "account", "extension", rows, listAliases(), listFields())
}

// compareValues orders nulls first, numbers numerically, and digit strings
// (extension numbers) numerically, other strings lexically.
func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	ai, aInt := a.(int)
	bi, bInt := b.(int)
	if aInt && bInt {
		return cmp.Compare(ai, bi)
	}
	as, _ := paramString(a)
	bs, _ := paramString(b)
	if isDigits(as) && isDigits(bs) {
		as, bs = strings.TrimLeft(as, "0"), strings.TrimLeft(bs, "0")
		if c := cmp.Compare(len(as), len(bs)); c != 0 {
			return c
		}
	}
	return strings.Compare(as, bs)
}
