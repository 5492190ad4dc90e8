// Package apispec embeds the OpenAPI document as written, so /openapi.yaml serves the contract
// byte for byte (comments and order included) rather than a re-encoding of it.
package apispec

import _ "embed"

// YAML is api/openapi.yaml.
//
//go:embed openapi.yaml
var YAML []byte
