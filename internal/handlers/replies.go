package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/ucm-gateway/ucm-gateway/internal/calls"
)

// Reading one item out of a UCM reply whose shape is only partly documented.

// getObject runs a get action and returns the item it answers with (see replyObject).
func (s *Server) getObject(ctx context.Context, unit, action string, params map[string]any, idField string, keys ...string) (map[string]any, error) {
	raw, err := s.up.Do(ctx, unit, action, params)
	if err != nil {
		return nil, withUnit(unit, err)
	}
	obj, err := replyObject(raw, idField, keys...)
	if err != nil {
		return nil, withUnit(unit, badReply(action, err))
	}
	return obj, nil
}

// replyObject finds the item in a get action's reply: under the first of keys the reply has as
// an object (getQueue answers under "queue"); else the reply's only object, for actions whose
// reply key nobody documents; else the reply itself when it carries idField (a flat reply).
func replyObject(raw json.RawMessage, idField string, keys ...string) (map[string]any, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, err
	}
	object := func(r json.RawMessage) map[string]any {
		var m map[string]any
		if t := bytes.TrimSpace(r); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &m) != nil {
			return nil
		}
		return m
	}
	for _, k := range keys {
		if m := object(members[k]); m != nil {
			return m, nil
		}
	}
	var only map[string]any
	for _, r := range members {
		if m := object(r); m != nil {
			if only != nil {
				return nil, errNoItem
			}
			only = m
		}
	}
	if only != nil {
		return only, nil
	}
	if _, flat := members[idField]; flat {
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return m, nil
	}
	return nil, errNoItem
}

const errNoItem = constError("no item object in the reply")

// findInList reads the whole list of action (no paging parameters: the UCM then answers every
// item) and returns the item whose idField is id, for objects the UCM has no readable get
// action for. An item the unit does not list is 404, decided by the gateway (no UCM status).
func (s *Server) findInList(ctx context.Context, unit, action, key, idField, id, what string) (map[string]any, error) {
	raw, err := s.up.Do(ctx, unit, action, nil)
	if err != nil {
		return nil, withUnit(unit, err)
	}
	var rows map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, withUnit(unit, badReply(action, err))
	}
	list, present, err := listMember(rows, key)
	if err != nil {
		return nil, withUnit(unit, badReply(action, err))
	}
	var items []map[string]any
	if present {
		if err := json.Unmarshal(list, &items); err != nil {
			return nil, withUnit(unit, badReply(action, err))
		}
	}
	for _, it := range items {
		if calls.String(it[idField]) == id {
			return it, nil
		}
	}
	return nil, withUnit(unit, &InputError{Status: http.StatusNotFound, Slug: "not-found",
		Detail: "the unit has no " + what + " " + id})
}
