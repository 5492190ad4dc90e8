package sessionpool

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// memStore is a SessionStore in memory whose Stop can be made to fail, for what a real Redis
// cannot be made to do on cue.
type memStore struct {
	mu       sync.Mutex
	stop     []byte
	failStop int
	cookie   string
}

var errDown = errors.New("store down")

func (m *memStore) Cookie(context.Context, string) (string, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cookie, time.Minute, nil
}
func (m *memStore) PutCookie(_ context.Context, _, c string, _ time.Duration) error {
	m.mu.Lock()
	m.cookie = c
	m.mu.Unlock()
	return nil
}
func (m *memStore) TouchCookie(context.Context, string, string, time.Duration) error { return nil }
func (m *memStore) DropCookie(context.Context, string, string) error                 { return nil }
func (m *memStore) LockLogin(context.Context, string, time.Duration) (func(time.Duration), bool, error) {
	return func(time.Duration) {}, true, nil
}
func (m *memStore) Stop(_ context.Context, _ string, why []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failStop > 0 {
		m.failStop--
		return errDown
	}
	m.stop = why
	return nil
}
func (m *memStore) Stopped(context.Context, string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stop, nil
}
func (m *memStore) ClearStop(context.Context, string) error {
	m.mu.Lock()
	m.stop = nil
	m.mu.Unlock()
	return nil
}
func (m *memStore) BackOff(context.Context, string, []byte, time.Duration) error { return nil }
func (m *memStore) BackingOff(context.Context, string) ([]byte, time.Duration, error) {
	return nil, 0, nil
}
func (m *memStore) KeepAliveTurn(context.Context, string, time.Duration) (bool, error) {
	return true, nil
}

// A stop the store could not take when it was found is shared later, never read as a reset:
// the unit's attempts are not spent again.
func TestALoginStopTheStoreMissedIsSharedLater(t *testing.T) {
	sim := simOn(ucmsim.Config{})
	client, _ := inProcessClient(sim)
	store := &memStore{failStop: 1}
	p, _ := newPool(t, Options{Sessions: store}, client, wrongPasswd)
	closeAtEnd(t, p)
	for range 3 {
		_, err := p.Do(context.Background(), unitID, "getSIPAccount", sipAccount("1000"))
		var stop *LoginStoppedError
		require.ErrorAs(t, err, &stop)
	}
	assert.Equal(t, 1, loginAttempts(sim), "one attempt: the missed stop was not taken for a reset")
	store.mu.Lock()
	defer store.mu.Unlock()
	assert.NotNil(t, store.stop, "the stop reached the store once it answered")
}
