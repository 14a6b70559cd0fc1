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
	"strconv"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
)

// The 0.3 functions that hand out library-owned memory (p2p_buf) and fill
// sized structs, documented in include/p2pnode.h. p2p_buf_free and the name
// functions are C (shim.c): they never enter the Go runtime.

// Sizes of the 0.3 structs as 0.3 defines them: a caller's size below
// these is refused. They never change; later fields grow the structs.
const (
	minPeerSize  = C.sizeof_p2p_peer
	minEvSize    = C.sizeof_p2p_ev
	minStatsSize = C.sizeof_p2p_stats
	minOptsSize  = C.sizeof_p2p_secure_opts
)

// maxNextBatch is the most events one p2p_node_next takes.
const maxNextBatch = 1 << 16

// bufOut hands b to the caller in *out: C memory of len(b)+1 bytes, the
// last one NUL. out is checked by the caller (checkBuf).
func bufOut(out *C.p2p_buf, b []byte) C.int {
	p := (*C.uint8_t)(C.malloc(C.size_t(len(b) + 1)))
	if p == nil {
		return fail(C.P2P_EINTERNAL, "out of C memory for %d bytes", len(b)+1)
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(p)), len(b)+1)
	copy(dst, b)
	dst[len(b)] = 0
	out.data, out.len = p, C.size_t(len(b))
	return C.P2P_OK
}

// checkBuf refuses a NULL out and clears the caller's struct, so that a
// failure leaves {NULL, 0}.
func checkBuf(out *C.p2p_buf) C.int {
	if out == nil {
		return fail(C.P2P_EINVAL, "out is NULL")
	}
	out.data, out.len = nil, 0
	return C.P2P_OK
}

// withBuf runs f after checkBuf, guarded, for functions without a node.
func withBuf(out *C.p2p_buf, f func() C.int) (rc C.int) {
	defer guard(&rc)
	if forked() {
		return failForked()
	}
	if rc := checkBuf(out); rc != C.P2P_OK {
		return rc
	}
	return f()
}

// withNodeBuf is withNode after checkBuf (out is cleared even for a bad handle).
func withNodeBuf(h *C.p2p_node, out *C.p2p_buf, f func(e *nodeEntry) C.int) C.int {
	if rc := checkBuf(out); rc != C.P2P_OK {
		return rc
	}
	return withNode(h, f)
}

//export p2pgo_node_id_buf
func p2pgo_node_id_buf(h *C.p2p_node, out *C.p2p_buf) C.int {
	return withNodeBuf(h, out, func(e *nodeEntry) C.int { return bufOut(out, []byte(e.node.ID())) })
}

//export p2pgo_node_host_buf
func p2pgo_node_host_buf(h *C.p2p_node, out *C.p2p_buf) C.int {
	return withNodeBuf(h, out, func(e *nodeEntry) C.int { return bufOut(out, []byte(e.node.Host())) })
}

//export p2pgo_node_peers_buf
func p2pgo_node_peers_buf(h *C.p2p_node, direction C.int, out *C.p2p_buf) C.int {
	return withNodeBuf(h, out, func(e *nodeEntry) C.int {
		var list []*p2p.Peer
		switch direction {
		case C.P2P_INBOUND:
			list = e.node.Inbound()
		case C.P2P_OUTBOUND:
			list = e.node.Outbound()
		case C.P2P_ALL:
			list = e.node.All()
		default:
			return fail(C.P2P_EINVAL, "direction %d is not P2P_INBOUND, P2P_OUTBOUND or P2P_ALL", int(direction))
		}
		b := make([]byte, 8*len(list))
		for i, p := range list {
			*(*uint64)(unsafe.Pointer(&b[8*i])) = p.Handle()
		}
		return bufOut(out, b)
	})
}

//export p2pgo_peer_get_info_buf
func p2pgo_peer_get_info_buf(h *C.p2p_node, peer C.uint64_t, key *C.char, out *C.p2p_buf) C.int {
	if rc := checkBuf(out); rc != C.P2P_OK {
		return rc
	}
	return withPeer(h, peer, func(p *p2p.Peer) C.int {
		if key == nil {
			return fail(C.P2P_EINVAL, "key is NULL")
		}
		k := C.GoString(key)
		v, ok := p.Info(k)
		if !ok {
			return fail(C.P2P_ENOTFOUND, "no info %q on peer %d", k, uint64(peer))
		}
		return bufOut(out, infoBytes(v))
	})
}

