package auth

import (
	"net/http"
	"strings"
)

// The policy table: which scope a request needs, from its method, its route pattern and, for the
// pass-through, the action it relays. It is the only place that decides this, and it needs no
// entry per endpoint: a new endpoint gets the right scope from where it sits and what method it
// uses.
//
// The "resource" is the first path segment after /v1/units/{unit}/ in the route pattern (the
// pattern, never the raw path, so an item id such as a trunk named "calls" cannot change it).
// Routes outside /v1/units are matched by their pattern's prefix.
//
//	resource   methods                    scope
//	/v1/webhooks…  any                    admin   (receivers of every unit's events, their errors; resume)
//	/v1/admin…     any                    admin   (operating the gateway: reload)
//	actions    any, a get…/list… action   read    (POST /v1/units/{unit}/actions/{action})
//	actions    any                        admin   (every other action changes the unit)
//	reset      any                        admin   (POST /v1/units/{unit}/reset)
//	calls      not GET/HEAD               calls   (dial, hang up, hold, mute, transfer…)
//	anything   GET, HEAD                  read
//	anything   POST, PUT, PATCH, DELETE…  write   (configuration: extensions, trunks, apply…)
//
// Rules are tried in order and the first match decides. Anything not matched needs write, so an
// unforeseen method fails towards the stronger scope, never towards read.
//
// Two routes are special. The Wave QR code carries the extension's SIP credentials, so reading
// it needs write, like setting them (secrets are write-only everywhere else). A queue agent's
// login and pause are operations on live calls, not configuration: changing them needs calls.
//
// Which actions the pass-through relays at all is the spec's allow-list; this table only says
// what scope each needs. An action is a read by the vendor's naming (get…, list…), as the
// session pool also assumes when it coalesces identical reads.
var policy = []rule{
	{prefix: "/v1/webhooks", methods: anyMethod, scope: ScopeAdmin},
	{prefix: "/v1/admin", methods: anyMethod, scope: ScopeAdmin},
	{pattern: "/v1/units/{unit}/extensions/{ext}/qr", methods: anyMethod, scope: ScopeWrite},
	{pattern: "/v1/units/{unit}/queues/{queue}/agents/{ext}", methods: notRead, scope: ScopeCalls},
	{resource: "actions", action: readAction, methods: anyMethod, scope: ScopeRead},
	{resource: "actions", methods: anyMethod, scope: ScopeAdmin},
	{resource: "reset", methods: anyMethod, scope: ScopeAdmin},
	{resource: "calls", methods: notRead, scope: ScopeCalls},
	{resource: anyResource, methods: read, scope: ScopeRead},
	{resource: anyResource, methods: anyMethod, scope: ScopeWrite},
}

// RequiredScope returns the scope a request needs. action is the {action} the request relays
// through the pass-through ("" for every other route).
func RequiredScope(method, routePattern, action string) Scope {
	res := resourceOf(routePattern)
	for _, r := range policy {
		if r.action != nil && !r.action(action) {
			continue
		}
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

// readAction reports whether a UCM action only reads: get… and list… (case matters: the UCM's
// names are camelCase, and the allow-list holds them exactly).
func readAction(action string) bool {
	return strings.HasPrefix(action, "get") || strings.HasPrefix(action, "list")
}

const anyResource = "*"

type rule struct {
	prefix   string // a route pattern and everything under it; when set, pattern and resource are not used
	pattern  string // an exact route pattern; when set, resource is not used
	resource string
	action   func(string) bool // when set, the relayed action must satisfy it
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
