package handlers

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
)

// ListUnits shows the configured units the caller's key may use (the others do not exist for
// it), paged like every other list; it never contacts a unit. With thousands of units an
// unpaged answer was megabytes; a page's units are the only ones described.
func (s *Server) ListUnits(ctx context.Context, req api.ListUnitsRequestObject) (api.ListUnitsResponseObject, error) {
	size := 50
	if req.Params.PageSize != nil {
		size = *req.Params.PageSize
	}
	tok := ""
	if req.Params.PageToken != nil {
		tok = *req.Params.PageToken
	}
	cur, err := decodePageToken(tok, size, "")
	if err != nil {
		return nil, err
	}
	all := s.up.Units()
	p := principalFrom(ctx)
	visible := all[:0:0]
	for _, st := range all {
		if p.Sees(st.ID) {
			visible = append(visible, st)
		}
	}
	start := min((cur.Page-1)*size, len(visible))
	end := min(start+size, len(visible))
	out := api.ListUnits200JSONResponse{}
	out.Body.TotalItems = len(visible)
	out.Body.Items = make([]api.Unit, 0, end-start)
	for _, st := range visible[start:end] {
		out.Body.Items = append(out.Body.Items, s.unitView(st))
	}
	if end < len(visible) {
		cur.Page++
		next := cur.encode()
		link := nextLink("/v1/units", url.Values{"page_size": {strconv.Itoa(size)}}, next)
		out.Body.NextPageToken, out.Headers.Link = &next, &link
	}
	return out, nil
}

// GetUnit shows one unit's session, breaker and load.
func (s *Server) GetUnit(ctx context.Context, req api.GetUnitRequestObject) (api.GetUnitResponseObject, error) {
	st, err := s.up.Unit(req.Unit)
	if err != nil {
		return nil, withUnit(req.Unit, err)
	}
	return api.GetUnit200JSONResponse(s.unitView(st)), nil
}

// ResetUnit lifts the gateway's own login stop after an operator fixed the credentials.
func (s *Server) ResetUnit(ctx context.Context, req api.ResetUnitRequestObject) (api.ResetUnitResponseObject, error) {
	st, err := s.up.Reset(req.Unit)
	if err != nil {
		return nil, withUnit(req.Unit, err)
	}
	return api.ResetUnit200JSONResponse(s.unitView(st)), nil
}

func (s *Server) unitView(st sessionpool.UnitStatus) api.Unit {
	sess := api.UnitSession{
		State:         api.UnitSessionState(st.State),
		Logins:        int(st.Logins),
		LoginFailures: int(st.LoginFailures),
	}
	if !st.LastLogin.IsZero() {
		sess.LastLogin = nullable.NewNullableWithValue(st.LastLogin.UTC())
	} else {
		sess.LastLogin = nullable.NewNullNullable[time.Time]()
	}
	if st.LastError != "" {
		sess.LastError = nullable.NewNullableWithValue(st.LastError)
	} else {
		sess.LastError = nullable.NewNullNullable[string]()
	}
	if st.LastErrorStatus != 0 {
		sess.LastErrorStatus = nullable.NewNullableWithValue(st.LastErrorStatus)
	} else {
		sess.LastErrorStatus = nullable.NewNullNullable[int]()
	}
	return api.Unit{
		ID:             st.ID,
		URL:            st.URL,
		Session:        sess,
		InFlight:       st.InFlight,
		MaxInFlight:    st.MaxInFlight,
		Breaker:        api.UnitBreaker(st.Breaker),
		BreakerRetryAt: nullableTime(st.BreakerRetryAt),
		PausedUntil:    nullableTime(st.PausedUntil),
		PendingApply:   s.isPending(st.ID),
	}
}

// nullableTime is null for the zero time, which the pool uses for "none".
func nullableTime(t time.Time) nullable.Nullable[time.Time] {
	if t.IsZero() {
		return nullable.NewNullNullable[time.Time]()
	}
	return nullable.NewNullableWithValue(t.UTC())
}