//export p2pgo_peer_facts
func p2pgo_peer_facts(h *C.p2p_node, peer C.uint64_t, out *C.p2p_peer) C.int {
	if out == nil || out.size < minPeerSize {
		return fail(C.P2P_EINVAL, "out is NULL or out->size is below sizeof(p2p_peer) of 0.3 (P2P_INIT it)")
	}
	return withPeer(h, peer, func(p *p2p.Peer) C.int {
		id, host := p.ID(), p.Host()
		// id and host live in one block: id, NUL, host, NUL.
		var mem C.p2p_buf
		if rc := bufOut(&mem, []byte(id+"\x00"+host)); rc != C.P2P_OK {
			return rc
		}
		var f C.p2p_peer
		f.size = minPeerSize
		f.peer = C.uint64_t(p.Handle())
		f.id = (*C.char)(unsafe.Pointer(mem.data))
		f.id_len = C.size_t(len(id))
		f.host = (*C.char)(unsafe.Add(unsafe.Pointer(mem.data), len(id)+1))
		f.host_len = C.size_t(len(host))
		f.port = C.int32_t(p.Port())
		f.direction = directionCode(p.Direction())
		f.mem = mem
		fillSized(unsafe.Pointer(out), unsafe.Pointer(&f), uint64(out.size), minPeerSize)
		return C.P2P_OK
	})
}

// fillSized copies the library's struct (have bytes, size first) into the
// caller's of size bytes: the common prefix, zeros beyond, and in the size
// field what was filled.
func fillSized(dst, src unsafe.Pointer, size uint64, have C.size_t) {
	n := min(C.size_t(size), have)
	C.memcpy(dst, src, n)
	if uint64(n) < size {
		C.memset(unsafe.Add(dst, n), 0, C.size_t(size)-n)
	}
	*(*C.size_t)(dst) = n
}

//export p2pgo_peer_ping
func p2pgo_peer_ping(h *C.p2p_node, peer C.uint64_t, seconds *C.double) C.int {
	return withPeer(h, peer, func(p *p2p.Peer) C.int {
		if seconds == nil {
			return fail(C.P2P_EINVAL, "seconds is NULL")
		}
		v, ok := p.Info("ping")
		if !ok {
			return fail(C.P2P_ENOTFOUND, "no ping measured for peer %d", uint64(peer))
		}
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		default:
			var err error
			if f, err = strconv.ParseFloat(string(infoBytes(v)), 64); err != nil {
				return fail(C.P2P_EINVAL, "the peer's info \"ping\" is not a number: %v", err)
			}
		}
		*seconds = C.double(f)
		return C.P2P_OK
	})
}

//export p2pgo_node_stats
func p2pgo_node_stats(h *C.p2p_node, out *C.p2p_stats) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		return fillStats(out, e.node.Counters())
	})
}

//export p2pgo_peer_stats
func p2pgo_peer_stats(h *C.p2p_node, peer C.uint64_t, out *C.p2p_stats) C.int {
	return withPeer(h, peer, func(p *p2p.Peer) C.int {
		return fillStats(out, p.Counters())
	})
}

func fillStats(out *C.p2p_stats, c p2p.Counters) C.int {
	if out == nil || out.size < minStatsSize {
		return fail(C.P2P_EINVAL, "out is NULL or out->size is below sizeof(p2p_stats) of 0.3 (P2P_INIT it)")
	}
	var old C.p2p_counters
	fillCounters(&old, c)
	var s C.p2p_stats
	// p2p_stats is size, then p2p_counters' fields in p2p_counters' order.
	C.memcpy(unsafe.Add(unsafe.Pointer(&s), unsafe.Sizeof(s.size)), unsafe.Pointer(&old), C.sizeof_p2p_counters)
	s.size = minStatsSize
	fillSized(unsafe.Pointer(out), unsafe.Pointer(&s), uint64(out.size), minStatsSize)
	return C.P2P_OK
}

//export p2pgo_secure_node_create
func p2pgo_secure_node_create(host *C.char, port C.int, id *C.char, maxConnections C.int, opts *C.p2p_secure_opts, out **C.p2p_node) (rc C.int) {
	defer guard(&rc)
	if opts == nil {
		return p2pgo_secure_node_new(host, port, id, maxConnections, nil, out)
	}
	if opts.size < minOptsSize {
		if out != nil {
			*out = nil
		}
		return fail(C.P2P_EINVAL, "opts->size is below sizeof(p2p_secure_opts) of 0.3 (P2P_INIT it)")
	}
	cfg := C.p2p_secure_config{
		key_policy: opts.key_policy, min_key_bits: opts.min_key_bits,
		replay_window_ms: opts.replay_window_ms, max_clock_skew_ms: opts.max_clock_skew_ms,
		max_pinned_keys: opts.max_pinned_keys,
	}
	return p2pgo_secure_node_new(host, port, id, maxConnections, &cfg, out)
}

//export p2pgo_node_set_handler
func p2pgo_node_set_handler(h *C.p2p_node, fn C.p2p_ev_fn, userData unsafe.Pointer) C.int {
	return setCallback(h, nil, fn, userData)
}

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
