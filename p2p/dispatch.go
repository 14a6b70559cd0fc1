package p2p

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
)

// dispatch is the node's event goroutine: it delivers every event, in
// order, one at a time (a batch function's messages a reader's batch at a
// time).
func (n *Node) dispatch() {
	if n.cfg.LockEventThread {
		// Never unlocked: the thread ends with this goroutine.
		runtime.LockOSThread()
	}
	n.dispatcherID.Store(goid())
	defer close(n.dispatcherDone)
	for {
		items := n.events.take()
		if items == nil {
			return
		}
		messages := 0
		for i, j := 0, 0; i < len(items); {
			i, j = n.deliverFrom(items, i, j, &messages)
		}
		n.events.done(items, messages)
	}
}

// deliverFrom delivers items[i:], in order, starting at event j of item i
// when that is a batch, and returns where it stopped: at the end, or just
// past an event whose handler panicked. A panic is reported and costs only
// that event (the reconnection question then keeps its default), or, in
// the batch function, the rest of its batch. One deferred recover serves
// the whole batch.
func (n *Node) deliverFrom(items []queued, i, j int, messages *int) (ni, nj int) {
	ni, nj = i, j
	defer func() {
		if r := recover(); r != nil {
			q := &items[ni]
			if q.msgs != nil {
				k := len(q.msgs.recs)
				if nj >= k {
					n.printf("batch handler panicked on %d %v events: %v", k, EventMessage, r)
				} else {
					n.printf("event handler panicked on %v: %v", EventMessage, r)
				}
				if nj++; nj >= k {
					ni, nj = ni+1, 0
				}
				return
			}
			if q.batch != nil {
				if nj >= len(*q.batch) {
					// The batch function: the rest of its batch is lost.
					n.printf("batch handler panicked on %d %v events: %v", len(*q.batch), EventMessage, r)
				} else {
					n.printf("event handler panicked on %v: %v", EventMessage, r)
				}
				if nj++; nj >= len(*q.batch) {
					ni, nj = ni+1, 0
				}
				return
			}
			n.printf("event handler panicked on %v: %v", q.ev.Type, r)
			n.handled(q, true)
			ni, nj = ni+1, 0
		}
	}()
	for ; ni < len(items); ni, nj = ni+1, 0 {
		q := &items[ni]
		if b := q.msgs; b != nil {
			if n.batch != nil && nj == 0 {
				*messages += len(b.recs)
				nj = len(b.recs)
				evs := n.batchEvents(b)
				n.batch(evs)
				clear(evs) // not to hold the peer and its buffers
				continue
			}
			// Each event is made in the node's own slot, which the
			// handler gets (a local one would escape to the heap, one
			// allocation per message).
			ev, recs, fn := &n.msgEv, b.recs, n.fn
			for ; nj < len(recs); nj++ {
				*messages++
				b.event(ev, &recs[nj])
				if fn != nil {
					fn(ev)
				} else {
					n.handler.NodeMessage(ev.Peer, ev.Message)
				}
			}
			*ev = Event{} // not to hold the peer and its buffer
			continue
		}
		if q.batch != nil {
			evs := *q.batch
			if n.batch != nil && nj == 0 && len(evs) > 0 && evs[0].Type == EventMessage {
				// One call for the whole batch (a reader's batch holds
				// events of one type). nj past the end tells a panic
				// that it came from the batch function.
				*messages += len(evs)
				nj = len(evs)
				n.batch(evs)
				continue
			}
			for ; nj < len(evs); nj++ {
				*messages++
				deliver(n.handler, n.fn, &evs[nj])
			}
			continue
		}
		if q.ev.Type == EventMessage {
			*messages++
		}
		n.handled(q, deliver(n.handler, n.fn, &q.ev))
	}
	return ni, nj
}

// batchEvents makes the events of b for the batch function, in a slice
// the node reuses (the function may not keep it).
func (n *Node) batchEvents(b *msgBatch) []Event {
	evs := n.msgEvs[:0]
	if cap(evs) < len(b.recs) {
		evs = make([]Event, 0, len(b.recs))
	}
	evs = evs[:len(b.recs)]
	for i := range b.recs {
		b.event(&evs[i], &b.recs[i])
	}
	n.msgEvs = evs
	return evs
}

// handled finishes an event: the answer goes back to whoever waits for it,
// and a disconnected peer's handle is released.
func (n *Node) handled(q *queued, answer bool) {
	if q.reply != nil {
		q.reply <- answer
	}
	if q.ev.Type == EventInboundDisconnected || q.ev.Type == EventOutboundDisconnected {
		n.mu.Lock()
		n.releaseHandleLocked(q.ev.Peer)
		n.mu.Unlock()
	}
}

// call runs the handler for one event. A panicking handler is reported and
// costs only that event; the reconnection question then keeps its default.
func (n *Node) call(ev *Event) (answer bool) {
	defer func() {
		if r := recover(); r != nil {
			answer = true
			n.printf("event handler panicked on %v: %v", ev.Type, r)
		}
	}()
	return deliver(n.handler, n.fn, ev)
}

// raise delivers ev and returns the handler's answer once it has been
// handled: inline when called from the handler itself (as the reference
// calls its event methods), through the queue otherwise.
func (n *Node) raise(ev Event) bool {
	if n.inDispatcher() {
		return n.call(&ev)
	}
	if n.pull != nil && n.IsPoller() {
		ev.byPoller = true
	}
	reply := make(chan bool, 1)
	if !n.events.push(ev, reply) {
		return true
	}
	select {
	case answer := <-reply:
		return answer
	case <-n.dispatcherDone:
		return true
	}
}

// InHandler reports whether the caller runs on the node's event goroutine,
// that is, inside one of its event handlers (directly, or through a
// callback from C).
func (n *Node) InHandler() bool {
	if n == nil {
		return false
	}
	return n.inDispatcher()
}

// inDispatcher reports whether the caller runs on the node's event
// goroutine (directly, or through a callback from C).
func (n *Node) inDispatcher() bool {
	id := n.dispatcherID.Load()
	return id != 0 && id == goid()
}

// goid is the current goroutine's id, read from its stack header. It is
// only used to tell the event goroutine apart, on calls that are not hot.
func goid() int64 {
	var b [64]byte
	s := b[:runtime.Stack(b[:], false)]
	s = bytes.TrimPrefix(s, []byte("goroutine "))
	if i := bytes.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	id, _ := strconv.ParseInt(string(s), 10, 64)
	return id
}

// debugf prints a debug line when debug output is on, in the reference's
// form "DEBUG (<id>): <message>".
func (n *Node) debugf(format string, args ...any) {
	if n.debug.Load() {
		n.printf(format, args...)
	}
}

// Debugf prints a line to the node's debug output, in the form of its own
// debug lines, when debug output is on. Layers built on the node (the secure
// node) use it so that their lines and the node's never interleave.
func (n *Node) Debugf(format string, args ...any) {
	if n == nil {
		return
	}
	n.debugf(format, args...)
}

func (n *Node) printf(format string, args ...any) {
	n.outMu.Lock()
	defer n.outMu.Unlock()
	fmt.Fprintf(n.cfg.DebugOutput, "DEBUG (%s): %s\n", n.id, fmt.Sprintf(format, args...))
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, _ := net.SplitHostPort(a.String())
	return host
}

func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("p2p: send failed for %d peer(s): %w", len(errs), errors.Join(errs...))
}
