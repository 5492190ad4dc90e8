// Package handlers implements the generated strict server: REST types in, UCM actions out, UCM
// replies back as REST types. It does not know how sessions work; it calls an Upstream, which the
// session pool satisfies.
package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
)

// Upstream is what the handlers need from the session pool.
type Upstream interface {
	// Do sends one action to a unit and returns the reply's response object.
	Do(ctx context.Context, unit, action string, params map[string]any) (json.RawMessage, error)
	// Open sends an action whose reply is not the envelope (cdrapi, recapi); the caller closes
	// the reply's body.
	Open(ctx context.Context, unit, action string, params map[string]any) (*http.Response, error)
	Units() []sessionpool.UnitStatus
	Unit(id string) (sessionpool.UnitStatus, error)
	Reset(id string) (sessionpool.UnitStatus, error)
}

// Server implements api.StrictServerInterface.
type Server struct {
	up      Upstream
	logger  *slog.Logger
	metrics *metrics.Metrics
	spec    *openapi3.T
	codec   *codec
	maxBody int64

	live     *Live // keys, budget and time zones, swapped by a reload
	reload   func(context.Context) (ReloadResult, error)
	open     bool // --demo --insecure-no-auth: every request is auth.Open()
	auditLog *slog.Logger
	ops      map[routeKey]operation // method and route pattern -> what the spec says of it (operations.go)
	routes   chi.Routes             // the whole router, for Allow (methods.go)

	// pending remembers, per unit, that this gateway staged changes not yet applied. It is this
	// replica's knowledge only: the UCM does not report it.
	pending sync.Map // unit id -> bool

	webhooks Webhooks // nil: no webhook endpoints

	rateCounters  func(time.Duration) RateLimitCounter // the per-key budgets (nil: this replica's memory)
	idem          IdempotencyStore                     // Idempotency-Key outcomes of POST …/calls (this replica's, or the fleet's)
	callStartWait time.Duration                        // how long a dial's call may take to appear in the channel lists

	events       *events.Set   // live events of every unit; nil: not enabled
	sseHeartbeat time.Duration // comment line on a quiet stream
}

var _ api.StrictServerInterface = (*Server)(nil)

func (s *Server) setPending(unit string, v bool) { s.pending.Store(unit, v) }

// zone is the time zone of a unit's clock, in which it writes (and reads) times without a zone.
func (s *Server) zone(unit string) *time.Location {
	if loc := s.live.load().TimeZones[unit]; loc != nil {
		return loc
	}
	return time.UTC
}

func (s *Server) isPending(unit string) bool {
	v, _ := s.pending.Load(unit)
	b, _ := v.(bool)
	return b
}
