package ucmsim

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The rules below transcribe the vendor guide's updateSIPAccount table
// (Table 9), which addSIPAccountAndUser shares. Values are stored with the
// JSON types getSIPAccount returns (Table 8 sample): yes/no and enums as
// strings, the int columns as numbers, unset optional strings as null.

type kind int

const (
	kYesNo kind = iota // "yes"/"no" (case-insensitive in, lowercase stored)
	kEnum              // one of values, stored as string
	kInt               // integer in [min,max] or in ints, stored as number
	kStr               // free string checked by check
	kReal              // decimal number in [fmin,fmax], stored as number
)

// where a parameter is stored.
type target int

const (
	tExtension target = iota // the "extension" object
	tVoicemail               // the "voicemail" object
	tPresence                // the presence item of the current presence_status
	tUser                    // user-side fields of addSIPAccountAndUser
)

type rule struct {
	kind       kind
	values     []string
	min, max   int
	ints       []int
	nullable   bool // null, "null" and "" store null
	anyCase    bool // kEnum: values match in any case and are stored as sent
	allowEmpty bool // kStr: "" is stored as ""
	check      func(string) bool
	target     target
	fmin, fmax float64 // kReal bounds
}

// timeTypes are the time-condition codes of the *_timetype fields.
func timeTypes() []int { return []int{0, 1, 2, 3, 4, 5, 6, 8} }

// fieldRule returns the rule for a request parameter of updateSIPAccount
// (forAdd adds the user fields addSIPAccountAndUser's sample also sends).
func fieldRule(name string, forAdd bool) (rule, bool) {
	yesno := rule{kind: kYesNo}
	switch name {
	case "hasvoicemail", "skip_vmsecret", "faxdetect", "dnd", "nat", "t38_udptl",
		"directmedia", "enable_qualify", "enablehotdesk", "out_of_service", "en_ringboth",
		"use_callee_dod_on_fwd_rb", "use_callee_dod_on_fm", "enable_ldap",
		"custom_autoanswer", "sca_enable", "call_waiting", "enable_webrtc":
		return yesno, true
	case "sendtofax":
		return rule{kind: kYesNo, nullable: true}, true
	case "vm_attach", "vm_reserve":
		return rule{kind: kYesNo, nullable: true, target: tVoicemail}, true
	case "auto_record":
		return enum("all", "external", "internal", "off"), true
	case "encryption":
		return enum("no", "yes", "support"), true
	case "permission":
		return enum("internal", "internal-local", "internal-local-national",
			"internal-local-national-international"), true
	case "bypass_outrt_auth":
		return enum("no", "yes", "bytime"), true
	case "dtmfmode":
		// Table 9 says rfc4733; getSIPAccount's sample shows rfc2833.
		return enum("rfc4733", "rfc2833", "info", "inband", "auto"), true
	case "tel_uri":
		return enum("disabled", "user_phone", "enabled"), true
	case "presence_status":
		return enum("available", "away", "chat", "dnd", "userdef", "unavailable"), true
	case "alertinfo":
		r := enum("none", "ring1", "ring2", "ring3", "ring4", "ring5", "ring6", "ring7",
			"ring8", "ring9", "ring10", "Bellcore-dr1", "Bellcore-dr2", "Bellcore-dr3",
			"Bellcore-dr4", "Bellcore-dr5", "custom")
		r.nullable = true
		return r, true
	case "strategy_ipacl":
		return rule{kind: kInt, ints: []int{0, 1, 2}}, true
	case "dnd_timetype", "skip_auth_timetype", "ringboth_timetype":
		return rule{kind: kInt, ints: timeTypes()}, true
	case "ring_timeout":
		return rule{kind: kInt, min: 3, max: 600, nullable: true}, true
	case "qualifyfreq":
		return rule{kind: kInt, min: 1, max: 3600}, true
	case "max_contacts":
		return rule{kind: kInt, min: 1, max: 10}, true
	case "limitime":
		return rule{kind: kInt, min: 0, max: 86400, nullable: true}, true
	case "secret", "vmsecret":
		return rule{kind: kStr, check: func(s string) bool { return len(s) <= 64 && isPrintable(s) }}, true
	case "cidnumber":
		return rule{kind: kStr, allowEmpty: true, check: func(s string) bool {
			return len(s) <= 32 && isPrintable(s)
		}}, true
	case "specific_ip":
		return rule{kind: kStr, nullable: true, check: func(s string) bool {
			_, err := netip.ParseAddr(s)
			return err == nil
		}}, true
	case "allow":
		return rule{kind: kStr, check: validCodecs}, true
	case "authid":
		return rule{kind: kStr, nullable: true, check: func(s string) bool {
			return len(s) <= 32 && isPrintable(s) && !strings.ContainsAny(s, `,;:?"()<>@\/[]={}`)
		}}, true
	case "user_outrt_passwd":
		return rule{kind: kStr, nullable: true, check: func(s string) bool {
			return len(s) >= 4 && len(s) <= 10 && isDigits(s)
		}}, true
	case "mohsuggest":
		return rule{kind: kStr, check: func(s string) bool { return len(s) <= 64 && isText(s) }}, true
	case "external_number":
		return rule{kind: kStr, nullable: true, check: func(s string) bool {
			return len(s) <= 32 && isAlnum(strings.Map(dropDialSymbols, s))
		}}, true
	case "emergcidnumber":
		return rule{kind: kStr, nullable: true, check: func(s string) bool {
			return len(s) >= 2 && len(s) <= 32 && isAlnum(s)
		}}, true
	case "dndwhitelist", "callbarging_monitor", "seamless_transfer_members":
		return rule{kind: kStr, allowEmpty: true, check: validNumberList}, true
	case "fwdwhitelist":
		return rule{kind: kStr, nullable: true, check: validNumberList}, true
	}
	if strings.HasPrefix(name, "local_network") {
		switch strings.TrimPrefix(name, "local_network") {
		case "1", "2", "3", "4", "5", "6", "7", "8", "9", "10":
			return rule{kind: kStr, nullable: true, check: validSubnet}, true
		}
	}
	if r, found := presenceRule(name); found && name != "presence_status" {
		r.target = tPresence
		return r, true
	}
	if forAdd {
		switch name {
		case "first_name", "last_name":
			return rule{kind: kStr, allowEmpty: true, target: tUser, check: func(s string) bool {
				return len(s) <= 64 && isText(s)
			}}, true
		case "email", "language", "user_password":
			return rule{kind: kStr, allowEmpty: true, target: tUser, check: func(s string) bool {
				return len(s) <= 128 && isPrintable(s)
			}}, true
		case "wave_privilege_id":
			return rule{kind: kStr, allowEmpty: true, target: tUser, check: isDigits}, true
		}
	}
	return rule{}, false
}

