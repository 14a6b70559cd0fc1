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
	"unsafe"

	"github.com/mattn/go-pointer"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/secure"
)

// Handles: the registry of the nodes that crossed into C (go-pointer keys),
// each node's entry with its C memory, and the lookups every call makes.

func newEntry() *nodeEntry {
	return &nodeEntry{gone: make(chan struct{}), strs: make(map[uint64]*peerStrings)}
}

// register makes the handle of an entry whose node is made.
func (e *nodeEntry) register() *C.p2p_node {
	e.watch = C.p2p_watch_new_()
	e.key = registry.add(e)
	return (*C.p2p_node)(e.key)
}

// withNode runs f with the live entry behind h; a bad handle gets its code,
// and a panic becomes P2P_EINTERNAL.
func withNode(h *C.p2p_node, f func(e *nodeEntry) C.int) (rc C.int) {
	defer guard(&rc)
	e, rc := lookup(h)
	if rc != C.P2P_OK {
		return rc
	}
	return f(e)
}

// peersOf finds the node's peers of n handles (unknown ones are skipped).
func peersOf(node *p2p.Node, handles *C.uint64_t, n C.size_t) []*p2p.Peer {
	if n == 0 {
		return nil
	}
	var peers []*p2p.Peer
	for _, x := range unsafe.Slice(handles, int(n)) {
		if p, ok := node.PeerByHandle(uint64(x)); ok {
			peers = append(peers, p)
		}
	}
	return peers
}

// withPeer runs f with a peer of the node behind h.
func withPeer(h *C.p2p_node, peer C.uint64_t, f func(p *p2p.Peer) C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		p, rc := e.peerOf(peer)
		if rc != C.P2P_OK {
			return rc
		}
		return f(p)
	})
}

// nodeEntry is what a p2p_node* stands for. The handle is go-pointer's one
// byte of C memory (holding no Go pointer), never freed, so that its address
// cannot come back as another node (see handles). A freed node leaves only
// its handle behind, and its entry, with the whole node, goes to the garbage
// collector once the calls under way on it have returned.
type nodeEntry struct {
	key unsafe.Pointer

	mu         sync.Mutex
	node       *p2p.Node
	sec        *secure.Node // set for a secure node, whose p2p node is node
	freed      bool
	started    bool
	cb         *C.p2p_callback_     // callback mode when non-nil at start
	watch      *C.p2p_thread_watch_ // the event thread, for stop to wait on (under mu)
	waiters    int                  // calls waiting on watch (under mu)
	released   bool                 // release has run (under mu)
	watched    bool                 // set on the event thread only
	depth      int                  // callbacks under way on the event thread
	gone       chan struct{}        // closed by free: wakes pollers and blocked deliveries
	payloadMax atomic.Uint64        // the longest payload a send may take, set at start (0 before)

	// Used by the event thread only (callback mode).
	ev      *C.p2p_event
	scratch *C.uint8_t
	scrCap  int
	strs    map[uint64]*peerStrings

	poll pollArena // poll mode's C memory (the queue is the core's)

	// p2p_node_next's reusable array of 0.2 events and the discovery
	// entries of its last batch (under mu; freed by release).
	nextEvs   *C.p2p_event
	nextCap   int
	nextNodes unsafe.Pointer
}

// peerStrings are a peer's id and host as C strings, made once per peer and
// freed after its disconnected event.
type peerStrings struct{ id, host *C.char }

// lookup turns a handle into its live entry, or a status code with the
// thread's message set.
func lookup(h *C.p2p_node) (*nodeEntry, C.int) {
	if forked() {
		return nil, failForked()
	}
	if h == nil {
		return nil, fail(C.P2P_EHANDLE, "node is NULL")
	}
	e, known := registry.find(unsafe.Pointer(h))
	if e == nil {
		if known {
			return nil, fail(C.P2P_EHANDLE, "node was freed")
		}
		return nil, fail(C.P2P_EHANDLE, "unknown node handle")
	}
	e.mu.Lock()
	freed := e.freed
	e.mu.Unlock()
	if freed {
		return nil, fail(C.P2P_EHANDLE, "node was freed")
	}
	return e, C.P2P_OK
}

// peerOf finds a peer of the node by handle.
func (e *nodeEntry) peerOf(h C.uint64_t) (*p2p.Peer, C.int) {
	// In poll mode a peer that has gone keeps its handle until its
	// disconnected event has been polled (the core's rule).
	p, ok := e.node.PeerByHandle(uint64(h))
	if !ok {
		return nil, fail(C.P2P_ENOPEER, "no peer %d on this node", uint64(h))
	}
	return p, C.P2P_OK
}

// handles is the registry of node handles. The handles are
// github.com/mattn/go-pointer's: pointer.Save makes the one byte of C memory
// that stands for the node and keeps its slot. A slot is never Unref'd, so
// that the address never comes back as another node: freeing a node empties
// its slot (the tombstone: the byte, go-pointer's map entry, a nil slot, and
// its place in the C list of handles), and the entry, with the whole node,
// goes to the garbage collector.
type handles struct {
	mu sync.RWMutex // guards every slot's e
}

// slot is what go-pointer keeps for a handle: the live entry, nil once freed.
type slot struct{ e *nodeEntry }

var registry handles

// add makes a new handle for e. The C list of handles (p2p_keep_handle_)
// lets leak checkers see the bytes as reachable.
func (r *handles) add(e *nodeEntry) unsafe.Pointer {
	key := pointer.Save(&slot{e: e})
	r.mu.Lock()
	defer r.mu.Unlock()
	C.p2p_keep_handle_(key)
	return key
}

// find returns the live entry of a handle, or nil and whether the handle
// was ever made (a freed node's).
func (r *handles) find(key unsafe.Pointer) (*nodeEntry, bool) {
	s, ok := pointer.Restore(key).(*slot)
	if !ok {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return s.e, true
}

// bury turns a live handle into a tombstone.
func (r *handles) bury(key unsafe.Pointer) {
	s, ok := pointer.Restore(key).(*slot)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.e = nil
}

// release frees the C memory of a node whose event thread has ended. It
// holds the entry's lock: the C ABI's calls read cb (and, through the poll
// queue, the arena) under it.
func (e *nodeEntry) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ev != nil {
		C.free(unsafe.Pointer(e.ev))
		e.ev = nil
	}
	if e.scratch != nil {
		C.free(unsafe.Pointer(e.scratch))
		e.scratch = nil
	}
	for h, s := range e.strs {
		s.free()
		delete(e.strs, h)
	}
	if e.cb != nil {
		C.free(unsafe.Pointer(e.cb))
		e.cb = nil
	}
	e.poll.free()
	if e.nextEvs != nil {
		C.free(unsafe.Pointer(e.nextEvs))
		e.nextEvs = nil
	}
	if e.nextNodes != nil {
		C.free(e.nextNodes)
		e.nextNodes = nil
	}
	e.released = true
	if e.watch != nil && e.waiters == 0 {
		C.p2p_watch_release_(e.watch)
		e.watch = nil
	}
}

func (s *peerStrings) free() {
	C.free(unsafe.Pointer(s.id))
	C.free(unsafe.Pointer(s.host))
}

// threadSelf is the calling OS thread (p2p.Config.CallerID): it tells the
// thread that polls a node apart in a few nanoseconds, where the
// goroutine's id costs a stack trace through cgo's frames.
func threadSelf() uint64 { return uint64(C.p2p_thread_self_()) }
