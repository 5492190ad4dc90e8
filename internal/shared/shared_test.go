package shared_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
	"github.com/ucm-gateway/ucm-gateway/internal/shared"
	"github.com/ucm-gateway/ucm-gateway/internal/shared/sharedtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func cfgFor(addr string) config.Redis {
	return config.Redis{Addr: addr, Password: "", KeyPrefix: "t:", DialTimeout: 200 * time.Millisecond, OpTimeout: 200 * time.Millisecond, CookieKey: make([]byte, 32)}
}

func TestOpenLogsAnUnreachableRedisWithoutItsPassword(t *testing.T) {
	var logs bytes.Buffer
	cfg := cfgFor("127.0.0.1:1")
	cfg.Password = "hunter2"
	client, err := shared.Open(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	require.NoError(t, err) // it recovers when Redis comes: no error at start
	defer client.Close()
	assert.Contains(t, logs.String(), "Redis is unreachable")
	assert.Contains(t, logs.String(), "127.0.0.1:1")
	assert.NotContains(t, logs.String(), "hunter2")
	assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("\n")))
}

func TestHealthFollowsRedisDownAndBack(t *testing.T) {
	srv := sharedtest.Start(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	client, err := shared.Open(context.Background(), cfgFor(srv.Addr()), logger)
	require.NoError(t, err)
	defer client.Close()
	var downs atomic.Int32
	h := shared.NewHealth(context.Background(), client, srv.Addr(), 20*time.Millisecond, logger, func(up bool) {
		if !up {
			downs.Add(1)
		}
	})
	require.True(t, h.Up())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()

	srv.Stop()
	require.Eventually(t, func() bool { return !h.Up() }, 5*time.Second, 10*time.Millisecond)
	srv.Restart()
	require.Eventually(t, h.Up, 5*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	assert.Equal(t, int32(1), downs.Load(), "one transition down, however many failed pings")
	assert.Contains(t, logs.String(), "Redis stopped answering")
	assert.Contains(t, logs.String(), "Redis answers again")
}

func TestSealerBindsTheRecordName(t *testing.T) {
	s, err := shared.NewSealer(bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	sealed := s.Seal("hq", []byte("cookie"))
	assert.NotContains(t, string(sealed), "cookie")
	got, err := s.Open("hq", sealed)
	require.NoError(t, err)
	assert.Equal(t, "cookie", string(got))
	_, err = s.Open("branch", sealed)
	require.ErrorIs(t, err, shared.ErrSealed)
	other, _ := shared.NewSealer(bytes.Repeat([]byte{8}, 32))
	_, err = other.Open("hq", sealed)
	require.ErrorIs(t, err, shared.ErrSealed)
	_, err = shared.NewSealer([]byte("short"))
	require.Error(t, err)
}

func TestKeysShareAUnitsHashTag(t *testing.T) {
	k := shared.NewKeys("gw:")
	assert.Equal(t, "gw:session:{hq}:cookie", k.Unit("hq", "cookie"))
	assert.Equal(t, "gw:idem:x", k.Key("idem", "x"))
}
