package handlers

import (
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
)

// Every operation must be usable straight from a Postman import or the /docs page: a summary (the
// request's name), a description, and an example for every request and response body (what
// "try it out" pre-fills and what Postman's converter copies into the collection).
func TestSpecEveryOperationIsDocumentedWithExamples(t *testing.T) {
	spec := mustSpec(t)
	paths := spec.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		for method, op := range spec.Paths.Value(path).Operations() {
			name := method + " " + path
			t.Run(name, func(t *testing.T) {
				assert.NotEmptyf(t, strings.TrimSpace(op.Summary), "%s has no summary", name)
				assert.NotEmptyf(t, strings.TrimSpace(op.Description), "%s has no description", name)
				assert.NotEmptyf(t, op.OperationID, "%s has no operationId", name)
				if op.RequestBody != nil && op.RequestBody.Value != nil {
					for ctype, mt := range op.RequestBody.Value.Content {
						assert.Truef(t, hasExample(mt), "%s: request body %s has no example", name, ctype)
					}
				}
				for code, resp := range op.Responses.Map() {
					for ctype, mt := range resp.Value.Content {
						assert.Truef(t, hasExample(mt), "%s: response %s %s has no example", name, code, ctype)
					}
				}
			})
		}
	}
}

func hasExample(mt *openapi3.MediaType) bool {
	if mt.Example != nil || len(mt.Examples) > 0 {
		return true
	}
	// A binary body (an image, audio) has no meaningful text example: the schema says what it is.
	if mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Format == "binary" {
		return true
	}
	return mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Example != nil
}

func TestHasExample(t *testing.T) {
	withSchemaExample := &openapi3.MediaType{Schema: openapi3.NewSchemaRef("", &openapi3.Schema{Example: map[string]any{"a": 1}})}
	tests := []struct {
		name string
		mt   *openapi3.MediaType
		want bool
	}{
		{name: "none", mt: &openapi3.MediaType{Schema: openapi3.NewSchemaRef("", openapi3.NewObjectSchema())}, want: false},
		{name: "example", mt: &openapi3.MediaType{Example: map[string]any{"a": 1}}, want: true},
		{name: "examples", mt: &openapi3.MediaType{Examples: openapi3.Examples{"x": &openapi3.ExampleRef{}}}, want: true},
		{name: "schema example", mt: withSchemaExample, want: true},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, hasExample(tt.mt), "hasExample(%s)", tt.name)
	}
}
