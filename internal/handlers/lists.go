package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// listRequest is one page of a UCM list action, in REST terms.
type listRequest struct {
	unit   string
	action string // listVoIPTrunk, listAnalogTrunk…
	key    string // the reply's list key: voip_trunk, analogtrunk…; "" for the reply's only list
	schema string // the component schema of one item
	path   string // the REST path of the list, for the Link header
	size   *int
	sort   string // REST sort key; a leading "-" sorts descending
	token  *string
	// fix, if set, adjusts each raw UCM item before conversion (the UCM's own placeholders).
	fix func(item map[string]any)
}

// listResult is one converted page.
type listResult struct {
	items []map[string]any
	total int
	next  *string // next_page_token
	link  *string // Link: <…>; rel="next"
}

// listPage pages through a UCM list action: the UCM pages by
// number, the client gets an opaque token bound to page size and sort, and a Link header. Every
// list shares the reply shape {<key>:[…], page, total_item, total_page}.
func (s *Server) listPage(ctx context.Context, lr listRequest) (listResult, error) {
	size := 50
	if lr.size != nil {
		size = *lr.size
	}
	tok := ""
	if lr.token != nil {
		tok = *lr.token
	}
	cur, err := decodePageToken(tok, size, lr.sort)
	if err != nil {
		return listResult{}, withUnit(lr.unit, err)
	}
	order := "asc"
	if strings.HasPrefix(lr.sort, "-") {
		order = "desc"
	}
	raw, err := s.up.Do(ctx, lr.unit, lr.action, map[string]any{
		"page": strconv.Itoa(cur.Page), "item_num": strconv.Itoa(size),
		"sidx": strings.TrimPrefix(lr.sort, "-"), "sord": order,
	})
	if err != nil {
		return listResult{}, withUnit(lr.unit, err)
	}
	var page listPage
	var rows map[string]json.RawMessage
	if err := json.Unmarshal(raw, &page); err != nil {
		return listResult{}, withUnit(lr.unit, badReply(lr.action, err))
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		return listResult{}, withUnit(lr.unit, badReply(lr.action, err))
	}
	var list []map[string]any
	r, present, err := listMember(rows, lr.key)
	if err != nil {
		return listResult{}, withUnit(lr.unit, badReply(lr.action, err))
	}
	if present {
		if err := json.Unmarshal(r, &list); err != nil {
			return listResult{}, withUnit(lr.unit, badReply(lr.action, err))
		}
	}
	schema := s.codec.schema(lr.schema)
	out := listResult{items: make([]map[string]any, 0, len(list)), total: int(page.TotalItem.Value)}
	for _, it := range list {
		if lr.fix != nil {
			lr.fix(it)
		}
		out.items = append(out.items, objectFromUCM(schema, it))
	}
	if next := page.next(cur); next != "" {
		link := nextLink(lr.path, url.Values{"page_size": {strconv.Itoa(size)}, "sort": {lr.sort}}, next)
		out.next, out.link = &next, &link
	}
	return out, nil
}

// listMember returns the reply's list under key or, when key is "" (an action whose list key
// nobody documents), the reply's only array; two arrays are a reply the gateway cannot read.
func listMember(rows map[string]json.RawMessage, key string) (json.RawMessage, bool, error) {
	if key != "" {
		r, present := rows[key]
		return r, present, nil
	}
	var found json.RawMessage
	for _, r := range rows {
		if t := bytes.TrimSpace(r); len(t) > 0 && t[0] == '[' {
			if found != nil {
				return nil, false, errTwoLists
			}
			found = r
		}
	}
	return found, found != nil, nil
}

const errTwoLists = constError("the reply holds more than one list")

// findByName returns the index of the item called name in a UCM list. The UCM's add actions
// do not return the new item's id, and names are unique on a unit (the UCM refuses a duplicate
// with -44), so the name identifies the new item: this reads the whole list, projected on
// trunk_index and trunk_name, and picks the match. found is false if nothing matches.
func (s *Server) findByName(ctx context.Context, unit, action, key, name string) (index int, found bool, err error) {
	raw, err := s.up.Do(ctx, unit, action, map[string]any{"options": "trunk_index,trunk_name"})
	if err != nil {
		return 0, false, withUnit(unit, err)
	}
	var reply map[string]json.RawMessage
	var list []map[string]any
	if err := json.Unmarshal(raw, &reply); err != nil {
		return 0, false, withUnit(unit, badReply(action, err))
	}
	if err := json.Unmarshal(reply[key], &list); err != nil && reply[key] != nil {
		return 0, false, withUnit(unit, badReply(action, err))
	}
	for _, it := range list {
		if it["trunk_name"] != name {
			continue
		}
		if n, ok := parseIndex(it["trunk_index"]); ok {
			return n, true, nil
		}
	}
	return 0, false, nil
}

// parseIndex reads a trunk index sent as 3 or "3" (the UCM uses both).
func parseIndex(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		return int(x), x >= 1 && x == float64(int(x))
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil && n >= 1
	}
	return 0, false
}
