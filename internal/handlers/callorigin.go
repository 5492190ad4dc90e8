package handlers

import (
	"github.com/ucm-gateway/ucm-gateway/internal/api"
	"github.com/ucm-gateway/ucm-gateway/internal/calls"
)

// origin is who a dial rings first: an extension of the unit, or an outside number the unit
// rings through its trunks (a CRM agent on a mobile phone, a callback service).
type origin struct {
	external bool
	number   string
}

// originOf reads CallCreate.from: an extension number as a string (the original form), or a
// CallOrigin object. The validator has already checked it is one of the two.
func originOf(b *api.CallCreate) (origin, error) {
	if ext, err := b.From.AsExtensionNumber(); err == nil {
		return origin{number: ext}, nil
	}
	o, err := b.From.AsCallOrigin()
	if err != nil {
		return origin{}, &InputError{Detail: "invalid body.from", Errors: []FieldError{{Location: "body.from", Message: "an extension number, or {type, number}"}}}
	}
	if o.Type == api.CallOriginTypeExtension && !extensionNumber(o.Number) {
		return origin{}, &InputError{Detail: "invalid body.from.number", Errors: []FieldError{{Location: "body.from.number", Message: "an extension has 2 to 18 digits"}}}
	}
	return origin{external: o.Type == api.CallOriginTypeExternal, number: o.Number}, nil
}

// dialFromOutside picks the UCM action for a call from an outside number: to another outside
// number (dialOutboundTwo) or into an IVR (dialIVROutbound). The UCM has no action that rings an
// outside number first for any other destination.
func dialFromOutside(from origin, to api.CallDestination) (string, map[string]any, error) {
	switch to.Type {
	case api.CallDestinationTypeExternal:
		return "dialOutboundTwo", map[string]any{"outcaller": from.number, "outcallee": to.Number}, nil
	case api.CallDestinationTypeIvr:
		if !extensionNumber(to.Number) {
			return "", nil, &InputError{Detail: "invalid body.to.number", Errors: []FieldError{{Location: "body.to.number", Message: "an IVR number has 2 to 18 digits"}}}
		}
		return "dialIVROutbound", map[string]any{"outcaller": from.number, "ivrnumber": to.Number}, nil
	}
	return "", nil, &InputError{Detail: "invalid body.to.type", Errors: []FieldError{{Location: "body.to.type",
		Message: "a call from an outside number goes to an external number or an IVR"}}}
}

// placed reports whether the channel name, part of call, is the leg a dial from this origin
// started: the extension's own channel ("PJSIP/1000-…"), or for an outside number the trunk
// channel whose caller is that number (the unit rings it as it rings an extension's phone).
func (o origin) placed(name string, call api.Call) bool {
	ep := calls.EndpointOf(name)
	if !o.external {
		return ep == o.number
	}
	from, err := call.From.Get()
	return err == nil && from == o.number && !extensionNumber(ep)
}

func (o origin) String() string {
	if o.external {
		return "the number " + o.number
	}
	return "extension " + o.number
}

// notStartedReason is the likely cause of a dial whose call never appeared.
func (o origin) notStartedReason() string {
	if o.external {
		return "the unit could not reach it (no outbound route or trunk for it; the unit does not report this)"
	}
	return "its phone is probably not registered (the unit does not report this)"
}
