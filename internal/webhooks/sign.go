package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"

	"github.com/ucm-gateway/ucm-gateway/internal/events"
)

// MessageID is an event's webhook-id: stable per event, so every retry carries the same one and
// a receiver de-duplicates by it. Event ids are monotonic per unit across restarts, so the id is
// never reused for another event. A sync event takes the id of the newest event it stands for,
// under its own prefix.
func MessageID(ev events.Event) string {
	prefix := "evt_"
	if ev.Type == events.TypeSync {
		prefix = "sync_"
	}
	return prefix + ev.Unit + "_" + strconv.FormatInt(ev.ID, 10)
}

// signature is the Standard Webhooks webhook-signature value: "v1," and the base64 of the
// HMAC-SHA256 of "id.timestamp.body" under the endpoint's key.
func signature(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, timestamp, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
