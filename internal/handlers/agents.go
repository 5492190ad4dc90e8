package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/oapi-codegen/nullable"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// Queue agents are operational state, not configuration: changing them needs the calls scope
// and stages nothing. No HTTPS API action reports an agent's login or pause state (FACTS.md), so
// the gateway says what it knows and leaves the rest null; it keeps no memory of what it set,
// which another replica, a phone's feature code or a restart would make wrong.

// ListQueueAgents lists a queue's members with their extension's name and status.
func (s *Server) ListQueueAgents(ctx context.Context, req api.ListQueueAgentsRequestObject) (api.ListQueueAgentsResponseObject, error) {
	q, _, err := s.queue(ctx, req.Unit, req.Queue)
	if err != nil {
		return nil, err
	}
	login := q.EnableAgentLogin != nil && *q.EnableAgentLogin
	out := api.ListQueueAgents200JSONResponse{Queue: req.Queue, AgentLogin: login, Items: []api.QueueAgent{}}
	if q.Members == nil || len(*q.Members) == 0 {
		return out, nil
	}
	exts, err := s.extensionDirectory(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	for _, m := range *q.Members {
		a := api.QueueAgent{Extension: m, LoggedIn: nullable.NewNullNullable[bool](), Paused: nullable.NewNullNullable[bool]()}
		if !login {
			a.LoggedIn = nullable.NewNullableWithValue(true) // a static member is always in the queue
		}
		if e, found := exts[m]; found {
			a.Fullname, a.Status = e.Fullname, e.Status
		}
		out.Items = append(out.Items, a)
	}
	return out, nil
}

// extensionDirectory reads every extension's name and status in one listAccount call.
func (s *Server) extensionDirectory(ctx context.Context, unit string) (map[string]api.ExtensionSummary, error) {
	raw, err := s.up.Do(ctx, unit, "listAccount", map[string]any{"options": "extension,fullname,status"})
	if err != nil {
		return nil, withUnit(unit, err)
	}
	var reply struct {
		Account []map[string]any `json:"account"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return nil, withUnit(unit, badReply("listAccount", err))
	}
	schema := s.codec.schema("ExtensionSummary")
	out := make(map[string]api.ExtensionSummary, len(reply.Account))
	for _, it := range reply.Account {
		var e api.ExtensionSummary
		if err := decodeInto(objectFromUCM(schema, it), &e); err == nil && e.Extension != "" {
			out[e.Extension] = e
		}
	}
	return out, nil
}

// UpdateQueueAgent logs an agent in or out of a queue and pauses or unpauses it. The agent must
// be one of the queue's members; the login goes first and the logout last, so an agent is never
// paused after it left.
func (s *Server) UpdateQueueAgent(ctx context.Context, req api.UpdateQueueAgentRequestObject) (api.UpdateQueueAgentResponseObject, error) {
	q, _, err := s.queue(ctx, req.Unit, req.Queue)
	if err != nil {
		return nil, err
	}
	if q.Members == nil || !slices.Contains(*q.Members, req.Ext) {
		return nil, withUnit(req.Unit, &InputError{Status: http.StatusNotFound, Slug: "not-found",
			Detail: "extension " + req.Ext + " is not an agent of queue " + req.Queue,
			Errors: []FieldError{{Location: "path.ext", Message: "not one of the queue's members"}}})
	}
	b := req.Body
	login := func(op string) error {
		// Parameters as the UCM's own web interface sends them: FACTS.md has only a guess.
		_, err := s.up.Do(ctx, req.Unit, "loginLogoffQueueAgent", map[string]any{
			"operatetype": op, "interface": req.Ext, "extension": req.Queue})
		return withUnit(req.Unit, err)
	}
	if b.LoggedIn != nil && *b.LoggedIn {
		if err := login("login"); err != nil {
			return nil, err
		}
	}
	if b.Paused != nil {
		op := "unpause"
		if *b.Paused {
			op = "pause"
		}
		if _, err := s.up.Do(ctx, req.Unit, "pauseUnpauseQueueAgent", map[string]any{"operatetype": op, "interface": req.Ext}); err != nil {
			return nil, withUnit(req.Unit, err)
		}
	}
	if b.LoggedIn != nil && !*b.LoggedIn {
		if err := login("logoff"); err != nil {
			return nil, err
		}
	}
	// The replies' need_apply ("no") is not read: an agent change is never staged.
	return api.UpdateQueueAgent204Response{}, nil
}
