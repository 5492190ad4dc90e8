package shared_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/shared"
	"github.com/ucm-gateway/ucm-gateway/internal/shared/sharedtest"
)

// twoReplicas are two stores on one Redis, as two replicas have, and a raw client to look.
func twoReplicas(t *testing.T) (a, b *shared.Sessions, raw *redis.Client) {
	t.Helper()
	srv := sharedtest.Start(t)
	sealer, err := shared.NewSealer(bytes.Repeat([]byte{3}, 32))
	require.NoError(t, err)
	open := func() *shared.Sessions {
		c, err := shared.Open(context.Background(), cfgFor(srv.Addr()), slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return shared.NewSessions(c, shared.NewKeys("t:"), sealer, nil)
	}
	raw = redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = raw.Close() })
	return open(), open(), raw
}

func TestSharedCookieIsSealedAndDroppedOnlyWhileItIsTheOneThatFailed(t *testing.T) {
	ctx := context.Background()
	a, b, raw := twoReplicas(t)
	require.NoError(t, a.PutCookie(ctx, "hq", "sid123-456", time.Minute))
	stored, err := raw.Get(ctx, "t:session:{hq}:cookie").Result()
	require.NoError(t, err)
	assert.NotContains(t, stored, "sid123", "Redis holds the cookie sealed")

	got, left, err := b.Cookie(ctx, "hq")
	require.NoError(t, err)
	assert.Equal(t, "sid123-456", got)
	assert.Greater(t, left, 50*time.Second)

	// b saw the old cookie fail, but a has logged in again meanwhile: b's drop must not remove it.
	require.NoError(t, a.PutCookie(ctx, "hq", "sid789-000", time.Minute))
	require.NoError(t, b.DropCookie(ctx, "hq", "sid123-456"))
	got, _, err = a.Cookie(ctx, "hq")
	require.NoError(t, err)
	assert.Equal(t, "sid789-000", got)

	// The one that failed is dropped.
	_, _, _ = b.Cookie(ctx, "hq")
	require.NoError(t, b.DropCookie(ctx, "hq", "sid789-000"))
	got, _, err = a.Cookie(ctx, "hq")
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestLoginLockIsReleasedOnlyByItsHolder(t *testing.T) {
	ctx := context.Background()
	a, b, raw := twoReplicas(t)
	releaseA, ok, err := a.LockLogin(ctx, "hq", 200*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = b.LockLogin(ctx, "hq", time.Second)
	require.NoError(t, err)
	assert.False(t, ok, "held by a")

	// a's lock expires (a died mid-login); b takes it; a's late release must not free b's.
	require.Eventually(t, func() bool { return raw.Exists(ctx, "t:session:{hq}:lock").Val() == 0 }, 2*time.Second, 10*time.Millisecond)
	releaseB, ok, err := b.LockLogin(ctx, "hq", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	releaseA(0)
	_, ok, _ = a.LockLogin(ctx, "hq", time.Minute)
	assert.False(t, ok, "b still holds it")
	releaseB(0)
	_, ok, _ = a.LockLogin(ctx, "hq", time.Minute)
	assert.True(t, ok)
}

func TestStopBackOffAndKeepAliveTurnAreTheFleets(t *testing.T) {
	ctx := context.Background()
	a, b, _ := twoReplicas(t)
	require.NoError(t, a.Stop(ctx, "hq", []byte(`{"status":-37}`)))
	why, err := b.Stopped(ctx, "hq")
	require.NoError(t, err)
	assert.JSONEq(t, `{"status":-37}`, string(why))
	require.NoError(t, a.BackOff(ctx, "hq", []byte(`{"transport":true}`), time.Minute))
	require.NoError(t, b.ClearStop(ctx, "hq"))
	why, err = a.Stopped(ctx, "hq")
	require.NoError(t, err)
	assert.Nil(t, why, "a reset on any replica lifts the stop")
	why, _, err = a.BackingOff(ctx, "hq")
	require.NoError(t, err)
	assert.Nil(t, why, "and the back-off")

	mine, err := a.KeepAliveTurn(ctx, "hq", 150*time.Millisecond)
	require.NoError(t, err)
	assert.True(t, mine)
	mine, err = b.KeepAliveTurn(ctx, "hq", 150*time.Millisecond)
	require.NoError(t, err)
	assert.False(t, mine, "one replica per period")
	require.Eventually(t, func() bool { m, _ := b.KeepAliveTurn(ctx, "hq", time.Minute); return m }, 2*time.Second, 20*time.Millisecond)
}

func TestAReplicaWithAnotherCookieKeyCannotUseTheCookie(t *testing.T) {
	ctx := context.Background()
	srv := sharedtest.Start(t)
	store := func(key byte) *shared.Sessions {
		c, err := shared.Open(ctx, cfgFor(srv.Addr()), slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		s, err := shared.NewSealer(bytes.Repeat([]byte{key}, 32))
		require.NoError(t, err)
		return shared.NewSessions(c, shared.NewKeys("t:"), s, nil)
	}
	a, other := store(1), store(2)
	require.NoError(t, a.PutCookie(ctx, "hq", "sid1-2", time.Minute))
	got, _, err := other.Cookie(ctx, "hq")
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.False(t, strings.Contains(got, "sid"))
}
