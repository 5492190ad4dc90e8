package ucmsim

import (
	"slices"
	"strings"
)

// pageList is the list behaviour the guide documents for every list action
// after listAccount (Tables 10, 15 and listDigitalTrunk; FACTS.md "Other
// actions"): page and item_num page the rows, sord is asc/desc (the guide
// spells it "acs"), sidx names the sort field (default sidx), options
// projects the items on comma-separated fields. rows must all carry every
// field; aliases maps an options name to the row field it selects (the
// guide's "trunks.out_of_service"). Without options the items carry
// defaults, or every field when defaults is nil. Sorting is stable, so rows
// given in a meaningful order keep it among equal sort keys. The reply has
// the list under key.
func pageList(p map[string]any, key, sidx string, rows []map[string]any, aliases map[string]string, defaults []string) reply {
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
		case "asc", "acs", "":
		case "desc":
			desc = true
		default:
			return failMsg(StatusInvalidValue, "Invalid value: sord")
		}
	}
	known := func(f string) (string, bool) {
		if a, isAlias := aliases[f]; isAlias {
			f = a
		}
		if len(rows) == 0 {
			return f, true // nothing to check against; an empty list either way
		}
		_, isField := rows[0][f]
		return f, isField
	}
	if v, given := p["sidx"]; given {
		s, _ := paramString(v)
		if s != "" {
			f, isField := known(s)
			if !isField {
				return failMsg(StatusInvalidValue, "Invalid value: sidx")
			}
			sidx = f
		}
	}
	var fields []string
	if v, given := p["options"]; given {
		s, _ := paramString(v)
		for f := range strings.SplitSeq(s, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			name, isField := known(f)
			if !isField {
				return failMsg(StatusInvalidValue, "Invalid value: options ("+f+")")
			}
			fields = append(fields, name)
		}
	}
	slices.SortStableFunc(rows, func(x, y map[string]any) int {
		c := compareValues(x[sidx], y[sidx])
		if desc {
			c = -c
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
	if len(fields) == 0 {
		fields = defaults
	}
	out := make([]any, 0, len(pageRows))
	for _, r := range pageRows {
		if len(fields) == 0 {
			out = append(out, r)
			continue
		}
		item := make(map[string]any, len(fields))
		for _, f := range fields {
			item[f] = r[f]
		}
		out = append(out, item)
	}
	return ok(map[string]any{key: out, "page": page, "total_item": total, "total_page": totalPages})
}
