package p2p

import (
	"context"
	"sync"
	"time"
)

// The pull API: a node made by NewPolling keeps its events until the
// application takes them with Poll, as nats.go's NextMsg pairs with its
// asynchronous handlers. The node's one event queue feeds its dispatcher,
// which here parks each event in the puller instead of calling a handler;
// the rule for when the application has handled an event lives here, once:
//
//   - The events the node waits on (EventRequestToStop,
//     EventDisconnectWithOutbound, EventReconnectionError) end a batch, and
//     count as handled when the poller calls Poll again, so that a goodbye
//     sent on EventRequestToStop still reaches the peers. The answer to
//     EventReconnectionError is Answer's (true when not given).
//   - The node waits for a poller only while one is there: inside Poll, or
//     returned from it less than PollerGrace ago. With nobody polling,
//     those events count as handled at once and stay queued for a later
//     Poll, and a stopping node no longer waits for room: Stop never waits
//     for a poller that is not there.
//   - Messages wait while MaxPendingEvents are parked, which stops the
//     node's readers (TCP backpressure), as with a slow handler.

// PollerGrace is how long after its last Poll returned a poller still
// counts as there (see NewPolling).
const PollerGrace = time.Second

// pollRecheck is how often a wait for the poller looks again whether it is
// still there.
const pollRecheck = 50 * time.Millisecond

// NewPolling creates a node without a handler: its events wait in the node
// until Poll takes them (see the rules above Poll).
func NewPolling(cfg Config) (*Node, error) {
	p := &puller{wake: make(chan struct{}, 1), room: make(chan struct{})}
	var n *Node
	n, err := newNode(cfg, nil, func(ev *Event) bool { return p.deliver(n, ev) })
	if err != nil {
		return nil, err
	}
	p.max = n.cfg.MaxPendingEvents
	n.pull = p
	return n, nil
}

// puller holds a polling node's events between its dispatcher and Poll.
type puller struct {
	pollMu sync.Mutex // one Poll at a time

	mu     sync.Mutex
	items  []parked
	max    int
	wake   chan struct{} // one pending signal: an event is ready
	room   chan struct{} // closed and replaced when Poll takes events
	handed *waiter       // the waited-on event handed out last, until Poll comes back
	inPoll int
	last   time.Time // when the last Poll returned
}

// parked is an event waiting for Poll; w is set for a waited-on one.
type parked struct {
	ev Event
	w  *waiter
}

// waiter carries the handling of one waited-on event back to the dispatcher.
type waiter struct {
	done     chan struct{} // closed when the poller has handled it
	answer   bool          // the reconnection question's answer (under puller.mu)
	question bool
}

// waitedOn reports whether the node waits for the application's handling
// of events of type t.
func waitedOn(t EventType) bool {
	return t == EventReconnectionError || t == EventRequestToStop || t == EventDisconnectWithOutbound
}

// present reports whether a poller is there (under mu).
func (p *puller) present() bool {
	return p.inPoll > 0 || (!p.last.IsZero() && time.Since(p.last) < PollerGrace)
}

// deliver runs on the dispatcher: it parks ev, and for a waited-on event
// waits until the poller has handled it (or is not there).
func (p *puller) deliver(n *Node, ev *Event) bool {
	p.mu.Lock()
	for (ev.Type == EventMessage || ev.Type == EventTopicMessage) && len(p.items) >= p.max && (n.ctx.Err() == nil || p.present()) {
		room := p.room
		p.mu.Unlock()
		t := time.NewTimer(pollRecheck)
		select {
		case <-room:
		case <-t.C:
		}
		t.Stop()
		p.mu.Lock()
	}
	var w *waiter
	if waitedOn(ev.Type) {
		w = &waiter{done: make(chan struct{}), answer: true, question: ev.Type == EventReconnectionError}
	}
	p.items = append(p.items, parked{ev: *ev, w: w})
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	if w == nil {
		return true
	}
	t := time.NewTicker(pollRecheck)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			p.mu.Lock()
			defer p.mu.Unlock()
			return w.answer
		case <-t.C:
			p.mu.Lock()
			there := p.present()
			p.mu.Unlock()
			if !there {
				// Nobody polls: the event counts as handled ("yes" to the
				// question); it stays queued for a later Poll.
				return true
			}
		}
	}
}

// Poll takes up to max events (at least 1) of a node made by NewPolling:
// it waits for the first until ctx is done (an already-done ctx: do not
// wait), then takes what else is ready without waiting. A waited-on event
// (see NewPolling) ends the batch; calling Poll again says it was handled.
// Answer the reconnection question with Answer before that. Poll from one
// goroutine at a time. It returns what it took (nil when ctx ended first,
// with ctx's error), and ErrStopped once the node has stopped and every
// event was taken; ErrInvalidArgument for a node with a handler.
func (n *Node) Poll(ctx context.Context, max int) ([]Event, error) {
	if n == nil {
		return nil, errorf(ErrNilNode, "cannot poll")
	}
	p := n.pull
	if p == nil {
		return nil, errorf(ErrInvalidArgument, "the node has a handler: poll only a node made by NewPolling")
	}
	if max < 1 {
		max = 1
	}
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	p.mu.Lock()
	p.inPoll++
	if p.handed != nil {
		// Coming back for more: the waited-on event handed out last was handled.
		close(p.handed.done)
		p.handed = nil
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inPoll--
		p.last = time.Now()
		p.mu.Unlock()
	}()
	for {
		if evs := p.take(max); evs != nil {
			return evs, nil
		}
		select {
		case <-n.done:
			if evs := p.take(max); evs != nil {
				return evs, nil
			}
			return nil, ErrStopped
		default:
		}
		select {
		case <-p.wake:
		case <-n.done:
		case <-ctx.Done():
			if evs := p.take(max); evs != nil {
				return evs, nil
			}
			return nil, ctx.Err()
		}
	}
}

// take hands out up to max parked events, ending at a waited-on one; nil
// when none is parked.
func (p *puller) take(max int) []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.items) == 0 {
		return nil
	}
	k := min(max, len(p.items))
	for i := 0; i < k; i++ {
		if w := p.items[i].w; w != nil {
			k = i + 1
			p.handed = w
			break
		}
	}
	out := make([]Event, k)
	for i := range out {
		out[i] = p.items[i].ev
	}
	clear(p.items[:k])
	p.items = p.items[k:]
	if len(p.items) == 0 {
		p.items = nil
	}
	close(p.room)
	p.room = make(chan struct{})
	return out
}

// Answer answers the reconnection question (EventReconnectionError) that
// the last Poll returned: true dials the lost peer again, false forgets it.
// It takes effect when Poll is called again. ErrInvalidArgument when no
// question is waiting.
func (n *Node) Answer(reconnect bool) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot answer")
	}
	p := n.pull
	if p == nil {
		return errorf(ErrInvalidArgument, "the node has a handler: answer from it")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.handed == nil || !p.handed.question {
		return errorf(ErrInvalidArgument, "no reconnection question is waiting for an answer")
	}
	p.handed.answer = reconnect
	return nil
}
