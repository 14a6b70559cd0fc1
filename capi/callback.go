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
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/secure"
)

// Callback mode: the C event record filled for the application's function
// (p2p_node_set_callback, p2p_node_set_handler) on the node's event thread.

// The secure node's events, defined by p2p/secure (mapped in marshal.go).
const (
	eventSecureMessage   = secure.EventSecureMessage
	eventMessageRejected = secure.EventMessageRejected
	eventDiscoveryAnswer = secure.EventDiscoveryAnswer
)

// carriesData reports whether events of type t carry a payload.
func carriesData(t p2p.EventType) bool {
	return t == p2p.EventMessage || t == p2p.EventTopicMessage || t >= eventSecureMessage
}

// scratchMax is the largest message copied into the node's reusable scratch
// buffer for a callback; larger ones get a C buffer of their own.
const scratchMax = 64 << 10

// onCoreEvent is the core's event function for every plain node of the C
// ABI. It runs on the node's event goroutine, which is locked to its own OS
// thread.
func (e *nodeEntry) onCoreEvent(ev *p2p.Event) bool {
	return e.onEvent(ev)
}

// onEvent delivers one event to the application: to its callback, or to
// the core's Poll.
func (e *nodeEntry) onEvent(ev *p2p.Event) bool {
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
	return e.node.Park(ev)
}

