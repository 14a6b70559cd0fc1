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
	"encoding/json"
	"fmt"
	"math"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/secure"
)

// Marshalling between Go and C: strings, bytes and p2p_buf, the sized
// structs' prefixes, and the one table per core enum (the ABI's numbers).

func fillCounters(out *C.p2p_counters, c p2p.Counters) {
	*out = C.p2p_counters{
		sent: C.uint64_t(c.Accepted), received: C.uint64_t(c.Received), receive_errors: C.uint64_t(c.ReceiveErrors),
		accepted: C.uint64_t(c.Accepted), accepted_bytes: C.uint64_t(c.AcceptedBytes),
		written: C.uint64_t(c.Written), written_bytes: C.uint64_t(c.WrittenBytes),
		queued: C.uint64_t(c.Queued), queued_bytes: C.uint64_t(c.QueuedBytes),
		dropped_overflow: C.uint64_t(c.DroppedOverflow), dropped_link_lost: C.uint64_t(c.DroppedLinkLost),
		dropped_stop: C.uint64_t(c.DroppedStop), dropped_bytes: C.uint64_t(c.DroppedBytes),
		refused: C.uint64_t(c.Refused), received_bytes: C.uint64_t(c.ReceivedBytes),
		evicted: C.uint64_t(c.Evicted), handshakes_evicted: C.uint64_t(c.HandshakesEvicted),
		rejected: C.uint64_t(c.Rejected), over_memory: C.uint64_t(c.OverMemory), stalled: C.uint64_t(c.Stalled),
	}
}

// checkCount refuses a count of 8-byte entries that no memory holds.
func checkCount(n C.size_t, what string) C.int {
	if uint64(n) > math.MaxInt/8 {
		return fail(C.P2P_EINVAL, "%s %d is more than memory holds", what, uint64(n))
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

// fillSized copies the library's struct (have bytes, size first) into the
// caller's of size bytes: the common prefix, zeros beyond, and in the size
// field what was filled.
func fillSized(dst, src unsafe.Pointer, size uint64, have C.size_t) {
	n := min(C.size_t(size), have)
	// Copied in Go, not with C.memcpy: src may be Go memory, which memcheck
	// cannot follow from C code.
	copy(unsafe.Slice((*byte)(dst), n), unsafe.Slice((*byte)(src), n))
	if uint64(n) < size {
		clear(unsafe.Slice((*byte)(unsafe.Add(dst, n)), C.size_t(size)-n))
	}
	*(*C.size_t)(dst) = n
}

func fillStats(out *C.p2p_stats, c p2p.Counters) C.int {
	if out == nil || out.size < minStatsSize {
		return fail(C.P2P_EINVAL, "out is NULL or out->size is below sizeof(p2p_stats) of 0.3 (P2P_INIT it)")
	}
	var old C.p2p_counters
	fillCounters(&old, c)
	var s C.p2p_stats
	// p2p_stats is size, then p2p_counters' fields in p2p_counters' order.
	copy(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&s), unsafe.Sizeof(s.size))), C.sizeof_p2p_counters),
		unsafe.Slice((*byte)(unsafe.Pointer(&old)), C.sizeof_p2p_counters))
	s.size = minStatsSize
	fillSized(unsafe.Pointer(out), unsafe.Pointer(&s), uint64(out.size), minStatsSize)
	return C.P2P_OK
}

// fillEvent sets every fixed-size field of c from ev, and its strings to
// "": the callback and the poll paths then point the strings and the
// payload at memory of their own.
func fillEvent(c *C.p2p_event, node *C.p2p_node, ev *p2p.Event) {
	*c = C.p2p_event{}
	c._type = eventCode(ev.Type)
	c.node = node
	empty := &C.p2p_empty_[0]
	c.host, c.peer_id, c.peer_host = empty, empty, empty
	c.sender_id, c.msg_type, c.reason = empty, empty, empty
	if ev.Peer != nil {
		c.peer = C.uint64_t(ev.Peer.Handle())
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
	}
	if ev.Type == p2p.EventReconnectionError {
		c.port = C.int32_t(ev.Port)
		c.trials = C.int32_t(ev.Trials)
	}
}

// The one place where the core's enums become the ABI's numbers: each by
// an explicit table, never by the order of Go constants (the header's
// numbers are frozen; the core's may be reordered).

// eventCodes maps the core's and the secure package's event types.
var eventCodes = map[p2p.EventType]C.int32_t{
	p2p.EventOutboundConnected:      C.P2P_EVENT_OUTBOUND_CONNECTED,
	p2p.EventInboundConnected:       C.P2P_EVENT_INBOUND_CONNECTED,
	p2p.EventOutboundDisconnected:   C.P2P_EVENT_OUTBOUND_DISCONNECTED,
	p2p.EventInboundDisconnected:    C.P2P_EVENT_INBOUND_DISCONNECTED,
	p2p.EventMessage:                C.P2P_EVENT_MESSAGE,
	p2p.EventDisconnectWithOutbound: C.P2P_EVENT_DISCONNECT_WITH_OUTBOUND,
	p2p.EventRequestToStop:          C.P2P_EVENT_REQUEST_TO_STOP,
	p2p.EventReconnectionError:      C.P2P_EVENT_RECONNECTION_ERROR,
	secure.EventSecureMessage:       C.P2P_EVENT_SECURE_MESSAGE,
	secure.EventMessageRejected:     C.P2P_EVENT_MESSAGE_REJECTED,
	secure.EventDiscoveryAnswer:     C.P2P_EVENT_DISCOVERY_ANSWER,
	p2p.EventTopicMessage:           C.P2P_EVENT_TOPIC_MESSAGE,
}

// eventCode is the ABI's number of an event type (0 for one the table
// lacks: a bug caught by capi's tests, never a misnumbered event).
func eventCode(t p2p.EventType) C.int32_t { return eventCodes[t] }

// kindCode maps a message's kind.
func kindCode(k p2p.Kind) C.int32_t {
	switch k {
	case p2p.KindJSON:
		return C.P2P_KIND_JSON
	case p2p.KindText:
		return C.P2P_KIND_TEXT
	}
	return C.P2P_KIND_BYTES
}

// directionCode maps a peer's direction.
func directionCode(d p2p.Direction) C.int32_t {
	if d == p2p.Outbound {
		return C.P2P_OUTBOUND
	}
	return C.P2P_INBOUND
}

// rejectCode maps the reason of a secure node's rejection (secure's
// ReasonCode numbers) onto p2p_reject.
var rejectCodes = [...]C.int32_t{
	0: C.P2P_REJECT_NONE, 1: C.P2P_REJECT_MALFORMED, 2: C.P2P_REJECT_BAD_SIGNATURE,
	3: C.P2P_REJECT_BAD_HASH, 4: C.P2P_REJECT_BAD_MESSAGE_ID, 5: C.P2P_REJECT_KEY_MISMATCH,
	6: C.P2P_REJECT_UNTRUSTED_KEY, 7: C.P2P_REJECT_WEAK_KEY, 8: C.P2P_REJECT_REPLAY,
	9: C.P2P_REJECT_STALE, 10: C.P2P_REJECT_FUTURE,
}

func rejectCode(code int) C.int32_t {
	if code >= 0 && code < len(rejectCodes) {
		return rejectCodes[code]
	}
	return C.P2P_REJECT_MALFORMED
}

// infoBytes presents a peer's info value as bytes: bytes and strings as
// they are, anything else the library stored (the secure node's "ping", a
// float of seconds) as JSON text.
func infoBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(fmt.Sprint(v))
	}
	return b
}
