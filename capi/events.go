package main

/*
#define P2P_NO_PROTOTYPES
#include <stdlib.h>
#include <string.h>
#include "p2pnode.h"
#include "shim.h"
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/secure"
)

// The secure node's events, defined by p2p/secure (mapped in codes.go).
const (
	eventSecureMessage   = secure.EventSecureMessage
	eventMessageRejected = secure.EventMessageRejected
	eventDiscoveryAnswer = secure.EventDiscoveryAnswer
)

// event is what the C ABI delivers: a core event, or one of a secure node's
// own events (sec set).
type event struct {
	p2p.Event
	sec *secureInfo
}

// secureInfo is what a secure node's event carries beyond a message.
type secureInfo struct {
	senderID, msgType string
	reject            int
	reason            string
	nodes             []secure.NodeInfo
}

// carriesData reports whether events of type t carry a payload.
func carriesData(t p2p.EventType) bool {
	return t == p2p.EventMessage || t >= eventSecureMessage
}

// scratchMax is the largest message copied into the node's reusable scratch
// buffer for a callback; larger ones get a C buffer of their own.
const scratchMax = 64 << 10

// onCoreEvent is the core's event function for every plain node of the C
// ABI. It runs on the node's event goroutine, which is locked to its own OS
// thread.
func (e *nodeEntry) onCoreEvent(ev *p2p.Event) bool {
	return e.onEvent(&event{Event: *ev})
}

// onEvent delivers one event to the application, by callback or poll queue.
func (e *nodeEntry) onEvent(ev *event) bool {
	if !e.watched {
		e.watched = true
		C.p2p_watch_this_thread_(e.watch)
	}
	select {
	case <-e.gone:
		// No event reaches the application once it has freed the node.
		return true
	default:
	}
	if e.cb != nil {
		return e.callback(ev)
	}
	return e.poll.put(ev, e.gone)
}

// synchronous events are the ones the core waits on: the application's
// handling of them must be over before the node goes on (a goodbye before
// peers close, the answer to the reconnection question).
func synchronous(t p2p.EventType) bool {
	return t == p2p.EventReconnectionError || t == p2p.EventRequestToStop || t == p2p.EventDisconnectWithOutbound
}

// callback fills the node's C event record and calls the user's function.
// An event raised inside the callback (a disconnect from a message handler)
// is delivered inline and gets records of its own, so the outer event stays
// intact until its callback returns.
func (e *nodeEntry) callback(ev *event) bool {
	nested := e.depth > 0
	e.depth++
	defer func() { e.depth-- }()
	c := e.ev
	if nested {
		c = (*C.p2p_event)(C.calloc(1, C.sizeof_p2p_event))
		defer C.free(unsafe.Pointer(c))
	}
	C.memset(unsafe.Pointer(c), 0, C.sizeof_p2p_event)
	c._type = eventCode(ev.Type)
	c.node = (*C.p2p_node)(e.key)
	empty := &C.p2p_empty_[0]
	c.peer_id, c.peer_host, c.host = empty, empty, empty
	c.sender_id, c.msg_type, c.reason = empty, empty, empty
	if ev.Peer != nil {
		s := e.stringsOf(ev.Peer)
		c.peer = C.uint64_t(ev.Peer.Handle())
		c.peer_id, c.peer_host = s.id, s.host
		c.peer_port = C.int32_t(ev.Peer.Port())
		c.direction = directionCode(ev.Peer.Direction())
	}
	if disconnected(ev.Type) && ev.Counters != nil {
		c.dropped = C.uint64_t(ev.Counters.Dropped())
		c.dropped_bytes = C.uint64_t(ev.Counters.DroppedBytes)
	}
	if carriesData(ev.Type) {
		data := ev.Message.Data
		c.kind = kindCode(ev.Message.Kind)
		c.compression = compressionCode(ev.Message.Compression)
		c.data_len = C.size_t(len(data))
		// The bytes go to C memory: the callback may hand them to code that
		// checks its reads (valgrind, sanitizers), which cannot see Go's heap.
		// The node's scratch buffer serves messages up to scratchMax; larger
		// ones, and those of nested events, get a buffer of their own.
		var buf *C.uint8_t
		if nested || len(data) > scratchMax {
			buf = (*C.uint8_t)(C.malloc(C.size_t(len(data) + 1)))
			defer C.free(unsafe.Pointer(buf))
		} else {
			buf = e.scratchFor(len(data) + 1)
		}
		copy(unsafe.Slice((*byte)(unsafe.Pointer(buf)), len(data)), data)
		c.data = buf
	}
	if ev.Type == p2p.EventReconnectionError {
		c.host = C.CString(ev.Host)
		defer C.free(unsafe.Pointer(c.host))
		c.port = C.int32_t(ev.Port)
		c.trials = C.int32_t(ev.Trials)
	}
	if ev.sec != nil {
		// Secure events are rare next to messages: their own C memory.
		mem := &cAllocator{}
		defer mem.free()
		fillSecure(c, ev.sec, mem)
	}
	answer := C.p2p_call_event_(e.cb, c) != 0
	if ev.Type == p2p.EventInboundDisconnected || ev.Type == p2p.EventOutboundDisconnected {
		if s, ok := e.strs[ev.Peer.Handle()]; ok {
			s.free()
			delete(e.strs, ev.Peer.Handle())
		}
	}
	return answer
}

// scratchFor returns the node's C scratch buffer, at least n bytes long.
func (e *nodeEntry) scratchFor(n int) *C.uint8_t {
	if e.scratch == nil || e.scrCap < n {
		if e.scratch != nil {
			C.free(unsafe.Pointer(e.scratch))
		}
		e.scrCap = max(n, 4096)
		e.scratch = (*C.uint8_t)(C.malloc(C.size_t(e.scrCap)))
	}
	return e.scratch
}

func (e *nodeEntry) stringsOf(p *p2p.Peer) *peerStrings {
	s, ok := e.strs[p.Handle()]
	if !ok {
		s = &peerStrings{id: C.CString(p.ID()), host: C.CString(p.Host())}
		e.strs[p.Handle()] = s
	}
	return s
}

// pollQueue holds the events of a node without a callback until
// p2p_node_poll takes them. Control events never wait; messages wait while
// max are queued, which stops the node's readers (TCP backpressure).
// A synchronous event ends a batch and holds the node until the poller
// comes back for more (or answers, for the reconnection question): that is
// when the application has handled it.
type pollQueue struct {
	mu       sync.Mutex
	items    []pollItem
	messages int
	max      int
	wake     chan struct{} // one pending signal for the poller
	room     chan struct{} // closed and replaced when messages are taken

	poller   atomic.Uintptr // OS thread of the last p2p_node_poll call
	ownCalls atomic.Int32   // calls from the poller under way: their events must not wait for it
	inPoll   atomic.Int32   // p2p_node_poll calls under way
	lastPoll atomic.Int64   // when the last one returned (monotonic ns since epoch); 0: never polled
	stopping chan struct{}  // closed by p2p_node_stop: the queue no longer holds the node back when nobody polls
	stopOnce sync.Once

	// gone keeps the peers whose disconnected event is queued or was handed
	// out by the last poll: their handles stay valid until the poll after
	// the one that took that event (the core forgets them once the event is
	// in this queue). Under mu.
	gone map[uint64]*p2p.Peer

	pollMu   sync.Mutex // one poller at a time; guards what follows
	pending  chan bool  // releases the last polled synchronous event
	question bool       // pending is a reconnection question
	arena    *C.char
	arenaN   int
	expire   []uint64 // handles of the disconnected events the last poll handed out
}

// pollerGrace is how long after a poll returns the node still counts on the
// poller to come back: a thread that is not inside p2p_node_poll and has not
// left it for that long is not there, and the node does not wait for it.
const pollerGrace = time.Second

// epoch is the origin of lastPoll (a monotonic clock reading).
var epoch = time.Now()

// present reports whether a poller is there to answer: inside
// p2p_node_poll, or out of it for less than pollerGrace.
func (q *pollQueue) present() bool {
	if q.inPoll.Load() > 0 {
		return true
	}
	last := q.lastPoll.Load()
	return last != 0 && time.Since(epoch)-time.Duration(last) < pollerGrace
}

// polled marks the end of a p2p_node_poll call.
func (q *pollQueue) polled() {
	q.lastPoll.Store(int64(max(time.Since(epoch), 1)))
	q.inPoll.Add(-1)
}

// stop tells the queue the node is stopping.
func (q *pollQueue) stop() { q.stopOnce.Do(func() { close(q.stopping) }) }

// absentCheck is how often a wait for the poller checks that it is there.
const absentCheck = 20 * time.Millisecond

// waitRoom waits, while a poller is there, until room is closed or the
// node is freed; it reports whether room was made.
func (q *pollQueue) waitRoom(room <-chan struct{}, gone <-chan struct{}) bool {
	var tick *time.Ticker
	for q.present() {
		if tick == nil {
			tick = time.NewTicker(absentCheck)
			defer tick.Stop()
		}
		select {
		case <-room:
			return true
		case <-gone:
			return false
		case <-tick.C:
		}
	}
	return false
}

// peer finds a peer that has gone but whose handle is still valid.
func (q *pollQueue) peer(h uint64) (*p2p.Peer, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p, ok := q.gone[h]
	return p, ok
}

type pollItem struct {
	ev    event
	reply chan bool
}

func newPollQueue(max int) *pollQueue {
	return &pollQueue{max: max, wake: make(chan struct{}, 1), room: make(chan struct{}),
		stopping: make(chan struct{}), gone: make(map[uint64]*p2p.Peer)}
}

func disconnected(t p2p.EventType) bool {
	return t == p2p.EventInboundDisconnected || t == p2p.EventOutboundDisconnected
}

// put queues ev and, for a synchronous event, waits until the poller has
// handled it (for a reconnection question: answered it). It never waits
// for a poller that is not there (see present): a synchronous event then
// counts as handled (a question as answered yes, the default), and once the
// node is stopping messages are queued beyond max rather than hold the stop
// back. It gives up when the node is freed.
func (q *pollQueue) put(ev *event, gone <-chan struct{}) bool {
	var reply chan bool
	if synchronous(ev.Type) && (ev.Type == p2p.EventReconnectionError || q.ownCalls.Load() == 0) {
		reply = make(chan bool, 1)
	}
	q.mu.Lock()
	if carriesData(ev.Type) {
		for q.messages >= q.max {
			room := q.room
			q.mu.Unlock()
			select {
			case <-room:
			case <-gone:
				return true
			case <-q.stopping:
				// Stopping: wait for room only while someone polls.
				if !q.waitRoom(room, gone) {
					select {
					case <-gone:
						return true
					default:
					}
					q.mu.Lock()
					goto add
				}
			}
			q.mu.Lock()
		}
	add:
		q.messages++
	}
	if ev.Peer != nil && disconnected(ev.Type) {
		q.gone[ev.Peer.Handle()] = ev.Peer
	}
	q.items = append(q.items, pollItem{ev: *ev, reply: reply})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	if reply == nil {
		return true
	}
	var tick *time.Ticker
	for q.present() {
		if tick == nil {
			tick = time.NewTicker(absentCheck)
			defer tick.Stop()
		}
		select {
		case a := <-reply:
			return a
		case <-gone:
			return true
		case <-tick.C:
		}
	}
	// Nobody polls: handled as far as the node is concerned. The event
	// stays queued for a poll to come (release then sends into the
	// buffered reply, which nobody reads).
	return true
}

// take removes up to max events, ending early after a synchronous event.
func (q *pollQueue) take(max int) []pollItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for n < len(q.items) && n < max {
		n++
		if q.items[n-1].reply != nil {
			break
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]pollItem, n)
	copy(out, q.items)
	rest := copy(q.items, q.items[n:])
	clear(q.items[rest:])
	q.items = q.items[:rest]
	taken := 0
	for i := range out {
		if carriesData(out[i].ev.Type) {
			taken++
		}
	}
	if taken > 0 {
		q.messages -= taken
		close(q.room)
		q.room = make(chan struct{})
	}
	return out
}

// wait blocks until events may be there, the timeout passes, the node ends
// or is freed. A negative timeout waits without limit.
func (q *pollQueue) wait(timeout time.Duration, done, gone <-chan struct{}) {
	var tc <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-q.wake:
	case <-tc:
	case <-done:
	case <-gone:
	}
}

func (q *pollQueue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) == 0
}

// forget ends the handles of the peers whose disconnected events the last
// poll handed out. pollMu is held.
func (q *pollQueue) forget() {
	if len(q.expire) == 0 {
		return
	}
	q.mu.Lock()
	for _, h := range q.expire {
		delete(q.gone, h)
	}
	q.mu.Unlock()
	q.expire = q.expire[:0]
}

// release lets the node go on past the synchronous event handed out by the
// last poll, answering a reconnection question with a.
func (q *pollQueue) release(a bool) {
	if q.pending != nil {
		q.pending <- a
		q.pending, q.question = nil, false
	}
}

// fill writes items into the caller's array, with everything they point to
// copied into the queue's arena (valid until the next poll). With packed,
// the payloads of the messages come first in the arena, back to back, and
// their start and total length are returned.
func (q *pollQueue) fill(node *C.p2p_node, items []pollItem, out []C.p2p_event, packed bool) (*C.uint8_t, int) {
	size := 0
	for i := range items {
		ev := &items[i].ev
		size += len(ev.Host) + 1 + len(ev.Message.Data) + 1
		if ev.Peer != nil {
			size += len(ev.Peer.ID()) + len(ev.Peer.Host()) + 2
		}
		if ev.sec != nil {
			size += ev.sec.size()
		}
	}
	if q.arena == nil || q.arenaN < size {
		if q.arena != nil {
			C.free(unsafe.Pointer(q.arena))
		}
		q.arenaN = max(size, 4096)
		q.arena = (*C.char)(C.malloc(C.size_t(q.arenaN)))
	}
	arena := unsafe.Slice((*byte)(unsafe.Pointer(q.arena)), q.arenaN)
	off := 0
	put := func(b []byte, nul bool) unsafe.Pointer {
		p := unsafe.Pointer(&arena[off])
		off += copy(arena[off:], b)
		if nul {
			arena[off] = 0
			off++
		}
		return p
	}
	putString := func(s string) *C.char {
		return (*C.char)(put(unsafe.Slice(unsafe.StringData(s), len(s)), true))
	}
	var packedData []unsafe.Pointer
	if packed {
		packedData = make([]unsafe.Pointer, len(items))
		for i := range items {
			if ev := &items[i].ev; carriesData(ev.Type) {
				packedData[i] = put(ev.Message.Data, false)
			}
		}
	}
	packedLen := off
	for i := range items {
		ev := &items[i].ev
		c := &out[i]
		*c = C.p2p_event{}
		c._type = eventCode(ev.Type)
		c.node = node
		empty := &C.p2p_empty_[0]
		c.host, c.peer_id, c.peer_host = empty, empty, empty
		c.sender_id, c.msg_type, c.reason = empty, empty, empty
		if ev.Type == p2p.EventReconnectionError {
			c.host = putString(ev.Host)
		}
		if ev.sec != nil {
			fillSecure(c, ev.sec, &arenaAllocator{arena: arena, off: &off})
		}
		if ev.Peer != nil {
			c.peer = C.uint64_t(ev.Peer.Handle())
			c.peer_id = putString(ev.Peer.ID())
			c.peer_host = putString(ev.Peer.Host())
			c.peer_port = C.int32_t(ev.Peer.Port())
			c.direction = directionCode(ev.Peer.Direction())
		}
		if disconnected(ev.Type) && ev.Counters != nil {
			c.dropped = C.uint64_t(ev.Counters.Dropped())
			c.dropped_bytes = C.uint64_t(ev.Counters.DroppedBytes)
		}
		if carriesData(ev.Type) {
			c.kind = kindCode(ev.Message.Kind)
			c.compression = compressionCode(ev.Message.Compression)
			c.data_len = C.size_t(len(ev.Message.Data))
			if packed {
				c.data = (*C.uint8_t)(packedData[i])
			} else {
				c.data = (*C.uint8_t)(put(ev.Message.Data, true))
			}
		}
		if ev.Type == p2p.EventReconnectionError {
			c.port = C.int32_t(ev.Port)
			c.trials = C.int32_t(ev.Trials)
		}
		if ev.Peer != nil && disconnected(ev.Type) {
			q.expire = append(q.expire, ev.Peer.Handle())
		}
		if items[i].reply != nil {
			q.pending = items[i].reply
			q.question = ev.Type == p2p.EventReconnectionError
		}
	}
	if packedLen == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(q.arena)), packedLen
}

func (q *pollQueue) free() {
	q.pollMu.Lock()
	defer q.pollMu.Unlock()
	if q.arena != nil {
		C.free(unsafe.Pointer(q.arena))
		q.arena = nil
	}
}
