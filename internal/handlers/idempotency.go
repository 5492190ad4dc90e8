package handlers

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// idempotency remembers the outcome of requests sent with an Idempotency-Key, with the semantics
// of the IETF httpapi idempotency-key draft: the same key and the same request within the
// retention time get the first outcome and the action is not repeated; the same key with another
// request is refused (422); a retry while the first is still running is refused (409). It lives in
// this process's memory (per replica), bounded in size, entries expiring after ttl.
//
// Entries sit in a list in claim order, which is also expiry order (one ttl for all), so expiry
// pops from the front and a forgotten key is unlinked at once: nothing outlives its entry. When
// the store is full the oldest finished entry makes room; a request still running is never
// evicted (its retry must keep getting 409), and a store full of running requests refuses new
// keys (idemFull) rather than forget one.
type idempotency struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	entries map[string]*list.Element // of *idemEntry
	order   *list.List               // oldest first
}

type idemEntry struct {
	key         string
	fingerprint [32]byte
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
	idemFull                      // every slot holds a request still running: try again shortly
)

func newIdempotency(ttl time.Duration, max int) *idempotency {
	return &idempotency{ttl: ttl, max: max, entries: make(map[string]*list.Element), order: list.New()}
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
	if el, found := s.entries[key]; found {
		e := el.Value.(*idemEntry)
		switch {
		case e.fingerprint != fp:
			return idemMismatch, nil
		case !e.done:
			return idemRunning, nil
		}
		return idemReplay, e
	}
	if len(s.entries) >= s.max && !s.evictOldestFinished() {
		return idemFull, nil
	}
	s.entries[key] = s.order.PushBack(&idemEntry{key: key, fingerprint: fp, expires: now.Add(s.ttl)})
	return idemNew, nil
}

// finish stores the outcome of the request that claimed key.
func (s *idempotency) finish(key string, resp any, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, found := s.entries[key]; found {
		e := el.Value.(*idemEntry)
		e.done, e.resp, e.err = true, resp, err
	}
}

// forget releases key when the request failed before it did anything a retry could repeat, so a
// retry runs afresh.
func (s *idempotency) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, found := s.entries[key]; found {
		s.order.Remove(el)
		delete(s.entries, key)
	}
}

// expire drops entries past their time from the front of the list.
func (s *idempotency) expire(now time.Time) {
	for el := s.order.Front(); el != nil; el = s.order.Front() {
		e := el.Value.(*idemEntry)
		if now.Before(e.expires) {
			return
		}
		s.order.Remove(el)
		delete(s.entries, e.key)
	}
}

// evictOldestFinished drops the oldest finished entry to make room; it reports whether there was
// one. Running entries are few (a request runs for at most a minute), so the walk is short.
func (s *idempotency) evictOldestFinished() bool {
	for el := s.order.Front(); el != nil; el = el.Next() {
		if e := el.Value.(*idemEntry); e.done {
			s.order.Remove(el)
			delete(s.entries, e.key)
			return true
		}
	}
	return false
}
