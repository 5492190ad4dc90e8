package handlers

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every goroutine has an
// owner that stops it (the pool's Close, a server's Close, the last caller leaving). The one
// exception is go-redis's dial probe after a Redis was down: it sees its closed client only after
// a one-second sleep.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"))
}
