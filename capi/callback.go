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
