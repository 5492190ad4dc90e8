package handlers

import (
	"context"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"
)

// The validator runs after chi has routed the request, so the operation is already known: its
// route pattern names the spec's path (the generated routes are the spec's paths) and its URL
// parameters are the path parameters. kin-openapi's gorilla/mux router found the route again
// by trying each path's regular expression in turn: a profile of GET …/extensions/{ext} put 41
// of its allocations and 5% of its CPU there. It is kept for what chi cannot say (an escaped
// path, whose parameters chi leaves encoded).

// specRouter finds an operation by chi's match, and by kin-openapi's own router otherwise.
type specRouter struct {
	routes   map[routeKey]*routers.Route // GET /v1/units/{unit} -> the spec's operation
	fallback routers.Router
}

func newSpecRouter(spec *openapi3.T) (*specRouter, error) {
	spec.Servers = nil // no Host validation: the gateway does not know the name it is reached by
	fallback, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, err
	}
	sr := &specRouter{routes: map[routeKey]*routers.Route{}, fallback: fallback}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			sr.routes[routeKey{method, path}] = &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return sr, nil
}

// FindRoute implements routers.Router.
func (sr *specRouter) FindRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	rc := chi.RouteContext(r.Context())
	if rc == nil || r.URL.RawPath != "" {
		return sr.fallback.FindRoute(r)
	}
	route, found := sr.routes[routeKey{r.Method, rc.RoutePattern()}]
	if !found {
		return sr.fallback.FindRoute(r)
	}
	params := make(map[string]string, len(rc.URLParams.Keys))
	for i, k := range rc.URLParams.Keys {
		if k != "*" {
			params[k] = rc.URLParams.Values[i]
		}
	}
	return route, params, nil
}

// validateWith is the request validator (nethttp-middleware's, whose router cannot be chosen)
// over specRouter: every error, a missing route included, goes to onError.
func validateWith(router routers.Router, opts openapi3filter.Options,
	onError func(ctx context.Context, err error, w http.ResponseWriter, r *http.Request)) func(http.Handler) http.Handler {
	opts.KeepValidatedValue = true // the strict server binds the validated body instead of decoding it again
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			route, params, err := router.FindRoute(r)
			if err == nil {
				err = openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
					Request: r, PathParams: params, Route: route, Options: &opts})
				switch err.(type) {
				case nil, openapi3.MultiError, *openapi3filter.RequestError, *openapi3filter.SecurityRequirementsError:
				default:
					err = fmt.Errorf("error validating route: %w", err)
				}
			}
			if err != nil {
				onError(r.Context(), err, w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
