package handlers

import (
	"context"
	"log/slog"

	"github.com/go-chi/httplog/v3"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// ListQueues pages through listQueue.
func (s *Server) ListQueues(ctx context.Context, req api.ListQueuesRequestObject) (api.ListQueuesResponseObject, error) {
	page, err := s.listPage(ctx, listRequest{
		unit: req.Unit, action: "listQueue", key: "queue", schema: "QueueSummary", sort: "extension",
		path: "/v1/units/" + req.Unit + "/queues", size: req.Params.PageSize, token: req.Params.PageToken,
	})
	if err != nil {
		return nil, err
	}
	out := api.ListQueues200JSONResponse{}
	if err := decodeInto(page.items, &out.Body.Items); err != nil {
		return nil, err
	}
	out.Body.TotalItems, out.Body.NextPageToken, out.Headers.Link = page.total, page.next, page.link
	return out, nil
}

// GetQueue reads getQueue, typed.
func (s *Server) GetQueue(ctx context.Context, req api.GetQueueRequestObject) (api.GetQueueResponseObject, error) {
	q, _, err := s.queue(ctx, req.Unit, req.Queue)
	if err != nil {
		return nil, err
	}
	return api.GetQueue200JSONResponse(q), nil
}

// queue reads one queue: typed, and as the UCM sent it (the agents need members and
// enable_agent_login in the UCM's own form).
func (s *Server) queue(ctx context.Context, unit, ext string) (api.Queue, map[string]any, error) {
	var out api.Queue
	raw, err := s.getObject(ctx, unit, "getQueue", map[string]any{"queue": ext}, "extension", "queue")
	if err != nil {
		return out, nil, err
	}
	err = decodeInto(objectFromUCM(s.codec.schema("Queue"), raw), &out)
	return out, raw, err
}

// CreateQueue runs addQueue and reads the queue back.
func (s *Server) CreateQueue(ctx context.Context, req api.CreateQueueRequestObject) (api.CreateQueueResponseObject, error) {
	params, err := paramsFromBody(s.codec.schema("QueueCreate"), req.Body)
	if err != nil {
		return nil, err
	}
	pending, err := s.write(ctx, req.Unit, "addQueue", params, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	out := api.CreateQueue201JSONResponse{}
	out.Headers.Location = "/v1/units/" + req.Unit + "/queues/" + req.Body.Extension
	out.Headers.XPendingApply = pending
	out.Body = s.queueReadBack(ctx, req.Unit, req.Body.Extension)
	out.Body.PendingApply = &pending
	return out, nil
}

// UpdateQueue applies a JSON merge patch through updateQueue, which is itself partial.
func (s *Server) UpdateQueue(ctx context.Context, req api.UpdateQueueRequestObject) (api.UpdateQueueResponseObject, error) {
	params, err := paramsFromBody(s.codec.schema("QueuePatch"), req.Body)
	if err != nil {
		return nil, err
	}
	params["queue"] = req.Queue
	pending, err := s.write(ctx, req.Unit, "updateQueue", params, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	q := s.queueReadBack(ctx, req.Unit, req.Queue)
	q.PendingApply = &pending
	return api.UpdateQueue200JSONResponse(q), nil
}

// DeleteQueue runs deleteQueue.
func (s *Server) DeleteQueue(ctx context.Context, req api.DeleteQueueRequestObject) (api.DeleteQueueResponseObject, error) {
	pending, err := s.write(ctx, req.Unit, "deleteQueue", map[string]any{"queue": req.Queue}, req.Params.Apply)
	if err != nil {
		return nil, err
	}
	return api.DeleteQueue204Response{Headers: api.DeleteQueue204ResponseHeaders{XPendingApply: pending}}, nil
}

// queueReadBack returns the stored queue after a successful write; if the read fails the client
// still gets its 2xx (see readBack).
func (s *Server) queueReadBack(ctx context.Context, unit, ext string) api.Queue {
	q, _, err := s.queue(ctx, unit, ext)
	if err != nil {
		s.logger.WarnContext(ctx, "read-back after a successful write failed", "unit", unit, "queue", ext, "err", err)
		httplog.SetAttrs(ctx, slog.String("read_back_error", err.Error()))
		return api.Queue{Extension: ext}
	}
	return q
}
