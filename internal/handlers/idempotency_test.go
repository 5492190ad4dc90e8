package handlers

import (
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestIdempotencyStates(t *testing.T) {
	s := newIdempotency(time.Hour, 10)
	a, b := fingerprint([]byte("demo"), []byte(`{"x":1}`)), fingerprint([]byte("demo"), []byte(`{"x":2}`))
	tests := []struct {
		name  string
		key   string
		fp    [32]byte
		want  idemState
		after func()
	}{
		{"first use", "k", a, idemNew, nil},
		{"retry while running", "k", a, idemRunning, func() { s.finish("k", "result", nil) }},
		{"retry after it finished", "k", a, idemReplay, nil},
		{"same key, other request", "k", b, idemMismatch, nil},
		{"other key", "k2", b, idemNew, func() { s.forget("k2") }},
		{"forgotten key runs afresh", "k2", b, idemNew, nil},
	}
	for _, tc := range tests {
		got, e := s.begin(tc.key, tc.fp)
		assert.Equal(t, tc.want, got, "%s: begin(%q)", tc.name, tc.key)
		if got == idemReplay {
			assert.Equal(t, "result", e.resp)
		}
		if tc.after != nil {
			tc.after()
		}
	}
}

func TestIdempotencyExpiresAfterItsTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newIdempotency(24*time.Hour, 10)
		fp := fingerprint([]byte("a"))
		s.begin("k", fp)
		s.finish("k", "first", nil)
		time.Sleep(24*time.Hour - time.Second)
		got, _ := s.begin("k", fp)
		assert.Equal(t, idemReplay, got, "still remembered just before 24 h")
		time.Sleep(2 * time.Second)
		got, _ = s.begin("k", fp)
		assert.Equal(t, idemNew, got, "forgotten after 24 h")
	})
}

func TestIdempotencyIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newIdempotency(24*time.Hour, 100)
		for i := range 1000 {
			key := strconv.Itoa(i)
			s.begin(key, fingerprint([]byte(key)))
			s.finish(key, i, nil)
			time.Sleep(time.Second)
		}
		assert.Len(t, s.entries, 100)
		assert.Equal(t, 100, s.order.Len())
		got, _ := s.begin("999", fingerprint([]byte("999")))
		assert.Equal(t, idemReplay, got, "the newest survive")
		got, _ = s.begin("0", fingerprint([]byte("0")))
		assert.Equal(t, idemNew, got, "the oldest were evicted")
	})
}

// Forgotten keys (a keyed request refused before it dialled) leave nothing behind, however many,
// even while an older entry keeps the front of the queue alive.
func TestIdempotencyForgottenKeysLeaveNothing(t *testing.T) {
	s := newIdempotency(24*time.Hour, 100)
	s.begin("long-lived", fingerprint([]byte("x")))
	s.finish("long-lived", "first", nil)
	for i := range 10000 {
		key := "refused-" + strconv.Itoa(i)
		s.begin(key, fingerprint([]byte(key)))
		s.forget(key)
	}
	assert.Len(t, s.entries, 1)
	assert.Equal(t, 1, s.order.Len())
}

// A request still running is never evicted: its retry keeps getting 409 and never dials twice.
// A store full of running requests refuses new keys instead.
func TestIdempotencyNeverEvictsARunningRequest(t *testing.T) {
	s := newIdempotency(24*time.Hour, 3)
	fp := func(k string) [32]byte { return fingerprint([]byte(k)) }
	s.begin("running", fp("running"))
	for _, k := range []string{"a", "b", "c", "d"} {
		got, _ := s.begin(k, fp(k))
		assert.Equal(t, idemNew, got, "begin(%q)", k)
		s.finish(k, k, nil)
	}
	got, _ := s.begin("running", fp("running"))
	assert.Equal(t, idemRunning, got, "the running request survived eviction")
	got, _ = s.begin("a", fp("a"))
	assert.Equal(t, idemNew, got, "the oldest finished one made room")

	full := newIdempotency(24*time.Hour, 2)
	full.begin("r1", fp("r1"))
	full.begin("r2", fp("r2"))
	got, _ = full.begin("r3", fp("r3"))
	assert.Equal(t, idemFull, got)
	got, _ = full.begin("r1", fp("r1"))
	assert.Equal(t, idemRunning, got)
}
