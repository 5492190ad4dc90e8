package ucmsim

// seedAccount describes one demo extension.
type seedAccount struct {
	ext, fullname, permission string
	webrtc                    bool
	addr                      string
	secret, vmsecret          string
	urg, newm, old            int
	fields                    map[string]any            // extra "extension" fields
	forwards                  map[string]map[string]any // presence_status -> item fields
}

// seedAccounts are extensions 1000-1005 in varied states. Secrets are
// distinct, random-looking fixed strings so tests can grep logs for leaks.
func seedAccounts() []seedAccount {
	return []seedAccount{
		{
			ext: "1000", fullname: "Alice Martin", webrtc: true,
			permission: "internal-local-national-international",
			addr:       "192.168.10.21:49852",
			secret:     "Sx7!kP2qLm9#vR4t", vmsecret: "Vm8412Qz",
			newm: 2, old: 5,
			fields: map[string]any{"max_contacts": 3, "auto_record": "external"},
		},
		{
			ext: "1001", fullname: "Bob Nguyen",
			permission: "internal-local-national",
			addr:       "192.168.10.22:5060",
			secret:     "Hq3$Wn8zTe5@jL1c", vmsecret: "Vm2957Kr",
			urg: 1, old: 12,
			forwards: map[string]map[string]any{
				"available": {"cfb": "1002", "cfb_destination_type": "1"},
			},
		},
		{
			ext: "1002", fullname: "Carla Diaz",
			permission: "internal-local",
			addr:       "-",
			secret:     "Pz6^Rb4nYc9!uD2m", vmsecret: "Vm7360Ta",
			newm:   4,
			fields: map[string]any{"presence_status": "away", "ring_timeout": 30},
			forwards: map[string]map[string]any{
				"away": {"cfu": "0612345678", "cfu_destination_type": "2"},
			},
		},
		{
			ext: "1003", fullname: "Dmitri Volkov", webrtc: true,
			permission: "internal-local-national-international",
			addr:       "10.0.5.14:5062,192.168.10.40:50112",
			secret:     "Gt2&Mv7xQa4*eN8s", vmsecret: "Vm5184Hw",
			fields: map[string]any{"max_contacts": 2, "dtmfmode": "rfc4733"},
			forwards: map[string]map[string]any{
				"unavailable": {"cfn": "1000", "cfn_destination_type": "1", "cfn_timetype": 2},
			},
		},
		{
			ext: "1004", permission: "internal-local",
			addr:   "-",
			secret: "Jk9%Fs3wZr6!bP5y", vmsecret: "Vm6023Lc",
			fields: map[string]any{"out_of_service": "yes", "hasvoicemail": "no"},
		},
		{
			ext: "1005", fullname: "Lobby Phone",
			permission: "internal",
			addr:       "192.168.10.50:5060",
			secret:     "Lb4#Yt8qWc2!nR7v", vmsecret: "Vm3871Pd",
			fields: map[string]any{"dnd": "yes", "limitime": 600, "user_outrt_passwd": "482913"},
		},
	}
}

// loadSeed installs the demo extensions. Called from New only.
func (u *UCM) loadSeed() {
	for _, s := range seedAccounts() {
		a := newAccount(s.ext)
		a.setWebRTC(s.webrtc)
		a.ext["permission"] = s.permission
		a.ext["secret"], a.ext["vmsecret"] = s.secret, s.vmsecret
		if s.fullname != "" {
			a.ext["fullname"] = s.fullname
		}
		for k, v := range s.fields {
			a.ext[k] = v
		}
		for status, item := range s.forwards {
			it := a.presenceItem(status)
			for k, v := range item {
				it[k] = v
			}
		}
		a.addr = s.addr
		a.urgmsg, a.newmsg, a.oldmsg = s.urg, s.newm, s.old
		u.accounts[s.ext] = a
	}
}
