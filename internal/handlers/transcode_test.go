package handlers

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodedExtension is the decoded path: the reply into maps, then appendObject.
func decodedExtension(c *codec, raw []byte) ([]byte, error) {
	m, err := extensionFromReply("u", raw)
	if err != nil {
		return nil, err
	}
	return c.appendObject(nil, c.schema("Extension"), m), nil
}

// sameAsDecoded checks the transcoder against the decoded path on one reply: the same bytes
// when it answers, and a decline wherever the decoded path refuses the reply.
func sameAsDecoded(t *testing.T, c *codec, raw []byte) (answered bool) {
	t.Helper()
	want, err := decodedExtension(c, raw)
	got, ok := c.appendExtensionReply(nil, raw)
	if err != nil {
		require.False(t, ok, "the decoded path refuses %q (%v); the transcoder answered %s", raw, err, got)
		return false
	}
	if ok {
		require.Equal(t, string(want), string(got), "reply %s", raw)
	}
	return ok
}

func TestTranscodedExtensionMatchesDecodedPath(t *testing.T) {
	e := newEnv(t)
	sim, err := e.pool.Do(t.Context(), "demo", "getSIPAccount", map[string]any{"extension": "1000"})
	require.NoError(t, err)
	guide, err := os.ReadFile("../bench/testdata/getSIPAccount.json")
	require.NoError(t, err)
	guide = []byte(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(string(guide)), `{"response":`), `,"status":0}`))
	c := newCodec(mustSpec(t))

	answered := map[string]string{
		"simulator reply":    string(sim),
		"vendor guide reply": string(guide),
		"odd values": `{"extension":{"allow":"ulaw, alaw,,h264,not-a-codec","max_contacts":"3","dnd":"yes","ring_timeout":"",
			"presence_status":"AVAILABLE","secret":"never shown","fullname":"<b>&</b>","qualifyfreq":1.5,"qualify":2e3,
			"hasvoicemail":true,"enable_ldap":1,"sip_presence_settings":"not a list"},
			"sip_presence_settings":[{"presence_status":"away","cfb":null},"junk",null,7,[1],{"presence_status":"dnd"}]}`,
		"no siblings": `{"extension":{"extension":"1000"}}`,
		"the extension's own siblings, null at the top": `{"extension":{"extension":"1","voicemail":{"vmsecret":"x"},"sip_presence_settings":[{"presence_status":"away"}]},"voicemail":null,"sip_presence_settings":null}`,
		"top-level names in another case":               `{"Extension":{"fullname":"a"},"VoiceMail":{"enable_vm":"yes"},"CTI_feature_privilege":{"hangup":"no"}}`,
		"repeated members":                              `{"extension":{"fullname":"a","fullname":"b","dnd":"no","dnd":"yes"}}`,
		"whitespace everywhere":                         " {\n\t\"extension\" : { \"fullname\" : \"a\" , \"max_contacts\" : 2 } ,\r\n \"cti_feature_privilege\" : { } } ",
		"escapes and non-ASCII values":                  `{"extension":{"fullname":"Zo\u00eb \"Z\"","cidnumber":"Jürgen","allow":"ulaw\u002calaw"}}`,
		"big and fractional numbers":                    `{"extension":{"max_contacts":-0.0,"qualify":1e18,"qualifyfreq":12345678901234567890,"dnd_timetype":2.5}}`,
		"unknown members and nesting":                   `{"extension":{"x":{"y":[{"z":"}"}]},"extension":"1000"},"other":[1,{"a":"]"}]}`,
	}
	// Each of these the transcoder must answer itself (a decline would pass the comparison
	// without testing anything), with the decoded path's bytes.
	for name, raw := range answered {
		t.Run(name, func(t *testing.T) {
			assert.True(t, sameAsDecoded(t, c, []byte(raw)), "the transcoder declined %.80s…", raw)
		})
	}

	declined := map[string]string{
		"not JSON":                `{"extension":{`,
		"trailing data":           `{"extension":{}} {}`,
		"no extension":            `{"voicemail":{}}`,
		"null extension":          `{"extension":null}`,
		"extension not object":    `{"extension":"1000"}`,
		"voicemail not object":    `{"extension":{},"voicemail":"x"}`,
		"presence not a list":     `{"extension":{},"sip_presence_settings":{}}`,
		"an escaped key":          `{"extension":{"full\u006eame":"a"}}`,
		"a repeated top object":   `{"extension":{"fullname":"a"},"voicemail":{"a":"1"},"voicemail":{"b":"2"}}`,
		"not an object":           `[]`,
		"a number beyond float64": `{"extension":{"max_contacts":1e400}}`,
	}
	for name, raw := range declined {
		t.Run(name, func(t *testing.T) {
			assert.False(t, sameAsDecoded(t, c, []byte(raw)), "expected the transcoder to decline")
		})
	}
}

// FuzzExtensionTranscode holds the transcoder to the decoded path on arbitrary replies.
func FuzzExtensionTranscode(f *testing.F) {
	for _, seed := range []string{
		`{"extension":{"extension":"1000","allow":"ulaw,alaw","dnd":"no","max_contacts":1},"voicemail":{"enable_vm":"yes"},"cti_feature_privilege":{"hangup":"no"},"sip_presence_settings":[{"presence_status":"available","cfu":"2000"}]}`,
		`{"extension":{"fullname":"a","fullname":null,"qualify":"x"},"sip_presence_settings":[null,"x",{}]}`,
		`{"extension":{"presence_status":"Away","ring_timeout":" ","auto_record":"ALL"},"voicemail":null}`,
	} {
		f.Add([]byte(seed))
	}
	c := newCodec(mustSpec(f))
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameAsDecoded(t, c, raw)
	})
}

func BenchmarkExtensionReply(b *testing.B) {
	guide, err := os.ReadFile("../bench/testdata/getSIPAccount.json")
	require.NoError(b, err)
	raw := []byte(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(string(guide)), `{"response":`), `,"status":0}`))
	c := newCodec(mustSpec(b))
	buf := make([]byte, 0, 8192)
	b.Run("transcoded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := c.appendExtensionReply(buf[:0], raw); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("decoded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, err := extensionFromReply("u", raw)
			if err != nil {
				b.Fatal(err)
			}
			_ = c.appendObject(buf[:0], c.schema("Extension"), m)
		}
	})
}
