package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httplog/v3"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	apispec "github.com/ucm-gateway/ucm-gateway/api"
	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/auth"
	"github.com/ucm-gateway/ucm-gateway/internal/events"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
)

// Options are the handler's dependencies.
type Options struct {
	Upstream     Upstream
	Logger       *slog.Logger
	Metrics      *metrics.Metrics
	MaxBodyBytes int64       // default 1 MiB
	Ready        func() bool // /readyz; nil means ready
	LogLevel     slog.Level  // level of the per-request log lines

	// Keys are the API keys every /v1 request must present. New refuses an empty or nil ring
	// unless InsecureNoAuth is set, which only `--demo --insecure-no-auth` does.
	Keys           *auth.Keyring
	InsecureNoAuth bool
	// RateLimit is the per-key budget (default 600 requests per minute).
	RateLimit RateLimit
	// CORS lists the browser origins allowed to call the API (none by default).
	CORS CORS
	// AuditLogger receives one line per write or call-control request; nil means Logger. It
	// should not filter Info, or the audit trail follows the log level.
	AuditLogger *slog.Logger
	// CallStartTimeout bounds how long POST …/calls polls the channel lists for the call a dial
	// started (default 3s).
	CallStartTimeout time.Duration
	// Events are the units' live events, served as SSE; nil answers 501 on the event routes.
	Events *events.Set
	// SSEHeartbeat is the pause after which a quiet event stream gets a comment line (15s).
	SSEHeartbeat time.Duration
	// Webhooks shows and resumes the webhook endpoints (/v1/webhooks); nil means none.
	Webhooks Webhooks
	// TimeZones is the zone each unit's clock is set to, by unit id; a unit not in it is taken to
	// run on UTC. The UCM writes CDR and channel times, and reads CDR filters, as its wall clock.
	TimeZones map[string]*time.Location
	// Idempotency keeps the Idempotency-Key outcomes; nil keeps them in this replica's memory.
	Idempotency IdempotencyStore
	// RateLimits makes the counter of the per-key budgets for a window; nil counts them in this
	// replica's memory.
	RateLimits func(window time.Duration) RateLimitCounter
	// Live, when set, holds the keys, budget and time zones instead of Keys, RateLimit and
	// TimeZones, so that a configuration reload can swap them (Live.Swap).
	Live *Live
	// Reload re-reads the configuration for POST /v1/admin/reload; nil answers 501.
	Reload func(ctx context.Context) (ReloadResult, error)
	// NotReady, when it returns a reason, makes /readyz answer 503 with it (the shared state
	// being down, for example).
	NotReady func() string
}

