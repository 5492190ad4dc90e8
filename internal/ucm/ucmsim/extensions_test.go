package ucmsim

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func extensionsOf(r map[string]any, key string) []string {
	var out []string
	for _, it := range r["account"].([]any) {
		out = append(out, fmt.Sprint(it.(map[string]any)[key]))
	}
	return out
}

func TestListAccount(t *testing.T) {
	_, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)

	tests := []struct {
		name      string
		params    []any
		wantExts  []string
		wantPage  int
		wantPages int
	}{
		{"all on page 1", nil, []string{"1000", "1001", "1002", "1003", "1004", "1005"}, 1, 1},
		{"page 2 of 2-item pages", []any{"item_num", "2", "page", "2"}, []string{"1002", "1003"}, 2, 3},
		{"numbers accepted", []any{"item_num", 4, "page", 2}, []string{"1004", "1005"}, 2, 2},
		{"past the end", []any{"item_num", "4", "page", "3"}, nil, 3, 2},
		{"desc", []any{"sord", "desc", "item_num", "3"}, []string{"1005", "1004", "1003"}, 1, 2},
		{"guide's acs", []any{"sord", "acs", "item_num", "1"}, []string{"1000"}, 1, 6},
		{"by fullname, null first", []any{"sidx", "fullname"},
			[]string{"1004", "1000", "1001", "1002", "1003", "1005"}, 1, 1},
		{"by status desc", []any{"sidx", "status", "sord", "desc", "item_num", "2"},
			[]string{"1002", "1004"}, 1, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, st := call(t, post, "listAccount", append([]any{"cookie", cookie}, tc.params...)...)
			require.Equal(t, 0, st, "%v", r)
			assert.Equal(t, tc.wantExts, extensionsOf(r, "extension"))
			assert.Equal(t, json.Number(fmt.Sprint(tc.wantPage)), r["page"])
			assert.Equal(t, json.Number("6"), r["total_item"])
			assert.Equal(t, json.Number(fmt.Sprint(tc.wantPages)), r["total_page"])
		})
	}

	t.Run("default fields and types", func(t *testing.T) {
		r, _ := call(t, post, "listAccount", "cookie", cookie, "item_num", "1", "page", "5")
		item := r["account"].([]any)[0].(map[string]any)
		assert.Len(t, item, 11)
		assert.Nil(t, item["fullname"], "1004 has no name")
		assert.Equal(t, "yes", item["out_of_service"])
		assert.Equal(t, "-", item["addr"])
		assert.Equal(t, json.Number("0"), item["newmsg"])
		assert.Equal(t, "1004", item["user_name"])
	})
	t.Run("the urgent count is urgmsg in the reply, urgemsg in options", func(t *testing.T) {
		r, _ := call(t, post, "listAccount", "cookie", cookie, "item_num", "1", "page", "2")
		item := r["account"].([]any)[0].(map[string]any)
		assert.Equal(t, json.Number("1"), item["urgmsg"], "1001 has an urgent message")
		assert.NotContains(t, item, "urgemsg")
		for _, asked := range []string{"urgemsg", "urgmsg"} {
			r, st := call(t, post, "listAccount", "cookie", cookie, "options", "extension,"+asked, "item_num", "1", "page", "2")
			require.Equal(t, StatusOK, st, asked)
			assert.Equal(t, map[string]any{"extension": "1001", "urgmsg": json.Number("1")}, r["account"].([]any)[0], asked)
		}
	})
	t.Run("options select fields", func(t *testing.T) {
		r, _ := call(t, post, "listAccount", "cookie", cookie, "options", "extension, status,account_type")
		for _, it := range r["account"].([]any) {
			assert.ElementsMatch(t, []string{"extension", "status", "account_type"}, keys(it.(map[string]any)))
		}
		assert.Equal(t, []string{"SIP(WebRTC)", "SIP", "SIP", "SIP(WebRTC)", "SIP", "SIP"}, extensionsOf(r, "account_type"))
		// 1001 talks on the seeded inbound call; status follows the calls (extstatus.go).
		assert.Equal(t, []string{"Idle", "InUse", "Unavailable", "Idle", "Unavailable", "Idle"}, extensionsOf(r, "status"))
	})

	bad := [][]any{{"sord", "up"}, {"sidx", "nope"}, {"options", "extension,newms"}, {"item_num", "0"}, {"page", "x"}}
	for _, p := range bad {
		r, st := call(t, post, "listAccount", append([]any{"cookie", cookie}, p...)...)
		assert.Equal(t, StatusInvalidValue, st, "%v", p)
		assert.Contains(t, r["error_msg"], p[0], "error names the parameter")
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestGetSIPAccount(t *testing.T) {
	_, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)

	r, st := call(t, post, "getSIPAccount", "cookie", cookie, "extension", "1000")
	require.Equal(t, 0, st)
	ext := r["extension"].(map[string]any)
	assert.Len(t, ext, 74, "every field of the guide's sample")
	assert.Equal(t, "Sx7!kP2qLm9#vR4t", ext["secret"])
	assert.Equal(t, "Vm8412Qz", ext["vmsecret"])
	assert.Equal(t, "SIP(WebRTC)", ext["account_type"])
	assert.Equal(t, json.Number("3"), ext["max_contacts"])
	assert.Equal(t, json.Number("60"), ext["qualifyfreq"])
	assert.Equal(t, json.Number("0"), ext["strategy_ipacl"])
	assert.Equal(t, json.Number("0"), ext["dnd_timetype"])
	assert.Equal(t, "yes", ext["hasvoicemail"])
	assert.Contains(t, ext, "local_network10")
	assert.Nil(t, ext["ring_timeout"])
	assert.Nil(t, ext["authid"])

	pres := r["sip_presence_settings"].([]any)
	require.Len(t, pres, 5)
	var order []string
	for _, p := range pres {
		item := p.(map[string]any)
		assert.Len(t, item, 10)
		order = append(order, item["presence_status"].(string))
		assert.Equal(t, "0", item["cfu_destination_type"])
		assert.Equal(t, json.Number("0"), item["cfu_timetype"])
	}
	assert.Equal(t, []string{"available", "away", "chat", "unavailable", "userdef"}, order)
	assert.Equal(t, map[string]any{"vm_attach": nil, "vm_reserve": nil}, r["voicemail"])
	assert.Len(t, r["cti_feature_privilege"], 4)

	r, st = call(t, post, "getSIPAccount", "cookie", cookie, "extension", 1002) // a number works too
	require.Equal(t, 0, st)
	away := r["sip_presence_settings"].([]any)[1].(map[string]any)
	assert.Equal(t, "0612345678", away["cfu"])
	assert.Equal(t, "2", away["cfu_destination_type"])

	_, st = call(t, post, "getSIPAccount", "cookie", cookie, "extension", "4242")
	assert.Equal(t, StatusNoSuchItem, st)
	_, st = call(t, post, "getSIPAccount", "cookie", cookie)
	assert.Equal(t, StatusInvalidParams, st)
}

