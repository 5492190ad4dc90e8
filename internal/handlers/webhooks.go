package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/webhooks"
)

// Webhooks is what the handlers need from the webhook deliverer (webhooks.Service).
type Webhooks interface {
	List() []webhooks.Status
	Get(name string) (webhooks.Status, error)
	Resume(name string) (webhooks.Status, error)
}

// ListWebhooks shows the endpoints whose units the key may all use: an endpoint that carries
// another unit's events is none of its business, like the unit itself.
func (s *Server) ListWebhooks(ctx context.Context, _ api.ListWebhooksRequestObject) (api.ListWebhooksResponseObject, error) {
	out := api.WebhookList{Items: []api.Webhook{}}
	if s.webhooks != nil {
		p := principalFrom(ctx)
		for _, st := range s.webhooks.List() {
			if seesAll(p, st.Units) {
				out.Items = append(out.Items, webhookView(st))
			}
		}
	}
	return api.ListWebhooks200JSONResponse(out), nil
}

// ResumeWebhook lifts an endpoint's suspension; an endpoint the key may not see answers like one
// that does not exist.
func (s *Server) ResumeWebhook(ctx context.Context, req api.ResumeWebhookRequestObject) (api.ResumeWebhookResponseObject, error) {
	unknown := &InputError{Status: http.StatusNotFound, Detail: fmt.Sprintf("no webhook %q is configured in this gateway", req.Name)}
	if s.webhooks == nil {
		return nil, unknown
	}
	st, err := s.webhooks.Get(req.Name)
	if err == nil && !seesAll(principalFrom(ctx), st.Units) {
		err = webhooks.ErrUnknownWebhook
	}
	if err == nil {
		st, err = s.webhooks.Resume(req.Name)
	}
	if errors.Is(err, webhooks.ErrUnknownWebhook) {
		return nil, unknown
	}
	if err != nil {
		return nil, err
	}
	return api.ResumeWebhook200JSONResponse(webhookView(st)), nil
}

func seesAll(p *auth.Principal, units []string) bool {
	for _, u := range units {
		if !p.Sees(u) {
			return false
		}
	}
	return true
}

func webhookView(st webhooks.Status) api.Webhook {
	types := st.Types
	if types == nil {
		types = []string{}
	}
	return api.Webhook{
		Name: st.Name, URL: st.URL, Units: st.Units, Types: types,
		Suspended:           st.Suspended,
		SuspendedAt:         nullTime(st.SuspendedAt),
		LastError:           nullString(st.LastError),
		LastFailureAt:       nullTime(st.LastFailureAt),
		LastSuccessAt:       nullTime(st.LastSuccessAt),
		ConsecutiveFailures: st.ConsecutiveFailures,
		QueueDepth:          st.QueueDepth,
		Delivered:           int64(st.Delivered),
		GaveUp:              int64(st.GaveUp),
		Dropped:             int64(st.Dropped),
		Suspensions:         int64(st.Suspensions),
	}
}

func nullTime(t time.Time) nullable.Nullable[time.Time] {
	if t.IsZero() {
		return nullable.NewNullNullable[time.Time]()
	}
	return nullable.NewNullableWithValue(t.UTC())
}

func nullString(s string) nullable.Nullable[string] {
	if s == "" {
		return nullable.NewNullNullable[string]()
	}
	return nullable.NewNullableWithValue(s)
}
