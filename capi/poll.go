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
)

// Poll mode: p2p_node_poll, p2p_node_poll_batch and p2p_node_next, and the
// queue that holds a node's events for them.

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

//export p2pgo_node_poll
func p2pgo_node_poll(h *C.p2p_node, events *C.p2p_event, maxEvents C.size_t, timeoutMS C.int, count *C.size_t) (rc C.int) {
	defer guard(&rc)
	return poll(h, events, maxEvents, timeoutMS, count, nil, nil)
}

//export p2pgo_node_poll_batch
func p2pgo_node_poll_batch(h *C.p2p_node, events *C.p2p_event, maxEvents C.size_t, timeoutMS C.int, count *C.size_t, data **C.uint8_t, dataLen *C.size_t) (rc C.int) {
	defer guard(&rc)
	if data == nil || dataLen == nil {
		if count != nil {
			*count = 0
		}
		return fail(C.P2P_EINVAL, "data or data_len is NULL")
	}
	*data, *dataLen = nil, 0
	return poll(h, events, maxEvents, timeoutMS, count, data, dataLen)
}

// poll is p2p_node_poll; with data and dataLen it lays the batch's payloads
// back to back and reports where (p2p_node_poll_batch).
func poll(h *C.p2p_node, events *C.p2p_event, maxEvents C.size_t, timeoutMS C.int, count *C.size_t, data **C.uint8_t, dataLen *C.size_t) (rc C.int) {
	e, rc := lookup(h)
	if rc != C.P2P_OK {
		return rc
	}
	if count == nil || events == nil || maxEvents == 0 {
		return fail(C.P2P_EINVAL, "events or count is NULL, or max is 0")
	}
	// Any size_t is a valid max: it is clamped, never converted to an int
	// that could come out negative (and take no event).
	maxEvents = min(maxEvents, C.size_t(maxPollBatch))
	*count = 0
	e.mu.Lock()
	callbackMode := e.cb != nil && e.started
	e.mu.Unlock()
	if callbackMode {
		return fail(C.P2P_ESTATE, "the node delivers its events to a callback")
	}
	q := e.poll
	q.inPoll.Add(1)
	defer q.polled()
	q.pollMu.Lock()
	defer q.pollMu.Unlock()
	q.poller.Store(uintptr(C.p2p_thread_self_()))
	q.release(true)
	q.forget()
	var deadline time.Time
	if timeoutMS > 0 {
		deadline = time.Now().Add(time.Duration(timeoutMS) * time.Millisecond)
	}
	for {
		select {
		case <-e.gone:
			return fail(C.P2P_EHANDLE, "node was freed")
		default:
		}
		if items := q.take(int(maxEvents)); len(items) > 0 {
			start, n := q.fill(h, items, unsafe.Slice(events, len(items)), data != nil)
			*count = C.size_t(len(items))
			if data != nil {
				*data, *dataLen = start, C.size_t(n)
			}
			return C.P2P_OK
		}
		select {
		case <-e.node.Done():
			if q.empty() {
				return fail(C.P2P_ESTOPPED, "node is stopped and every event was taken")
			}
			continue
		default:
		}
		wait := time.Duration(-1)
		switch {
		case timeoutMS == 0:
			return C.P2P_OK
		case timeoutMS > 0:
			if wait = time.Until(deadline); wait <= 0 {
				return C.P2P_OK
			}
		}
		q.wait(wait, e.node.Done(), e.gone)
	}
}

// maxPollBatch is the most events one poll takes.
const maxPollBatch = 1 << 20

//export p2pgo_node_reply
func p2pgo_node_reply(h *C.p2p_node, answer C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		q := e.poll
		q.pollMu.Lock()
		defer q.pollMu.Unlock()
		if !q.question {
			return fail(C.P2P_ESTATE, "no reconnection question is waiting for an answer")
		}
		q.release(answer != 0)
		return C.P2P_OK
	})
}

// maxNextBatch is the most events one p2p_node_next takes.
const maxNextBatch = 1 << 16

//export p2pgo_node_next
func p2pgo_node_next(h *C.p2p_node, events *C.p2p_ev, maxEvents C.size_t, timeoutMS C.int, count *C.size_t, data **C.uint8_t, dataLen *C.size_t) (rc C.int) {
	defer guard(&rc)
	if count != nil {
		*count = 0
	}
	if (data == nil) != (dataLen == nil) {
		return fail(C.P2P_EINVAL, "data and data_len are both NULL or both set")
	}
	if events == nil || count == nil || maxEvents == 0 {
		return fail(C.P2P_EINVAL, "events or count is NULL, or max is 0")
	}
	stride := events.size
	if stride < minEvSize {
		return fail(C.P2P_EINVAL, "events[0].size is below sizeof(p2p_ev) of 0.3 (P2P_INIT it)")
	}
	e, rc := lookup(h)
	if rc != C.P2P_OK {
		return rc
	}
	k := min(maxEvents, maxNextBatch)
	e.mu.Lock()
	if e.nextEvs == nil || e.nextCap < int(k) {
		if e.nextEvs != nil {
			C.free(unsafe.Pointer(e.nextEvs))
		}
		e.nextEvs = (*C.p2p_event)(C.malloc(C.size_t(k) * C.sizeof_p2p_event))
		e.nextCap = int(k)
	}
	tmp := e.nextEvs
	if e.nextNodes != nil {
		C.free(e.nextNodes)
		e.nextNodes = nil
	}
	e.mu.Unlock()
	if tmp == nil {
		return fail(C.P2P_EINTERNAL, "out of C memory for %d events", uint64(k))
	}
	if data != nil {
		*data, *dataLen = nil, 0
	}
	var n C.size_t
	rc = poll(h, tmp, k, timeoutMS, &n, data, dataLen)
	if rc != C.P2P_OK || n == 0 {
		return rc
	}
	block := C.p2p_ev_convert_(tmp, n, unsafe.Pointer(events), stride)
	e.mu.Lock()
	e.nextNodes = block
	e.mu.Unlock()
	*count = n
	return C.P2P_OK
}
