// Package api is generated from api/openapi.yaml by oapi-codegen: the models, the strict chi
// server interface and the embedded spec. Never edit api.gen.go; change the spec and run
// `make generate`.
package api

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../api/openapi.yaml
