package p2p

import (
	"context"
	"sync"
	"time"
)

// The pull API: a node made by NewPolling (or whose handler hands events on
// with Park, after EnablePolling) keeps its events until the application
// takes them with Poll, as nats.go's NextMsg pairs with its asynchronous
// handlers. The node's one event queue feeds its dispatcher, which here
// parks each event in the puller instead of calling a handler; the rule for
// when the application has handled an event lives here, once:
//
//   - The events the node waits on (EventRequestToStop,
//     EventDisconnectWithOutbound, EventReconnectionError) end a batch, and
//     count as handled when the poller calls Poll again, so that a goodbye
//     sent on EventRequestToStop still reaches the peers. The answer to
//     EventReconnectionError is Answer's (true when not given).
//   - The poller is the goroutine in Poll, or the last one there. An event
//     raised by the poller's own call (its Disconnect) does not wait for
//     it: it could not come back while it waits.
//   - The node waits for a poller only while one is there: inside Poll, or
//     returned from it less than PollerGrace ago, and not ended by
//     StopPolling. With nobody polling, those events count as handled at
//     once and stay queued for a later Poll, and a stopping node no longer
//     waits for room: Stop never waits for a poller that is not there.
//   - Events that carry a payload (messages, and a layer's own events) wait
//     while MaxPendingEvents of them are parked, which stops the node's
//     readers (TCP backpressure), as with a slow handler.
//   - A peer's handle stays valid (PeerByHandle) until the Poll after the
//     one that returned its disconnected event.

// PollerGrace is how long after its last Poll returned a poller still
// counts as there (see NewPolling).
const PollerGrace = time.Second

// pollRecheck is how often a wait for the poller looks again whether it is
// still there.
const pollRecheck = 20 * time.Millisecond

// NewPolling creates a node without a handler: its events wait in the node
// until Poll takes them (see the rules above Poll).
func NewPolling(cfg Config) (*Node, error) {
	var n *Node
	n, err := newNode(cfg, nil, func(ev *Event) bool { return n.Park(ev) })
	if err != nil {
		return nil, err
	}
	n.pull = newPuller(n.cfg.MaxPendingEvents)
	return n, nil
}

