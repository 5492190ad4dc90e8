package handlers

import (
	"context"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
)

// ListQueueWaiting lists the callers waiting in a queue, read from the channel lists (see
// calls.Channels.QueueCallers for how "waiting" is decided). The queue is read first, so an
// unknown queue is 404 rather than an empty list.
func (s *Server) ListQueueWaiting(ctx context.Context, req api.ListQueueWaitingRequestObject) (api.ListQueueWaitingResponseObject, error) {
	if _, _, err := s.queue(ctx, req.Unit, req.Queue); err != nil {
		return nil, err
	}
	chans, err := s.readChannels(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	return api.ListQueueWaiting200JSONResponse{Queue: req.Queue, Items: chans.QueueCallers(req.Queue, time.Now(), s.zone(req.Unit))}, nil
}
