package handlers

import (
	"crypto/sha256"
	"sync"
	"time"
)

// idempotency remembers the outcome of requests sent with an Idempotency-Key, with the semantics
// of the IETF httpapi idempotency-key draft: the same key and the same request within the
// retention time get the first outcome and the action is not repeated; the same key with another
// request is refused (422); a retry while the first is still running is refused (409). It lives in
// this process's memory (per replica), bounded in size, entries expiring after ttl.
type idempotency struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	entries map[string]*idemEntry
	order   []idemRef // insertion order, which is also expiry order
	seq     uint64
}

// idemRef points at an entry from the order queue; seq tells a forgotten and re-claimed key's
// new entry from the old one.
type idemRef struct {
	key string
	seq uint64
}

type idemEntry struct {
	fingerprint [32]byte
	seq         uint64
	expires     time.Time
	done        bool
	resp        any
	err         error
}

type idemState int

const (
	idemNew      idemState = iota // first use: run the request, then finish or forget
	idemReplay                    // finished before: return the stored outcome
	idemRunning                   // the first request is still running
	idemMismatch                  // the key was used with another request
)

func newIdempotency(ttl time.Duration, max int) *idempotency {
	return &idempotency{ttl: ttl, max: max, entries: make(map[string]*idemEntry)}
}

func fingerprint(parts ...[]byte) [32]byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// begin claims key for a request with the given fingerprint, or reports why it cannot.
func (s *idempotency) begin(key string, fp [32]byte) (idemState, *idemEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.expire(now)
	if e, found := s.entries[key]; found {
		switch {
		case e.fingerprint != fp:
			return idemMismatch, nil
		case !e.done:
			return idemRunning, nil
		}
		return idemReplay, e
	}
	for len(s.entries) >= s.max && s.evictOldest() {
	}
	s.seq++
	s.entries[key] = &idemEntry{fingerprint: fp, seq: s.seq, expires: now.Add(s.ttl)}
	s.order = append(s.order, idemRef{key: key, seq: s.seq})
	return idemNew, nil
}

// finish stores the outcome of the request that claimed key.
func (s *idempotency) finish(key string, resp any, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, found := s.entries[key]; found {
		e.done, e.resp, e.err = true, resp, err
	}
}

// forget releases key when the request failed before it did anything a retry could repeat, so a
// retry runs afresh.
func (s *idempotency) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, key)
}

// expire drops entries past their time; order is expiry order, so it stops at the first live one.
func (s *idempotency) expire(now time.Time) {
	n := 0
	for ; n < len(s.order); n++ {
		ref := s.order[n]
		e, found := s.entries[ref.key]
		if !found || e.seq != ref.seq {
			continue // forgotten, or claimed again later: the newer ref governs it
		}
		if now.Before(e.expires) {
			break
		}
		delete(s.entries, ref.key)
	}
	s.order = s.order[n:]
	if cap(s.order) > 2*s.max+16 { // keep the backing array from growing without bound
		s.order = append([]idemRef(nil), s.order...)
	}
}

// evictOldest drops the oldest entry to make room; it reports whether there was one.
func (s *idempotency) evictOldest() bool {
	for len(s.order) > 0 {
		ref := s.order[0]
		s.order = s.order[1:]
		if e, found := s.entries[ref.key]; found && e.seq == ref.seq {
			delete(s.entries, ref.key)
			return true
		}
	}
	return false
}
