package webhooks

// queue is a fixed-size FIFO of items; when full, a push drops the oldest. Not safe for
// concurrent use: the endpoint's mutex guards it.
type queue struct {
	buf   []item
	start int
	n     int
}

func newQueue(size int) queue { return queue{buf: make([]item, size)} }

func (q *queue) len() int { return q.n }

// pushDropOldest appends it; when the queue was full, the oldest item makes room and is returned.
func (q *queue) pushDropOldest(it item) (dropped item, ok bool) {
	if q.n == len(q.buf) {
		dropped, ok = q.pop()
	}
	q.buf[(q.start+q.n)%len(q.buf)] = it
	q.n++
	return dropped, ok
}

// pop takes the oldest item.
func (q *queue) pop() (item, bool) {
	if q.n == 0 {
		return item{}, false
	}
	it := q.buf[q.start]
	q.buf[q.start] = item{} // let the event's bytes go
	q.start = (q.start + 1) % len(q.buf)
	q.n--
	return it, true
}
