package main

/*
#define P2P_NO_PROTOTYPES
#include <stdlib.h>
#include "p2pnode.h"
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/secure"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// nodeEntry is what a p2p_node* stands for. The handle is one byte of C
// memory (holding no Go pointer) that is never freed, so that its address
// cannot come back as another node. The registry maps live handles to their
// entries; a freed node leaves only its handle behind (a tombstone: the
// byte, its key in the registry's freed set and its slot in the C list of
// handles), and its entry, with the whole node, goes to the garbage
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

	poll *pollQueue

	// p2p_node_next's reusable array of 0.2 events and the discovery
	// entries of its last batch (under mu; freed by release).
	nextEvs   *C.p2p_event
	nextCap   int
	nextNodes unsafe.Pointer
}

// onPollThread reports whether the caller is the thread that polls the node:
// a call from there that waited for the poller would wait forever.
func (e *nodeEntry) onPollThread() bool {
	t := e.poll.poller.Load()
	return t != 0 && t == uintptr(C.p2p_thread_self_())
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

// fail sets the calling thread's message and returns code.
func fail(code C.int, format string, args ...any) C.int {
	setError(fmt.Sprintf(format, args...))
	return code
}

func setError(msg string) {
	if msg == "" {
		C.p2p_set_error_(nil, 0)
		return
	}
	C.p2p_set_error_((*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
}

// failErr maps a core error to its status code.
func failErr(err error) C.int {
	var code C.int
	var opErr *net.OpError
	switch {
	case errors.Is(err, p2p.ErrInvalidArgument), errors.Is(err, p2p.ErrUnsupportedValue),
		errors.Is(err, wire.ErrUnknownCodec):
		code = C.P2P_EINVAL
	case errors.Is(err, p2p.ErrNotStarted), errors.Is(err, p2p.ErrAlreadyStarted),
		errors.Is(err, p2p.ErrHandlerInProgress):
		code = C.P2P_ESTATE
	case errors.Is(err, p2p.ErrStopped):
		code = C.P2P_ESTOPPED
	case errors.Is(err, p2p.ErrSelfConnect):
		code = C.P2P_ESELF
	case errors.Is(err, p2p.ErrAlreadyConnected):
		code = C.P2P_EALREADY
	case errors.Is(err, p2p.ErrRefused), errors.As(err, &opErr):
		code = C.P2P_ECONNECT
	case errors.Is(err, p2p.ErrHandshake):
		code = C.P2P_EHANDSHAKE
	case errors.Is(err, p2p.ErrPeerClosed), errors.Is(err, p2p.ErrUnknownPeer):
		code = C.P2P_ENOPEER
	case errors.Is(err, p2p.ErrQueueFull):
		code = C.P2P_EFULL
	case errors.Is(err, p2p.ErrMessageTooLarge):
		code = C.P2P_ETOOBIG
	default:
		code = C.P2P_EINTERNAL
	}
	return fail(code, "%v", err)
}

// guard turns a panic in an exported function into P2P_EINTERNAL. Use as
// `defer guard(&rc)` with a named result.
func guard(rc *C.int) {
	if r := recover(); r != nil {
		*rc = fail(C.P2P_EINTERNAL, "p2pnode internal error: %v\n%s", r, debug.Stack())
	}
}

// cString copies s into buf (len bytes, NUL included), truncating with
// P2P_ERANGE.
func cString(s string, buf *C.char, n C.size_t) C.int {
	if buf == nil || n == 0 {
		return fail(C.P2P_EINVAL, "buffer is NULL or its length is 0")
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), fit(n, len(s)+1))
	c := copy(dst[:len(dst)-1], s)
	dst[c] = 0
	if c < len(s) {
		return fail(C.P2P_ERANGE, "buffer of %d bytes is too small for %d bytes", uint64(n), len(s)+1)
	}
	return C.P2P_OK
}

// goBytes views C memory as a byte slice for the length of a call.
func goBytes(p unsafe.Pointer, n C.size_t) []byte {
	if n == 0 {
		return []byte{}
	}
	if uint64(n) > math.MaxInt {
		// No memory is that long; callers check lengths against the
		// limits before they view it.
		panic("p2pnode: a length beyond what memory holds")
	}
	return unsafe.Slice((*byte)(p), int(n))
}

func compressionOf(c C.int) (p2p.Compression, C.int) {
	switch c {
	case C.P2P_COMPRESSION_NONE:
		return p2p.None, C.P2P_OK
	case C.P2P_COMPRESSION_ZLIB:
		return p2p.Zlib, C.P2P_OK
	case C.P2P_COMPRESSION_BZIP2:
		return p2p.Bzip2, C.P2P_OK
	case C.P2P_COMPRESSION_LZMA:
		return p2p.Lzma, C.P2P_OK
	}
	return p2p.None, fail(C.P2P_EINVAL, "unknown compression %d (want P2P_COMPRESSION_NONE, _ZLIB, _BZIP2 or _LZMA)", int(c))
}

func compressionCode(c p2p.Compression) C.int32_t {
	switch c {
	case p2p.Zlib:
		return C.P2P_COMPRESSION_ZLIB
	case p2p.Bzip2:
		return C.P2P_COMPRESSION_BZIP2
	case p2p.Lzma:
		return C.P2P_COMPRESSION_LZMA
	}
	return C.P2P_COMPRESSION_NONE
}

// peerOf finds a peer of the node by handle.
func (e *nodeEntry) peerOf(h C.uint64_t) (*p2p.Peer, C.int) {
	p, ok := e.node.PeerByHandle(uint64(h))
	if !ok {
		// In poll mode a peer that has gone keeps its handle until its
		// disconnected event has been polled.
		p, ok = e.poll.peer(uint64(h))
	}
	if !ok {
		return nil, fail(C.P2P_ENOPEER, "no peer %d on this node", uint64(h))
	}
	return p, C.P2P_OK
}

// handles is the registry of node handles.
type handles struct {
	mu    sync.RWMutex
	live  map[unsafe.Pointer]*nodeEntry
	freed map[unsafe.Pointer]struct{} // tombstones
}

var registry = handles{live: make(map[unsafe.Pointer]*nodeEntry), freed: make(map[unsafe.Pointer]struct{})}

// add makes a new handle for e. The C list of handles (p2p_keep_handle_)
// lets leak checkers see the bytes as reachable.
func (r *handles) add(e *nodeEntry) unsafe.Pointer {
	key := C.malloc(1)
	if key == nil {
		panic("p2pnode: out of C memory for a node handle")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live[key] = e
	C.p2p_keep_handle_(key)
	return key
}

// find returns the live entry of a handle, or nil and whether the handle
// was ever made (a freed node's).
func (r *handles) find(key unsafe.Pointer) (*nodeEntry, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e, ok := r.live[key]; ok {
		return e, true
	}
	_, ok := r.freed[key]
	return nil, ok
}

// bury turns a live handle into a tombstone.
func (r *handles) bury(key unsafe.Pointer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.live, key)
	r.freed[key] = struct{}{}
}

// forked reports whether this process is a child forked from the one that
// loaded the library (shim.c's pthread_atfork handler sets the flag): the
// parent's threads, which run every node, do not exist here. The C entry
// points (entry.c) refuse such calls before they reach Go; this is the
// second line, for a call that got in anyway.
func forked() bool { return C.p2p_forked_ != 0 }

// failForked reports P2P_EFORK without allocating: in a forked child the Go
// runtime cannot be trusted to collect garbage.
func failForked() C.int {
	setError("p2pnode cannot be used in a process forked from the one that loaded it (its threads were not copied); use it in the parent, or exec a new program")
	return C.P2P_EFORK
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
	if e.poll != nil {
		e.poll.free()
	}
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
