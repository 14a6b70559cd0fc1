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
// order, one at a time.
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
		for i := range items {
			q := &items[i]
			if q.ev.Type == EventMessage {
				messages++
			}
			answer := n.call(&q.ev)
			if q.reply != nil {
				q.reply <- answer
			}
			if q.ev.Type == EventInboundDisconnected || q.ev.Type == EventOutboundDisconnected {
				n.mu.Lock()
				delete(n.handles, q.ev.Peer.handle)
				n.mu.Unlock()
			}
		}
		n.events.done(items, messages)
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
func (n *Node) Debugf(format string, args ...any) { n.debugf(format, args...) }

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
