package p2p

import "sync"

// queued is an event waiting for the dispatcher, with the channel that
// carries the handler's answer back where one is awaited.
type queued struct {
	ev    Event
	reply chan bool
}

// eventQueue carries events from the node's goroutines to its one
// dispatcher, in order. Control events (connects, disconnects, questions)
// never block; messages take credits, so a slow handler stops the readers
// and TCP backpressure reaches the senders instead of memory growing.
type eventQueue struct {
	mu       sync.Mutex
	items    []queued
	spare    []queued
	messages int // messages queued or being handled
	max      int
	closed   bool
	wake     chan struct{} // one pending signal for the dispatcher
	room     chan struct{} // closed and replaced when messages leave
}

func newEventQueue(max int) *eventQueue {
	return &eventQueue{max: max, wake: make(chan struct{}, 1), room: make(chan struct{})}
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push queues one control event. It reports false once the queue is closed.
func (q *eventQueue) push(ev Event, reply chan bool) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, queued{ev: ev, reply: reply})
	q.mu.Unlock()
	q.signal()
	return true
}

// pushMessages queues a batch of message events, waiting while the queue
// holds its maximum. It gives up (returning false) when cancel is closed or
// the queue is closed.
func (q *eventQueue) pushMessages(evs []Event, cancel <-chan struct{}) bool {
	q.mu.Lock()
	for !q.closed && q.messages >= q.max {
		room := q.room
		q.mu.Unlock()
		select {
		case <-room:
		case <-cancel:
			return false
		}
		q.mu.Lock()
	}
	if q.closed {
		q.mu.Unlock()
		return false
	}
	for i := range evs {
		q.items = append(q.items, queued{ev: evs[i]})
	}
	q.messages += len(evs)
	q.mu.Unlock()
	q.signal()
	return true
}

// take hands the dispatcher everything queued, waiting for at least one
// event. It returns nil once the queue is closed and empty.
func (q *eventQueue) take() []queued {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			items := q.items
			q.items = q.spare[:0]
			q.spare = nil
			q.mu.Unlock()
			return items
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil
		}
		<-q.wake
	}
}

// done returns a handled batch: its message credits and its storage.
func (q *eventQueue) done(items []queued, messages int) {
	clear(items)
	q.mu.Lock()
	if q.spare == nil && cap(items) <= 1<<16 {
		q.spare = items[:0]
	}
	if messages > 0 {
		q.messages -= messages
		close(q.room)
		q.room = make(chan struct{})
	}
	q.mu.Unlock()
}

// close stops new events; take drains what is queued, then returns nil.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	close(q.room)
	q.room = make(chan struct{})
	q.mu.Unlock()
	q.signal()
}
