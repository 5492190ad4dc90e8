package sessionpool

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Tasks run one after another on the runner that is idle, Close waits for the one running,
// refuses new ones, and leaves no runner behind.
func TestTasksRunOnRunnersAndCloseEndsThem(t *testing.T) {
	before := goleak.IgnoreCurrent()
	var tk tasks
	var ran atomic.Int64
	runners := map[string]bool{} // the goroutines the tasks ran on
	for range 100 {
		done := make(chan string)
		require.True(t, tk.Go(func() { ran.Add(1); done <- goroutineID() }))
		runners[<-done] = true
		time.Sleep(2 * time.Millisecond) // the runner gets back to waiting for a task
	}
	// One runner, unless a task came before its runner was back waiting: not one each.
	assert.Less(t, len(runners), 10, "tasks one after another run on the idle runner")
	release := make(chan struct{})
	started := make(chan struct{})
	require.True(t, tk.Go(func() { close(started); <-release; ran.Add(1) }))
	<-started
	closed := make(chan struct{})
	go func() { tk.closeAndWait(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("closeAndWait returned while a task was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-closed
	assert.EqualValues(t, 101, ran.Load())
	assert.False(t, tk.Go(func() { t.Error("a task ran after close") }))
	goleak.VerifyNone(t, before)
}

// goroutineID is the calling goroutine's number, from the first line of its stack trace
// ("goroutine 42 [running]:").
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}

// A closed pool that never ran a task closes at once.
func TestTasksCloseUnused(t *testing.T) {
	var tk tasks
	tk.closeAndWait()
	assert.False(t, tk.Go(func() {}))
}
