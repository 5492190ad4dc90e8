package ucmsim

// The status of an extension, as listAccount's "status" and the
// ExtensionStatus event report it. Both read extStatuses, so they cannot
// disagree. The guide lists Idle, InUse, Busy, Unavailable and Ringing
// (Table 7) and its samples show Idle and Unavailable; how a unit derives
// them is not documented. The simulator's rule, a guess modelled on
// Asterisk's device states:
//   - an extension with nothing registered (addr "-") is Unavailable, on a
//     call or not (no call can reach its phone);
//   - one with a channel up (talking, barging, a transferred party waiting
//     for its new destination) is InUse;
//   - else one whose phone rings is Ringing: the caller of a dial (the unit
//     rings the caller first), the destination of a transfer or of an
//     inbound call (but not while the call waits for Call Control: it rings
//     nobody until accepted);
//   - else Idle.
//
// Busy is never reported: the simulator models no limit on simultaneous
// calls (call waiting is always possible).

const (
	extIdle        = "Idle"
	extInUse       = "InUse"
	extRinging     = "Ringing"
	extUnavailable = "Unavailable"
)

// extStatuses returns every extension's status. Called with u.mu held,
// after settleCalls.
func (u *UCM) extStatuses() map[string]string {
	st := make(map[string]string, len(u.accounts))
	for ext, a := range u.accounts {
		st[ext] = extIdle
		if a.addr == "-" {
			st[ext] = extUnavailable
		}
	}
	mark := func(ext, s string) {
		cur, isExt := st[ext]
		switch {
		case !isExt || cur == extUnavailable || cur == extInUse:
		case s == extInUse || cur == extIdle:
			st[ext] = s
		}
	}
	for _, c := range u.calls {
		callerIsExt := c.kind != "inbound"
		calleeIsExt := c.kind == "extension" || c.kind == "inbound"
		switch {
		case c.answered:
			if callerIsExt {
				mark(c.caller, extInUse)
			}
			if calleeIsExt {
				mark(c.callee, extInUse)
			}
		case c.kind == "inbound" || len(c.legs) > 1: // the destination rings
			if callerIsExt { // a transferred party, waiting up
				mark(c.caller, extInUse)
			}
			if calleeIsExt && !c.awaitControl {
				mark(c.callee, extRinging)
			}
		default: // a dial rings its caller first
			mark(c.caller, extRinging)
		}
		for _, b := range c.bargers {
			mark(b.ext, extInUse)
		}
	}
	return st
}
