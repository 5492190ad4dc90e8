package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httplog/v3"
)

var clientRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestID accepts a sane X-Request-Id from the client (so a frontend can correlate its own logs)
// or makes one, returns it on the response and puts it on the request's log line.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || !clientRequestID.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		attrs := []slog.Attr{slog.String("request_id", id)}
		if tp := r.Header.Get("traceparent"); tp != "" && traceparent.MatchString(tp) {
			attrs = append(attrs, slog.String("trace_id", strings.Split(tp, "-")[1]))
		}
		httplog.SetAttrs(r.Context(), attrs...)
		next.ServeHTTP(w, r.WithContext(withRequestState(r.Context(), &requestState{id: id})))
	})
}

// W3C trace context: version-traceid-parentid-flags.
var traceparent = regexp.MustCompile(`^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

// RequestIDFrom returns the request id set by the requestID middleware.
func RequestIDFrom(ctx context.Context) string {
	if st := requestStateFrom(ctx); st != nil {
		return st.id
	}
	return ""
}

// recoverer turns a panic into a problem+json 500 (never a bare 500 or a dropped connection) and
// logs the stack; the client sees only the request id.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			s.logger.ErrorContext(r.Context(), "handler panicked", "request_id", RequestIDFrom(r.Context()),
				"panic", fmt.Sprintf("%T", rec), "stack", string(debug.Stack()))
			writeProblem(w, r, s.logger, fmt.Errorf("handler panicked (%T)", rec))
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies; the validator reports an overrun as 413.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.maxBody {
			writeProblem(w, r, s.logger, &InputError{Status: http.StatusRequestEntityTooLarge,
				Detail: "the request body is larger than " + strconv.FormatInt(s.maxBody, 10) + " bytes"})
			return
		}
		if r.Body != http.NoBody { // what net/http gives a request without a body: nothing to cap
			r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// instrument records request count and latency by chi route pattern (read after routing, so a
// path with ids never becomes a label of its own), and puts the pattern on the request's log line
// so logs can be grouped the way the metrics are.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := statusRecorder(w, r)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		elapsed := time.Since(start)
		// The concise log schema keeps status and latency only inside msg: add them as fields.
		httplog.SetAttrs(r.Context(), slog.String("route", route), slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000))
		method := metricMethod(r.Method)
		s.metrics.HTTPRequests.WithLabelValues(route, method, statusLabel(status)).Inc()
		s.metrics.HTTPDuration.WithLabelValues(route, method).Observe(elapsed.Seconds())
	})
}

// statusRecorder returns a writer that tells the response's status: w itself when an outer
// middleware has wrapped it already (httplog's RequestLogger wraps every request), chi's wrapper
// otherwise. A second wrapper would see the very same WriteHeader and Write calls, as no
// middleware between them writes on its own or changes a status, and costs two allocations.
func statusRecorder(w http.ResponseWriter, r *http.Request) chimw.WrapResponseWriter {
	if ww, ok := w.(chimw.WrapResponseWriter); ok {
		return ww
	}
	return chimw.NewWrapResponseWriter(w, r.ProtoMajor)
}

// unitFromPath finds the unit in /v1/units/{unit}/… before routing has run (validation errors).
func unitFromPath(r *http.Request) string {
	if u := chi.URLParam(r, "unit"); u != "" {
		return u
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/units/")
	if !ok {
		return ""
	}
	u, _, _ := strings.Cut(rest, "/")
	if !unitID.MatchString(u) {
		return ""
	}
	return u
}

var unitID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// statusLabel is strconv.Itoa(status), without allocating for the statuses the gateway answers
// most.
func statusLabel(status int) string {
	switch status {
	case http.StatusOK:
		return "200"
	case http.StatusCreated:
		return "201"
	case http.StatusAccepted:
		return "202"
	case http.StatusNoContent:
		return "204"
	case http.StatusNotModified:
		return "304"
	case http.StatusBadRequest:
		return "400"
	case http.StatusUnauthorized:
		return "401"
	case http.StatusForbidden:
		return "403"
	case http.StatusNotFound:
		return "404"
	case http.StatusConflict:
		return "409"
	case http.StatusTooManyRequests:
		return "429"
	case http.StatusBadGateway:
		return "502"
	case http.StatusServiceUnavailable:
		return "503"
	case http.StatusGatewayTimeout:
		return "504"
	}
	return strconv.Itoa(status)
}

// metricMethod bounds the method label: anyone can send any method name, before authentication,
// and each new name would otherwise create series of its own.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// noStore keeps every /v1 answer out of shared and browser caches: they describe a live PBX, and
// some (a Wave QR code) carry credentials.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