// EnablePolling gives a node made with a handler the puller of NewPolling,
// before Start: its handler may then hand events on to Poll with Park (as
// the C ABI does for a node without a callback, and a secure node for its
// own events). ErrAlreadyStarted once started; a second call does nothing.
func (n *Node) EnablePolling() error {
	if n == nil {
		return errorf(ErrNilNode, "cannot enable polling")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state != stateCreated {
		return errorf(ErrAlreadyStarted, "polling is enabled before Start")
	}
	if n.pull == nil {
		n.pull = newPuller(n.cfg.MaxPendingEvents)
	}
	return nil
}

func newPuller(max int) *puller {
	return &puller{max: max, wake: make(chan struct{}, 1), room: make(chan struct{}),
		gone: make(map[uint64]*Peer)}
}

// puller holds a polling node's events between its dispatcher and Poll.
type puller struct {
	pollMu sync.Mutex // one Poll at a time

	mu       sync.Mutex
	items    []parked
	messages int // parked events that carry a payload
	max      int
	wake     chan struct{} // one pending signal: an event is ready
	room     chan struct{} // closed and replaced when Poll takes payloads
	handed   *waiter       // the waited-on event handed out last, until Poll comes back
	inPoll   int
	last     time.Time // when the last Poll returned
	poller   uint64    // callerID of the poller (0: none yet)
	stopping bool      // the node is stopping: room is waited for only while a poller is there
	ended    bool      // StopPolling: nobody will poll again
	gone     map[uint64]*Peer
	expire   []uint64 // handles of the disconnected events the last Poll returned
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
	return !p.ended && (p.inPoll > 0 || (!p.last.IsZero() && time.Since(p.last) < PollerGrace))
}

// Park hands ev to Poll and returns the answer once the poller has handled
// it (see the rules above): for the handler of a node with polling enabled
// (NewPolling, EnablePolling), on the node's event goroutine. A handler
// that delivers some events itself parks the others. A node without
// polling answers true and drops ev.
func (n *Node) Park(ev *Event) bool {
	if n == nil || n.pull == nil {
		return true
	}
	return n.pull.deliver(ev)
}

// deliver runs on the dispatcher: it parks ev, and for a waited-on event
// waits until the poller has handled it (or is not there).
func (p *puller) deliver(ev *Event) bool {
	p.mu.Lock()
	if carriesPayload(ev.Type) {
		for p.messages >= p.max && !p.ended && (!p.stopping || p.present()) {
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
		p.messages++
	}
	var w *waiter
	// The reconnection question is never raised by a call: it always waits.
	if waitedOn(ev.Type) && !p.ended && (!ev.byPoller || ev.Type == EventReconnectionError) {
		w = &waiter{done: make(chan struct{}), answer: true, question: ev.Type == EventReconnectionError}
	}
	if ev.Peer != nil && disconnectedEvent(ev.Type) {
		p.gone[ev.Peer.handle] = ev.Peer
	}
	p.items = append(p.items, parked{ev: *ev, w: w})
	p.mu.Unlock()
	p.signal()
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

func (p *puller) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Poll takes up to max events (at least 1) of a node made by NewPolling:
// it waits for the first until ctx is done (an already-done ctx: do not
// wait), then takes what else is ready without waiting. A waited-on event
// (see NewPolling) ends the batch; calling Poll again says it was handled.
// Answer the reconnection question with Answer. Poll from one goroutine at
// a time. It returns what it took (nil when ctx ended first, with ctx's
// error), and ErrStopped once the node has stopped and every event was
// taken, or after StopPolling; ErrInvalidArgument for a node without
// polling.
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
	p.poller = n.callerID()
	if p.handed != nil {
		// Coming back for more: the waited-on event handed out last was handled.
		close(p.handed.done)
		p.handed = nil
	}
	for _, h := range p.expire {
		delete(p.gone, h)
	}
	p.expire = p.expire[:0]
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inPoll--
		p.last = time.Now()
		p.mu.Unlock()
	}()
	for {
		if evs, ended := p.take(max); evs != nil || ended {
			if evs == nil {
				return nil, ErrStopped
			}
			return evs, nil
		}
		select {
		case <-n.done:
			if evs, _ := p.take(max); evs != nil {
				return evs, nil
			}
			return nil, ErrStopped
		default:
		}
		select {
		case <-p.wake:
		case <-n.done:
		case <-ctx.Done():
			if evs, _ := p.take(max); evs != nil {
				return evs, nil
			}
			return nil, ctx.Err()
		}
	}
}

// take hands out up to max parked events, ending at a waited-on one; nil
// when none is parked, and whether polling was ended (StopPolling).
func (p *puller) take(max int) ([]Event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return nil, true
	}
	if len(p.items) == 0 {
		return nil, false
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
	payloads := 0
	for i := range out {
		out[i] = p.items[i].ev
		if carriesPayload(out[i].Type) {
			payloads++
		}
		if out[i].Peer != nil && disconnectedEvent(out[i].Type) {
			p.expire = append(p.expire, out[i].Peer.handle)
		}
	}
	clear(p.items[:k])
	p.items = p.items[k:]
	if len(p.items) == 0 {
		p.items = nil
	}
	if payloads > 0 {
		p.messages -= payloads
		close(p.room)
		p.room = make(chan struct{})
	}
	return out, false
}

// Answer answers the reconnection question (EventReconnectionError) that
// the last Poll returned: true dials the lost peer again, false forgets it.
// The node goes on at once. ErrInvalidArgument when no question is waiting.
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
	close(p.handed.done)
	p.handed = nil
	return nil
}

// IsPoller reports whether the caller is the node's poller: the goroutine
// in Poll, or the last one there (a C thread that polls keeps its
// goroutine). A call from there that waited for the poller would wait for
// itself.
func (n *Node) IsPoller() bool {
	if n == nil || n.pull == nil {
		return false
	}
	n.pull.mu.Lock()
	id := n.pull.poller
	n.pull.mu.Unlock()
	return id != 0 && id == n.callerID()
}

// callerID is the caller's identity (Config.CallerID).
func (n *Node) callerID() uint64 {
	if n.cfg.CallerID != nil {
		return n.cfg.CallerID()
	}
	return uint64(goid())
}

// StopPolling says that nobody will poll the node again (the C ABI's free):
// from now on nothing waits for a poller, and Poll returns ErrStopped.
func (n *Node) StopPolling() {
	if n == nil || n.pull == nil {
		return
	}
	p := n.pull
	p.mu.Lock()
	p.ended = true
	if p.handed != nil {
		close(p.handed.done)
		p.handed = nil
	}
	p.mu.Unlock()
	p.signal()
}

// stopping tells the puller that the node is stopping.
func (p *puller) stop() {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
}

// setMax changes how many payloads may be parked (SetLimits).
func (p *puller) setMax(max int) {
	p.mu.Lock()
	p.max = max
	p.mu.Unlock()
}

// parkedPeer finds a peer that has gone but whose handle is still valid.
func (p *puller) parkedPeer(h uint64) (*Peer, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pe, ok := p.gone[h]
	return pe, ok
}