func TestSeedSecretsDistinct(t *testing.T) {
	u := New(Config{Seed: true})
	seen := map[string]string{}
	for i := 1000; i <= 1005; i++ {
		rec, found := u.Extension(fmt.Sprint(i))
		require.True(t, found)
		for _, k := range []string{"secret", "vmsecret"} {
			v := rec[k].(string)
			assert.GreaterOrEqual(t, len(v), 8)
			assert.NotContains(t, seen, v, "%d %s duplicates %s", i, k, seen[v])
			seen[v] = fmt.Sprint(i, k)
		}
	}
	rec, _ := u.Extension("1005")
	assert.Equal(t, "internal", rec["permission"])
}

func TestUpdateValidation(t *testing.T) {
	u, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)

	tests := []struct {
		field  string
		value  any
		status int
		stored any // expected stored value when status is 0
	}{
		{"max_contacts", "10", 0, 10},
		{"max_contacts", 2, 0, 2},
		{"max_contacts", "11", StatusInvalidValue, nil},
		{"max_contacts", "0", StatusInvalidValue, nil},
		{"max_contacts", "two", StatusInvalidValue, nil},
		{"ring_timeout", "30", 0, 30},
		{"ring_timeout", "null", 0, nil},
		{"ring_timeout", "2", StatusInvalidValue, nil},
		{"ring_timeout", "601", StatusInvalidValue, nil},
		{"qualifyfreq", "3600", 0, 3600},
		{"qualifyfreq", "3601", StatusInvalidValue, nil},
		{"limitime", "86400", 0, 86400},
		{"limitime", "-1", StatusInvalidValue, nil},
		{"user_outrt_passwd", "1234", 0, "1234"},
		{"user_outrt_passwd", "123", StatusInvalidValue, nil},
		{"user_outrt_passwd", "12345678901", StatusInvalidValue, nil},
		{"user_outrt_passwd", "12a4", StatusInvalidValue, nil},
		{"authid", "alice.m", 0, "alice.m"},
		{"authid", "alice m", StatusInvalidValue, nil},
		{"authid", "a@b", StatusInvalidValue, nil},
		{"allow", "ulaw,alaw,opus", 0, "ulaw,alaw,opus"},
		{"allow", "ulaw,speex", StatusInvalidValue, nil},
		{"permission", "internal-local", 0, "internal-local"},
		{"permission", "international", StatusInvalidValue, nil},
		{"dtmfmode", "rfc2833", 0, "rfc2833"},
		{"dtmfmode", "rfc4733", 0, "rfc4733"},
		{"dtmfmode", "pulse", StatusInvalidValue, nil},
		{"dnd", "Yes", 0, "yes"},
		{"dnd", "true", StatusInvalidValue, nil},
		{"dnd_timetype", "8", 0, 8},
		{"dnd_timetype", "7", StatusInvalidValue, nil},
		{"strategy_ipacl", "3", StatusInvalidValue, nil},
		{"local_network1", "192.168.1.0/24", 0, "192.168.1.0/24"},
		{"local_network1", "192.168.1.0/255.255.255.0", 0, "192.168.1.0/255.255.255.0"},
		{"local_network11", "192.168.1.0/24", StatusInvalidParams, nil},
		{"specific_ip", "10.0.0.300", StatusInvalidValue, nil},
		{"alertinfo", "Bellcore-dr3", 0, "Bellcore-dr3"},
		{"alertinfo", "ring11", StatusInvalidValue, nil},
		{"emergcidnumber", "1", StatusInvalidValue, nil},
		{"secret", "", StatusInvalidValue, nil},
		{"presence_status", "dnd", 0, "dnd"},
		{"fullname", "Alice M", StatusInvalidParams, nil},
		{"bogus", "1", StatusInvalidParams, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s=%v", tc.field, tc.value), func(t *testing.T) {
			r, st := call(t, post, "updateSIPAccount", "cookie", cookie, "extension", "1001", tc.field, tc.value)
			require.Equal(t, tc.status, st, "%v", r)
			if st != 0 {
				assert.Contains(t, r["error_msg"], tc.field, "error_msg names the field")
				return
			}
			assert.ElementsMatch(t, []string{"extension"}, keys(r), "the guide's sample reply, without need_apply: %v", r)
			assert.ElementsMatch(t, []string{"alertinfo", "extension"}, keys(r["extension"].(map[string]any)))
			assert.True(t, u.PendingApply(), "and yet the write is staged")
			rec, _ := u.Extension("1001")
			assert.Equal(t, tc.stored, rec[tc.field])
		})
	}

	t.Run("atomic", func(t *testing.T) {
		_, st := call(t, post, "updateSIPAccount", "cookie", cookie, "extension", "1002",
			"permission", "internal", "max_contacts", "99")
		require.Equal(t, StatusInvalidValue, st)
		rec, _ := u.Extension("1002")
		assert.Equal(t, "internal-local", rec["permission"], "nothing written")
	})
	t.Run("hotdesk needs alphanumeric secret", func(t *testing.T) {
		_, st := call(t, post, "updateSIPAccount", "cookie", cookie, "extension", "1002", "enablehotdesk", "yes")
		assert.Equal(t, StatusInvalidValue, st)
		_, st = call(t, post, "updateSIPAccount", "cookie", cookie, "extension", "1002",
			"enablehotdesk", "yes", "secret", "Abc123xyz789")
		assert.Equal(t, 0, st)
	})
	t.Run("missing extension", func(t *testing.T) {
		_, st := call(t, post, "updateSIPAccount", "cookie", cookie, "extension", "4242", "dnd", "yes")
		assert.Equal(t, StatusNoSuchItem, st)
	})
}

