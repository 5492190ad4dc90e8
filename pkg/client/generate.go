// Package client is a typed Go client for the ucm-gateway REST API, generated from
// api/openapi.yaml by oapi-codegen (client.gen.go: never edit it; change the spec and run
// `make generate`). New adds the API key to every request.
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../api/openapi.yaml
