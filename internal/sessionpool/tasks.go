package sessionpool

import (
	"sync"
	"time"
)

// tasks owns the goroutines the pool starts on behalf of requests (shared reads, first
// contacts), so that Close can wait for them. Unlike a bare WaitGroup it refuses new work once
// Close has begun, so a request racing with Close cannot add to a group being waited on.
//
// A task runs on a runner: a goroutine that, its task done, waits runnerIdle for another before
// it ends. Every read is a task (its flight), so a goroutine a read would cost more than its
// start: each new one grew its stack, by copying, to the depth of an HTTPS exchange (2 KB to
// 8 KB, twice), which perf on the binary put at 4% of the gateway's CPU. A runner's stack stays
// grown.
type tasks struct {
	mu      sync.Mutex
	wg      sync.WaitGroup // tasks not yet done
	runners sync.WaitGroup // runner goroutines, idle or not
	closed  bool
	handoff chan func()   // idle runners wait here for a task
	stop    chan struct{} // closed by closeAndWait: idle runners end
}

// runnerIdle is how long a runner with nothing to do waits before it ends: long enough to
// carry a steady load from one task to the next, short enough that a burst's runners go.
const runnerIdle = 10 * time.Second

// Go runs f on an idle runner or a new one, or reports false when the pool is closing.
func (t *tasks) Go(f func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	if t.handoff == nil {
		t.handoff, t.stop = make(chan func()), make(chan struct{})
	}
	t.wg.Add(1)
	select {
	case t.handoff <- f: // an idle runner took it
	default:
		t.runners.Add(1)
		go t.run(f)
	}
	return true
}

func (t *tasks) run(f func()) {
	defer t.runners.Done()
	idle := time.NewTimer(runnerIdle)
	defer idle.Stop()
	for {
		f()
		t.wg.Done()
		f = nil // what the task held is not kept alive by an idle runner
		idle.Reset(runnerIdle)
		select {
		case f = <-t.handoff:
		case <-idle.C:
			return
		case <-t.stop:
			return
		}
	}
}

// closeAndWait refuses new work and waits for the tasks running and for every runner to end.
func (t *tasks) closeAndWait() {
	t.mu.Lock()
	t.closed = true
	if t.stop != nil {
		close(t.stop)
	}
	t.mu.Unlock()
	t.wg.Wait()
	t.runners.Wait()
}