func TestPresenceAndVoicemailUpdates(t *testing.T) {
	u, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	_, st := call(t, post, "updateSIPAccount", "cookie", cookie, "extension", "1002",
		"sip_presence_settings", []any{
			map[string]any{"presence_status": "available", "cfb": "6000", "cfb_timetype": "1", "cfb_destination_type": 1},
			map[string]any{"presence_status": "unavailable", "cfn": "12345", "cfn_timetype": 2},
		},
		"vm_attach", "yes", "vm_reserve", "null")
	require.Equal(t, 0, st)
	rec, _ := u.Extension("1002")
	pres := rec["sip_presence_settings"].([]any)
	avail := pres[0].(map[string]any)
	assert.Equal(t, "6000", avail["cfb"])
	assert.Equal(t, 1, avail["cfb_timetype"])
	assert.Equal(t, "1", avail["cfb_destination_type"])
	assert.Nil(t, avail["cfu"], "untouched keys kept")
	assert.Equal(t, "0612345678", pres[1].(map[string]any)["cfu"], "other items kept")
	assert.Equal(t, "12345", pres[3].(map[string]any)["cfn"])
	assert.Equal(t, map[string]any{"vm_attach": "yes", "vm_reserve": nil}, rec["voicemail"])

	for _, bad := range []any{
		[]any{map[string]any{"presence_status": "busy"}},
		[]any{map[string]any{"cfu": "1000"}},
		[]any{map[string]any{"presence_status": "away", "cfu_timetype": "7"}},
		"not a list",
	} {
		_, st := call(t, post, "updateSIPAccount", "cookie", cookie, "extension", "1002", "sip_presence_settings", bad)
		assert.Equal(t, StatusInvalidValue, st, "%v", bad)
	}
	_, st = call(t, post, "updateSIPAccount", "cookie", cookie, "extension", "1002",
		"sip_presence_settings", []any{map[string]any{"presence_status": "away", "cfx": "1"}})
	assert.Equal(t, StatusInvalidParams, st)
	_, st = call(t, post, "updateSIPAccount", "cookie", cookie, "extension", "1002",
		"presence_settings", []any{map[string]any{"presence_status": "away", "cfu": "1000"}})
	assert.Equal(t, StatusInvalidParams, st, "add's name for the rules is not update's (Table 9)")
}

