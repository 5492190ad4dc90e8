package handlers

import (
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
)

// operation is what the gateway needs to know of one operation of the spec outside its handler:
// its id (audit lines), the media types its body may have (415 answers) and its query
// parameters (anything else in a query is refused, as unknown body fields are).
type operation struct {
	id         string
	mediaTypes []string
	query      map[string]bool
}

// routeKey names an operation by method and chi route pattern. It is a pair, not the string
// "METHOD /pattern", so that a lookup on every request concatenates nothing (most patterns are
// longer than the 32 bytes a concatenation may keep on the stack).
type routeKey struct{ method, pattern string }

// operationsOf indexes the spec's operations by method and route pattern: chi's route patterns
// are the spec's path templates, since the router is generated from the spec. (The embedded
// copy has the first letter of each operationId capitalised by oapi-codegen; ids are given as
// api/openapi.yaml spells them.)
func operationsOf(spec *openapi3.T) map[routeKey]operation {
	ops := map[routeKey]operation{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			o := operation{id: op.OperationID, query: map[string]bool{}}
			if o.id != "" {
				o.id = strings.ToLower(o.id[:1]) + o.id[1:]
			}
			for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
				for _, p := range params {
					if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
						o.query[p.Value.Name] = true
					}
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for mt := range op.RequestBody.Value.Content {
					o.mediaTypes = append(o.mediaTypes, mt)
				}
				slices.Sort(o.mediaTypes)
			}
			ops[routeKey{method, path}] = o
		}
	}
	return ops
}

// operationOf finds the operation a routed request is for; HEAD is served as GET.
func (s *Server) operationOf(r *http.Request) (operation, bool) {
	pattern := ""
	if rc := chi.RouteContext(r.Context()); rc != nil {
		pattern = rc.RoutePattern()
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	op, found := s.ops[routeKey{method, pattern}]
	return op, found
}
