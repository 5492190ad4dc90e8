package auth

import (
	"net/http"
	"strings"
)

// The policy table: which scope a request needs, from its method and its route pattern alone.
// It is the only place that decides this, and it needs no entry per endpoint: a new endpoint gets
// the right scope from where it sits and what method it uses.
//
// The "resource" is the first path segment after /v1/units/{unit}/ in the route pattern (the
// pattern, never the raw path, so an item id such as a trunk named "calls" cannot change it).
// Routes outside /v1/units are matched by their pattern's prefix.
//
//	resource   methods                    scope
//	/v1/webhooks…  any                    admin   (receivers of every unit's events, their errors; resume)
//	actions    any                        admin   (POST /v1/units/{unit}/actions/{action})
//	reset      any                        admin   (POST /v1/units/{unit}/reset)
//	calls      not GET/HEAD               calls   (dial, hang up, hold, mute, transfer…)
//	anything   GET, HEAD                  read
//	anything   POST, PUT, PATCH, DELETE…  write   (configuration: extensions, trunks, apply…)
//
// Rules are tried in order and the first match decides. Anything not matched needs write, so an
// unforeseen method fails towards the stronger scope, never towards read.
//
// One route is special: the Wave QR code carries the extension's SIP credentials, so reading it
// needs write, like setting them (secrets are write-only everywhere else).
var policy = []rule{
	{prefix: "/v1/webhooks", methods: anyMethod, scope: ScopeAdmin},
	{pattern: "/v1/units/{unit}/extensions/{ext}/qr", methods: anyMethod, scope: ScopeWrite},
	{resource: "actions", methods: anyMethod, scope: ScopeAdmin},
	{resource: "reset", methods: anyMethod, scope: ScopeAdmin},
	{resource: "calls", methods: notRead, scope: ScopeCalls},
	{resource: anyResource, methods: read, scope: ScopeRead},
	{resource: anyResource, methods: anyMethod, scope: ScopeWrite},
}

// RequiredScope returns the scope a request needs.
func RequiredScope(method, routePattern string) Scope {
	res := resourceOf(routePattern)
	for _, r := range policy {
		if r.prefix != "" {
			if (routePattern == r.prefix || strings.HasPrefix(routePattern, r.prefix+"/")) && r.methods.match(method) {
				return r.scope
			}
			continue
		}
		if r.pattern != "" {
			if r.pattern == routePattern && r.methods.match(method) {
				return r.scope
			}
			continue
		}
		if (r.resource == anyResource || r.resource == res) && r.methods.match(method) {
			return r.scope
		}
	}
	return ScopeWrite // unreachable: the last rule matches everything
}

const anyResource = "*"

type rule struct {
	prefix   string // a route pattern and everything under it; when set, pattern and resource are not used
	pattern  string // an exact route pattern; when set, resource is not used
	resource string
	methods  methodClass
	scope    Scope
}

type methodClass struct {
	name  string
	match func(string) bool
}

var (
	anyMethod = methodClass{"any", func(string) bool { return true }}
	read      = methodClass{"GET, HEAD", isRead}
	notRead   = methodClass{"not GET/HEAD", func(m string) bool { return !isRead(m) }}
)

func isRead(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// resourceOf returns the segment after /v1/units/{unit}/ ("" for /v1/units and /v1/units/{unit}).
func resourceOf(pattern string) string {
	rest, ok := strings.CutPrefix(pattern, "/v1/units/{unit}/")
	if !ok {
		return ""
	}
	res, _, _ := strings.Cut(rest, "/")
	return res
}