// presenceRule is the rule for a key of a sip_presence_settings item.
func presenceRule(name string) (rule, bool) {
	switch name {
	case "presence_status":
		return enum("available", "away", "chat", "dnd", "userdef", "unavailable"), true
	case "cfb", "cfn", "cfu":
		return rule{kind: kStr, nullable: true, check: isDialString}, true
	case "cfb_timetype", "cfn_timetype", "cfu_timetype":
		return rule{kind: kInt, ints: timeTypes()}, true
	case "cfb_destination_type", "cfn_destination_type", "cfu_destination_type":
		return enum("0", "1", "2", "3", "4", "5", "6"), true
	}
	return rule{}, false
}

func enum(values ...string) rule { return rule{kind: kEnum, values: values} }

// normalize validates v against r and returns the value to store.
func (r rule) normalize(v any) (any, bool) {
	if v == nil || (r.nullable && isNullWord(v)) {
		return nil, r.nullable
	}
	if r.kind == kInt {
		if s, isStr := v.(string); isStr && strings.TrimSpace(s) == "" {
			return nil, r.nullable
		}
		n, isInt := paramInt(v)
		if !isInt {
			return nil, false
		}
		if r.ints != nil {
			return n, slices.Contains(r.ints, n)
		}
		return n, n >= r.min && n <= r.max
	}
	if r.kind == kReal {
		s, isStr := paramString(v)
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if !isStr || err != nil || math.IsNaN(f) {
			return nil, false
		}
		return f, f >= r.fmin && f <= r.fmax
	}
	s, isStr := paramString(v)
	if !isStr {
		return nil, false
	}
	if s == "" {
		switch {
		case r.nullable:
			return nil, true
		case r.allowEmpty:
			return "", true
		}
		return nil, false
	}
	switch r.kind {
	case kYesNo:
		s = strings.ToLower(s)
		return s, s == "yes" || s == "no"
	case kEnum:
		if r.anyCase {
			return s, slices.ContainsFunc(r.values, func(v string) bool { return strings.EqualFold(v, s) })
		}
		return s, slices.Contains(r.values, s)
	}
	if r.check != nil && !r.check(s) {
		return nil, false
	}
	return s, true
}

// codecs are the values of the allow list.
func codecs() []string {
	return []string{"ulaw", "alaw", "gsm", "g726", "g722", "g729", "h264", "ilbc",
		"g726aal2", "adpcm", "g723", "h263", "h263p", "vp8", "opus", "h265", "rtx"}
}

func validCodecs(s string) bool {
	known := codecs()
	for c := range strings.SplitSeq(s, ",") {
		if !slices.Contains(known, strings.TrimSpace(c)) {
			return false
		}
	}
	return true
}

func validNumberList(s string) bool {
	for n := range strings.SplitSeq(s, ",") {
		if !isDialString(strings.TrimSpace(n)) {
			return false
		}
	}
	return true
}

// validSubnet accepts 192.168.1.0/24, 192.168.1.0/255.255.255.0, an address
// alone, and IPv6 prefixes.
func validSubnet(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	addr, mask, found := strings.Cut(s, "/")
	if !found {
		return false
	}
	a, err1 := netip.ParseAddr(addr)
	m, err2 := netip.ParseAddr(mask)
	return err1 == nil && err2 == nil && a.Is4() && m.Is4()
}

func dropDialSymbols(r rune) rune {
	if strings.ContainsRune("+-*#", r) {
		return -1
	}
	return r
}