// New returns the whole HTTP surface of the gateway: the /v1 API (validated against the spec),
// health, metrics and the spec itself.
func New(o Options) (http.Handler, error) {
	spec, err := api.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("handlers: load embedded spec: %w", err)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.Ready == nil {
		o.Ready = func() bool { return true }
	}
	if o.Live == nil {
		o.Live = NewLive(LiveSettings{Keys: o.Keys, RateLimit: o.RateLimit, TimeZones: o.TimeZones})
	}
	if keys := o.Live.load().Keys; !o.InsecureNoAuth && (keys == nil || keys.Len() == 0) {
		return nil, errors.New("handlers: no API keys: the gateway would be open to anyone who can reach it")
	}
	if o.AuditLogger == nil {
		o.AuditLogger = o.Logger
	}
	s := &Server{up: o.Upstream, logger: o.Logger, metrics: o.Metrics, spec: spec, codec: newCodec(spec), maxBody: o.MaxBodyBytes,
		live: o.Live, reload: o.Reload, open: o.InsecureNoAuth, auditLog: o.AuditLogger, ops: operationsOf(spec), webhooks: o.Webhooks}
	if o.CallStartTimeout <= 0 {
		o.CallStartTimeout = 3 * time.Second
	}
	s.idem, s.callStartWait = o.Idempotency, o.CallStartTimeout
	s.rateCounters = o.RateLimits
	if s.idem == nil {
		s.idem = localIdem{newIdempotency(idempotencyTTL, idempotencyMax)}
	}
	if o.SSEHeartbeat <= 0 {
		o.SSEHeartbeat = sseHeartbeat
	}
	s.events, s.sseHeartbeat = o.Events, o.SSEHeartbeat
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}

	r := chi.NewRouter()
	r.Use(httplog.RequestLogger(o.Logger, &httplog.Options{
		Level:         o.LogLevel,
		Schema:        httplog.SchemaECS.Concise(true),
		RecoverPanics: false, // s.recoverer answers problem+json; httplog's would send a bare 500
		Skip: func(r *http.Request, status int) bool {
			return status < 400 && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" ||
				strings.HasPrefix(r.URL.Path, "/docs/"))
		},
	}))
	// GetHead last: it routes a HEAD to the GET of its path, wherever the router serves one.
	r.Use(requestID, s.instrument, logUCMCalls, s.recoverer, corsHandler(o.CORS), chimw.GetHead)
	s.routes = r
	r.NotFound(s.notFound(r))
	r.MethodNotAllowed(s.methodNotAllowed(r))

	r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
		// The API reference is the gateway's front page. Relative, as /docs's own redirect.
		w.Header().Set("Location", "docs/")
		w.WriteHeader(http.StatusFound)
	})

	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok\n") })
	r.Get("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !o.Ready() {
			writeText(w, http.StatusServiceUnavailable, "not ready\n")
			return
		}
		if o.NotReady != nil {
			if why := o.NotReady(); why != "" {
				writeText(w, http.StatusServiceUnavailable, "not ready: "+why+"\n")
				return
			}
		}
		writeText(w, http.StatusOK, "ready\n")
	})
	r.Handle("/metrics", promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{Registry: o.Metrics.Registry}))
	r.Get("/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(specJSON)
	})
	r.Get("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(apispec.YAML)
	})
	r.Get("/docs", func(w http.ResponseWriter, _ *http.Request) {
		// Relative, so a reverse proxy may mount the gateway under a path prefix.
		w.Header().Set("Location", "docs/")
		w.WriteHeader(http.StatusMovedPermanently)
	})
	r.Get("/docs/*", s.docs)

	strict := api.NewStrictHandlerWithOptions(s, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, r, s.logger, &InputError{Detail: "the request body could not be decoded", Errors: []FieldError{{Location: "body", Message: "not valid JSON for this operation"}}})
		},
		ResponseErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			if sw, ok := w.(interface{ Status() int }); ok && sw.Status() != 0 {
				// The body is already on its way (a recording cut off mid-stream): a problem
				// document appended to it would corrupt it. Log it and abort the connection, so
				// the client sees a truncated transfer rather than damaged audio.
				s.logger.WarnContext(r.Context(), "response failed after it started", "request_id", RequestIDFrom(r.Context()), "err", err)
				httplog.SetError(r.Context(), err)
				panic(http.ErrAbortHandler)
			}
			writeProblem(w, r, s.logger, err)
		},
	})
	r.Group(func(r chi.Router) {
		// The order is explained in access.go.
		r.Use(noStore, s.audit, s.authenticate, s.rateLimiter(), s.authorize, s.limitBody, s.refuseUnknownQuery,
			headAsGet(s.validator(spec)), s.refuseControlChars, s.unitGuard)
		api.HandlerWithOptions(strict, api.ChiServerOptions{
			BaseRouter: r,
			ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
				writeProblem(w, r, s.logger, &InputError{Detail: "invalid parameter", Errors: []FieldError{{Location: "request", Message: paramMessage(err)}}})
			},
		})
	})
	return r, nil
}

// paramMessage keeps the generated binder's message without the client's value.
func paramMessage(err error) string {
	var ipf *api.InvalidParamFormatError
	if errors.As(err, &ipf) {
		return "invalid format for parameter " + ipf.ParamName
	}
	return "invalid parameter"
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