// callback fills the node's C event record and calls the user's function.
// An event raised inside the callback (a disconnect from a message handler)
// is delivered inline and gets records of its own, so the outer event stays
// intact until its callback returns.
func (e *nodeEntry) callback(ev *p2p.Event) bool {
	nested := e.depth > 0
	e.depth++
	defer func() { e.depth-- }()
	c := e.ev
	if nested {
		c = (*C.p2p_event)(C.calloc(1, C.sizeof_p2p_event))
		defer C.free(unsafe.Pointer(c))
	}
	fillEvent(c, (*C.p2p_node)(e.key), ev)
	if ev.Peer != nil {
		s := e.stringsOf(ev.Peer)
		c.peer_id, c.peer_host = s.id, s.host
	}
	if carriesData(ev.Type) {
		data := ev.Message.Data
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
	}
	if topic, origin, ok := topicOf(ev); ok && e.cb.ev_fn != nil {
		// The 0.2 record carries them to the shim's p2p_ev in msg_type and
		// sender_id (the 0.2 callback never sees the event).
		c.msg_type, c.sender_id = C.CString(topic), C.CString(origin)
		defer C.free(unsafe.Pointer(c.msg_type))
		defer C.free(unsafe.Pointer(c.sender_id))
	}
	if sec := secure.Info(ev); sec != nil {
		// Secure events are rare next to messages: their own C memory.
		mem := &cAllocator{}
		defer mem.free()
		fillSecure(c, sec, mem)
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

// One cgo call's worth of a batch of messages: at most batchMaxEvents
// messages of at most batchMaxPeers peers and batchMaxBytes of payload (a
// message over that goes alone, through callback).
const (
	batchMaxEvents = 1024
	batchMaxPeers  = 16
	batchMaxBytes  = 1 << 20
	batchMinBlock  = 64 << 10
)

// cBatch is the C memory of the node's batches: a compact item per
// message (its payload, kind, compression and peer), a full record per
// peer, and the block the payloads are copied to, which grows (between
// batches) to what they need, up to batchMaxBytes. The shim's loop builds
// each event the callback gets from an item and its peer's record. Used by
// the event thread only; freed by release.
type cBatch struct {
	items   *C.p2p_batch_item_ // batchMaxEvents, once made
	peers   *C.p2p_event       // batchMaxPeers, once made
	data    *C.uint8_t
	dataCap int
}

// grow makes the payload block at least n bytes long (never in the middle
// of a batch: the items point into it).
func (b *cBatch) grow(n int) {
	if b.data != nil && b.dataCap >= n {
		return
	}
	if b.data != nil {
		C.free(unsafe.Pointer(b.data))
	}
	b.dataCap = max(n, batchMinBlock)
	b.data = (*C.uint8_t)(C.malloc(C.size_t(b.dataCap)))
}

func (b *cBatch) free() {
	for _, p := range []unsafe.Pointer{unsafe.Pointer(b.items), unsafe.Pointer(b.peers), unsafe.Pointer(b.data)} {
		if p != nil {
			C.free(p)
		}
	}
	b.items, b.peers, b.data, b.dataCap = nil, nil, nil, 0
}

// onCoreBatch is the core's batch function of a plain node in callback
// mode (p2p.Node.SetBatchFunc, set at start): a run of message events,
// marshalled into the node's C memory in one pass and handed to the
// callback one by one inside one cgo call (the shim's p2p_call_batch_),
// where one call per message would cross from Go to C once each. Every
// rule of the callback holds as for single events: the thread, the order,
// what the event points to (valid until the callback returns, and a while
// longer), what the callback may call. An event it raises inline (a
// disconnect) is delivered through callback, nested, with records of its
// own; a free stops the batch before its next event.
func (e *nodeEntry) onCoreBatch(evs []p2p.Event) {
	if !e.watched {
		e.watched = true
		C.p2p_watch_this_thread_(e.watch)
	}
	select {
	case <-e.gone:
		return
	default:
	}
	if e.cb == nil || e.depth > 0 {
		// Not met (the batch function is set with a callback, and the core
		// never delivers a batch inline), but safe: one by one.
		for i := range evs {
			e.onEvent(&evs[i])
		}
		return
	}
	e.depth++
	defer func() { e.depth-- }()
	b := &e.batch
	if b.items == nil {
		b.items = (*C.p2p_batch_item_)(C.malloc(batchMaxEvents * C.sizeof_p2p_batch_item_))
		b.peers = (*C.p2p_event)(C.calloc(batchMaxPeers, C.sizeof_p2p_event))
	}
	b.grow(batchMinBlock)
	items := unsafe.Slice(b.items, batchMaxEvents)
	peers := unsafe.Slice(b.peers, batchMaxPeers)
	node := (*C.p2p_node)(e.key)
	for len(evs) > 0 {
		if len(evs[0].Message.Data) > batchMaxBytes {
			e.callback(&evs[0]) // nested: a buffer of its own
			evs = evs[1:]
			select {
			case <-e.gone:
				return
			default:
			}
			continue
		}
		block := unsafe.Slice((*byte)(unsafe.Pointer(b.data)), b.dataCap)
		var peer *p2p.Peer
		k, off, np, need := 0, 0, 0, 0
		for k < len(evs) && k < batchMaxEvents {
			ev := &evs[k]
			data := ev.Message.Data
			// One byte stays free past the payloads: an empty message at
			// the end still points into the block.
			if off+len(data) >= len(block) {
				need = off + len(data) + 1
				if k > 0 {
					break // the rest in the next round, in a larger block
				}
				b.grow(need)
				block = unsafe.Slice((*byte)(unsafe.Pointer(b.data)), b.dataCap)
			}
			if ev.Peer != peer || np == 0 {
				if np == batchMaxPeers {
					break
				}
				peer = ev.Peer
				peers[np] = e.peerRecord(node, peer)
				np++
			}
			copy(block[off:], data)
			items[k] = C.p2p_batch_item_{data: (*C.uint8_t)(unsafe.Pointer(&block[off])), len: C.uint32_t(len(data)),
				kind: C.uint8_t(kindCode(ev.Message.Kind)), compression: C.uint8_t(compressionCode(ev.Message.Compression)),
				peer: C.uint16_t(np - 1)}
			off += len(data)
			k++
		}
		if done := C.p2p_call_batch_(e.cb, b.peers, b.items, C.size_t(k)); int(done) < k {
			return // freed from its callback: no more events
		}
		evs = evs[k:]
		if need > b.dataCap {
			b.grow(min(max(need, 2*b.dataCap), batchMaxBytes+1))
		}
	}
}

// peerRecord is the record of a message from p, but for its payload.
func (e *nodeEntry) peerRecord(node *C.p2p_node, p *p2p.Peer) C.p2p_event {
	empty := &C.p2p_empty_[0]
	c := C.p2p_event{_type: C.P2P_EVENT_MESSAGE, node: node,
		peer_id: empty, peer_host: empty, host: empty, sender_id: empty, msg_type: empty, reason: empty}
	if p != nil {
		s := e.stringsOf(p)
		c.peer, c.peer_id, c.peer_host = C.uint64_t(p.Handle()), s.id, s.host
		c.peer_port, c.direction = C.int32_t(p.Port()), directionCode(p.Direction())
	}
	return c
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

//export p2pgo_node_set_callback
func p2pgo_node_set_callback(h *C.p2p_node, fn C.p2p_event_fn, userData unsafe.Pointer) C.int {
	return setCallback(h, fn, nil, userData)
}

// setCallback registers a 0.2 callback (fn) or a 0.3 handler (evFn); at
// most one is set, and both nil return the node to poll mode.
func setCallback(h *C.p2p_node, fn C.p2p_event_fn, evFn C.p2p_ev_fn, userData unsafe.Pointer) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.started {
			return fail(C.P2P_ESTATE, "the callback is set before p2p_node_start")
		}
		if fn == nil && evFn == nil {
			if e.cb != nil {
				C.free(unsafe.Pointer(e.cb))
				e.cb = nil
			}
			return C.P2P_OK
		}
		if e.cb == nil {
			e.cb = (*C.p2p_callback_)(C.malloc(C.sizeof_p2p_callback_))
		}
		e.cb.fn = fn
		e.cb.ev_fn = evFn
		e.cb.user_data = userData
		e.cb.gone = 0
		return C.P2P_OK
	})
}

//export p2pgo_node_set_handler
func p2pgo_node_set_handler(h *C.p2p_node, fn C.p2p_ev_fn, userData unsafe.Pointer) C.int {
	return setCallback(h, nil, fn, userData)
}

func disconnected(t p2p.EventType) bool {
	return t == p2p.EventInboundDisconnected || t == p2p.EventOutboundDisconnected
}