func TestAddDeleteAndApply(t *testing.T) {
	u, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	require.False(t, u.PendingApply())

	tests := []struct {
		name   string
		params []any
		status int
	}{
		{"no extension", []any{"secret", "Abc123456!"}, StatusInvalidParams},
		{"one digit", []any{"extension", "7"}, StatusInvalidValue},
		{"19 digits", []any{"extension", "1234567890123456789"}, StatusInvalidValue},
		{"letters", []any{"extension", "10a1"}, StatusInvalidValue},
		{"duplicate", []any{"extension", "1000"}, StatusItemExists},
		{"bad value", []any{"extension", "2001", "max_contacts", "20"}, StatusInvalidValue},
		{"unknown param", []any{"extension", "2001", "colour", "red"}, StatusInvalidParams},
		{"guide's sample", []any{"extension", "2001", "max_contacts", "3", "permission", "internal",
			"language", "ch", "secret", "Abc123456!", "vmsecret", "Abc123456!", "user_password", "Abc123456!",
			"wave_privilege_id", "0", "first_name", "Eve", "last_name", "Ross",
			"presence_settings", []any{map[string]any{"presence_status": "available", "cfu_destination_type": "1",
				"cfu_timetype": "0", "cfu": "6000", "cfn": "", "cfb": ""}}}, 0},
		{"18 digits", []any{"extension", "123456789012345678"}, 0},
		{"forwarding under getSIPAccount's name", []any{"extension", "2002",
			"sip_presence_settings", []any{map[string]any{"presence_status": "available", "cfu": "6000"}}}, StatusInvalidParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, st := call(t, post, "addSIPAccountAndUser", append([]any{"cookie", cookie}, tc.params...)...)
			require.Equal(t, tc.status, st, "%v", r)
			if st == 0 {
				assert.Equal(t, map[string]any{"need_apply": "yes"}, r)
			}
		})
	}
	rec, found := u.Extension("2001")
	require.True(t, found)
	assert.Equal(t, 3, rec["max_contacts"])
	assert.Equal(t, "Eve Ross", rec["fullname"])
	assert.Equal(t, "Abc123456!", rec["secret"])
	avail := rec["sip_presence_settings"].([]any)[0].(map[string]any)
	assert.Equal(t, "6000", avail["cfu"])
	assert.Nil(t, avail["cfn"])
	gen, _ := u.Extension("123456789012345678")
	assert.NotEmpty(t, gen["secret"], "a bare add gets a generated password")
	r, _ := call(t, post, "listAccount", "cookie", cookie, "sidx", "extension", "sord", "desc", "item_num", "1")
	assert.Equal(t, []string{"123456789012345678"}, extensionsOf(r, "extension"))
	assert.True(t, u.PendingApply())

	r, st := call(t, post, "deleteUser", "cookie", cookie, "user_name", "2001")
	require.Equal(t, 0, st)
	assert.Equal(t, "yes", r["need_apply"])
	_, found = u.Extension("2001")
	assert.False(t, found)
	_, st = call(t, post, "deleteUser", "cookie", cookie, "user_name", "2001")
	assert.Equal(t, StatusNoSuchItem, st)

	u.SetApplyError(-69)
	_, st = call(t, post, "applyChanges", "cookie", cookie)
	assert.Equal(t, -69, st)
	assert.True(t, u.PendingApply())
	u.SetApplyError(0)
	r, st = call(t, post, "applyChanges", "cookie", cookie)
	assert.Equal(t, 0, st)
	assert.Empty(t, r)
	assert.False(t, u.PendingApply())
}

func TestApplyDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := New(Config{Seed: true, ApplyDuration: 8 * time.Second})
		post := direct(u)
		cookie := login(t, post, testPassword)
		_, st := call(t, post, "deleteUser", "cookie", cookie, "user_name", "1004")
		require.Equal(t, 0, st)
		start := time.Now()
		_, st = call(t, post, "applyChanges", "cookie", cookie)
		assert.Equal(t, 0, st)
		assert.Equal(t, 8*time.Second, time.Since(start))
		assert.False(t, u.PendingApply())
	})
}

func TestConcurrentHammer(t *testing.T) {
	u, _, post := startHTTPS(t, Config{Seed: true})
	cookie := login(t, post, testPassword)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			switch i % 4 {
			case 0:
				_, st := call(t, post, "listAccount", "cookie", cookie, "item_num", "2", "page", "1")
				assert.Equal(t, 0, st)
			case 1:
				_, st := call(t, post, "getSIPAccount", "cookie", cookie, "extension", "1001")
				assert.Equal(t, 0, st)
			case 2:
				_, st := call(t, post, "updateSIPAccount", "cookie", cookie, "extension", "1001",
					"max_contacts", fmt.Sprint(1+i%10))
				assert.Equal(t, 0, st)
			default:
				_, st := call(t, post, "getSystemStatus", "cookie", cookie)
				assert.Equal(t, 0, st)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 200, u.TotalCalls())
	assert.Equal(t, 50, u.Calls("updateSIPAccount"))
}
