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
	freed      atomic.Bool  // written under mu; read without it by every call
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
	batch   cBatch // the records and payloads of a batch of messages (onCoreBatch)

	// peers caches, by handle, the peers that calls found (peerOf): a hit
	// is an atomic load and a compare, where a lookup takes the node's lock.
	// peersEpoch is the handle epoch the cache was last swept at.
	peers      [peerCacheSize]atomic.Pointer[peerRef]
	peersEpoch atomic.Uint64

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
	if e.freed.Load() {
		return nil, fail(C.P2P_EHANDLE, "node was freed")
	}
	return e, C.P2P_OK
}

// peerCacheSize is the number of peers an entry's cache holds, by handle
// modulo the size (handles are consecutive: no two of the first
// peerCacheSize peers share an entry).
const peerCacheSize = 64

// peerRef is a cached lookup: the peer of handle h while the node's handle
// epoch is epoch (p2p.Node.PeerByHandleEpoch).
type peerRef struct {
	h     uint64
	epoch uint64
	p     *p2p.Peer
}

// peerOf finds a peer of the node by handle: in the entry's cache while no
// handle has been released since it was cached, else from the node.
func (e *nodeEntry) peerOf(h C.uint64_t) (*p2p.Peer, C.int) {
	c := &e.peers[uint64(h)%peerCacheSize]
	epoch := e.node.HandleEpoch()
	if r := c.Load(); r != nil && r.h == uint64(h) && r.epoch == epoch {
		return r.p, C.P2P_OK
	}
	if e.peersEpoch.Load() != epoch {
		e.sweepPeers(epoch)
	}
	// In poll mode a peer that has gone keeps its handle until its
	// disconnected event has been polled (the core's rule): such a peer
	// is found, not cached.
	p, epoch, cacheable, ok := e.node.PeerByHandleEpoch(uint64(h))
	if !ok {
		return nil, fail(C.P2P_ENOPEER, "no peer %d on this node", uint64(h))
	}
	if cacheable {
		c.Store(&peerRef{h: uint64(h), epoch: epoch, p: p})
	}
	return p, C.P2P_OK
}

// sweepPeers drops the cached peers of an earlier handle epoch than
// epoch, so that the cache keeps no peer that has gone alive for long.
// Entries cached meanwhile at the new epoch stay.
func (e *nodeEntry) sweepPeers(epoch uint64) {
	e.peersEpoch.Store(epoch)
	for i := range e.peers {
		if r := e.peers[i].Load(); r != nil && r.epoch != epoch {
			e.peers[i].CompareAndSwap(r, nil)
		}
	}
}

// handles is the registry of node handles. The handles are
// github.com/mattn/go-pointer's: pointer.Save makes the one byte of C memory
// that stands for the node and keeps its slot. A slot is never Unref'd, so
// that the address never comes back as another node: freeing a node empties
// its slot (the tombstone: the byte, go-pointer's map entry, a nil slot, and
// its place in the C list of handles), and the entry, with the whole node,
// goes to the garbage collector.
//
// go-pointer's Restore takes a lock and a map lookup; every call of the C
// ABI looks its handle up, so find first looks in a small cache of the
// slots found: a handle's slot never changes (it is never Unref'd), so a
// cached one is never stale, and a hit is two atomic loads.
type handles struct {
	mu    sync.Mutex // serialises add (the C list of handles)
	cache [handleCacheSize]atomic.Pointer[handleRef]
}

// handleCacheSize is the number of slots handles.find keeps at hand, by
// the handle's address.
const handleCacheSize = 256

// handleRef is a cached slot of go-pointer's, by its key.
type handleRef struct {
	key unsafe.Pointer
	s   *slot
}

// slot is what go-pointer keeps for a handle: the live entry, nil once freed.
type slot struct{ e atomic.Pointer[nodeEntry] }

var registry handles

// add makes a new handle for e. The C list of handles (p2p_keep_handle_)
// lets leak checkers see the bytes as reachable.
func (r *handles) add(e *nodeEntry) unsafe.Pointer {
	s := &slot{}
	s.e.Store(e)
	key := pointer.Save(s)
	r.mu.Lock()
	defer r.mu.Unlock()
	C.p2p_keep_handle_(key)
	return key
}

// cacheIndex spreads handles (malloc'd single bytes, 16-aligned) over the
// cache.
func cacheIndex(key unsafe.Pointer) uintptr {
	k := uintptr(key) >> 4
	return (k ^ k>>8 ^ k>>16) % handleCacheSize
}

// slotOf finds a handle's slot: in the cache, else from go-pointer (and
// then it is cached). nil for a pointer that never was a handle.
func (r *handles) slotOf(key unsafe.Pointer) *slot {
	c := &r.cache[cacheIndex(key)]
	if ref := c.Load(); ref != nil && ref.key == key {
		return ref.s
	}
	s, ok := pointer.Restore(key).(*slot)
	if !ok {
		return nil
	}
	c.Store(&handleRef{key: key, s: s})
	return s
}

// find returns the live entry of a handle, or nil and whether the handle
// was ever made (a freed node's).
func (r *handles) find(key unsafe.Pointer) (*nodeEntry, bool) {
	s := r.slotOf(key)
	if s == nil {
		return nil, false
	}
	return s.e.Load(), true
}

// bury turns a live handle into a tombstone.
func (r *handles) bury(key unsafe.Pointer) {
	if s := r.slotOf(key); s != nil {
		s.e.Store(nil)
	}
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
	e.batch.free()
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
