package sessionpool

import "sync"

// tasks owns the goroutines the pool starts on behalf of requests (shared reads, first
// contacts), so that Close can wait for them. Unlike a bare WaitGroup it refuses new work once
// Close has begun, so a request racing with Close cannot add to a group being waited on.
type tasks struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	closed bool
}

// Go runs f in a goroutine, or reports false when the pool is closing.
func (t *tasks) Go(f func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Go(f)
	return true
}

// closeAndWait refuses new work and waits for the running goroutines.
func (t *tasks) closeAndWait() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.wg.Wait()
}
