package ucmsim

import (
	"cmp"
	"slices"
	"strings"
)

// listFields are the fields listAccount returns when options is absent.
func listFields() []string {
	return []string{"extension", "account_type", "fullname", "out_of_service", "status",
		"addr", "urgemsg", "newmsg", "oldmsg", "presence_status", "user_name"}
}

// listRow is one listAccount item with every known field, typed as real
// units send them: strings, null for a missing fullname, numbers for the
// message counts.
func (a *account) listRow() map[string]any {
	return map[string]any{
		"extension":           a.ext["extension"],
		"account_type":        a.ext["account_type"],
		"fullname":            a.ext["fullname"],
		"out_of_service":      a.ext["out_of_service"],
		"status":              a.status,
		"addr":                a.addr,
		"urgemsg":             a.urgemsg,
		"newmsg":              a.newmsg,
		"oldmsg":              a.oldmsg,
		"presence_status":     a.ext["presence_status"],
		"user_name":           a.ext["extension"],
		"presence_def_script": a.ext["presence_def_script"],
		"email_to_user":       "no",
	}
}

// listAccount pages, sorts and projects the extension list (Table 7).
func (u *UCM) listAccount(p map[string]any) reply {
	page, perPage := 1, 0
	if v, given := p["page"]; given {
		n, valid := paramInt(v)
		if !valid || n < 1 {
			return failMsg(StatusInvalidValue, "Invalid value: page")
		}
		page = n
	}
	if v, given := p["item_num"]; given {
		n, valid := paramInt(v)
		if !valid || n < 1 {
			return failMsg(StatusInvalidValue, "Invalid value: item_num")
		}
		perPage = n
	}
	desc := false
	if v, given := p["sord"]; given {
		s, _ := paramString(v)
		switch strings.ToLower(s) {
		case "asc", "acs", "": // the guide spells it "acs"
		case "desc":
			desc = true
		default:
			return failMsg(StatusInvalidValue, "Invalid value: sord")
		}
	}
	rows := make([]map[string]any, 0, len(u.accounts))
	for _, a := range u.accounts {
		rows = append(rows, a.listRow())
	}
	sidx := "extension"
	if v, given := p["sidx"]; given {
		s, _ := paramString(v)
		if s != "" {
			sidx = s
		}
	}
	known := newAccount("0").listRow()
	if _, isField := known[sidx]; !isField {
		return failMsg(StatusInvalidValue, "Invalid value: sidx")
	}
	fields := listFields()
	if v, given := p["options"]; given {
		s, _ := paramString(v)
		if strings.TrimSpace(s) != "" {
			fields = fields[:0]
			for f := range strings.SplitSeq(s, ",") {
				f = strings.TrimSpace(f)
				if f == "" {
					continue
				}
				if _, isField := known[f]; !isField {
					return failMsg(StatusInvalidValue, "Invalid value: options ("+f+")")
				}
				fields = append(fields, f)
			}
		}
	}

	slices.SortFunc(rows, func(x, y map[string]any) int {
		c := compareValues(x[sidx], y[sidx])
		if desc {
			c = -c
		}
		if c == 0 {
			c = compareValues(x["extension"], y["extension"])
		}
		return c
	})

	total := len(rows)
	totalPages := 1
	var pageRows []map[string]any
	switch {
	case perPage > 0:
		totalPages = max(1, (total+perPage-1)/perPage)
		start := min((page-1)*perPage, total)
		pageRows = rows[start:min(start+perPage, total)]
	case page == 1:
		pageRows = rows
	}

	out := make([]any, 0, len(pageRows))
	for _, r := range pageRows {
		item := make(map[string]any, len(fields))
		for _, f := range fields {
			item[f] = r[f]
		}
		out = append(out, item)
	}
	return ok(map[string]any{
		"account":    out,
		"page":       page,
		"total_item": total,
		"total_page": totalPages,
	})
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
