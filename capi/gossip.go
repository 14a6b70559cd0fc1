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
	"bytes"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
)

// The network layer's functions (0.4, issue 21): discovery, known peers and
// topic gossip, documented in include/p2pnode.h.

//export p2pgo_node_discover
func p2pgo_node_discover(h *C.p2p_node, targetPeers C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if targetPeers < 0 {
			return fail(C.P2P_EINVAL, "target_peers %d is negative", int(targetPeers))
		}
		if err := e.node.Discover(int(targetPeers)); err != nil {
			return failErr(err)
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_known_peers_buf
func p2pgo_node_known_peers_buf(h *C.p2p_node, out *C.p2p_buf, count *C.size_t) C.int {
	if count != nil {
		*count = 0
	}
	return withNodeBuf(h, out, func(e *nodeEntry) C.int {
		if count == nil {
			return fail(C.P2P_EINVAL, "count is NULL")
		}
		known := e.node.KnownPeers()
		// The entries first, then their strings (id NUL host NUL each).
		entry := int(C.sizeof_p2p_peer)
		size := entry * len(known)
		for _, k := range known {
			size += len(k.ID) + len(k.Host) + 2
		}
		b := make([]byte, size)
		rc := bufOut(out, b)
		if rc != C.P2P_OK {
			return rc
		}
		base := unsafe.Pointer(out.data)
		mem := unsafe.Slice((*byte)(base), size)
		off := entry * len(known)
		put := func(s string) (*C.char, C.size_t) {
			p := (*C.char)(unsafe.Add(base, off))
			off += copy(mem[off:], s) + 1 // the NUL is there: b was zeroed
			return p, C.size_t(len(s))
		}
		for i, k := range known {
			f := (*C.p2p_peer)(unsafe.Add(base, i*entry))
			f.size = C.sizeof_p2p_peer
			f.id, f.id_len = put(k.ID)
			f.host, f.host_len = put(k.Host)
			f.port = C.int32_t(k.Port)
			f.direction = C.P2P_OUTBOUND
		}
		*count = C.size_t(len(known))
		return C.P2P_OK
	})
}

// topicArg copies a topic argument, checked before a byte is read. Topics
// carry no NUL byte: the event hands them on as C strings too.
func topicArg(topic *C.char, n C.size_t) (string, C.int) {
	if topic == nil {
		return "", fail(C.P2P_EINVAL, "topic is NULL")
	}
	if n == 0 || n > C.P2P_MAX_TOPIC_LEN {
		return "", fail(C.P2P_EINVAL, "topic_len %d is not in 1..P2P_MAX_TOPIC_LEN (%d)", uint64(n), C.P2P_MAX_TOPIC_LEN)
	}
	s := C.GoStringN(topic, C.int(n))
	if bytes.IndexByte([]byte(s), 0) >= 0 {
		return "", fail(C.P2P_EINVAL, "topic holds a NUL byte")
	}
	return s, C.P2P_OK
}

//export p2pgo_node_subscribe
func p2pgo_node_subscribe(h *C.p2p_node, topic *C.char, n C.size_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		t, rc := topicArg(topic, n)
		if rc != C.P2P_OK {
			return rc
		}
		if err := e.node.Subscribe(t); err != nil {
			return failErr(err)
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_unsubscribe
func p2pgo_node_unsubscribe(h *C.p2p_node, topic *C.char, n C.size_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		t, rc := topicArg(topic, n)
		if rc != C.P2P_OK {
			return rc
		}
		if err := e.node.Unsubscribe(t); err != nil {
			return failErr(err)
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_publish
func p2pgo_node_publish(h *C.p2p_node, topic *C.char, n C.size_t, data unsafe.Pointer, length C.size_t, compression C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if compression != 0 {
			return fail(C.P2P_EINVAL, "compression %d: reserved, must be 0", int(compression))
		}
		t, rc := topicArg(topic, n)
		if rc != C.P2P_OK {
			return rc
		}
		if data == nil && length > 0 {
			return fail(C.P2P_EINVAL, "data is NULL")
		}
		if rc := e.checkPayload(length, -1); rc != C.P2P_OK {
			return rc
		}
		if err := e.node.Publish(t, C.GoBytes(data, C.int(length))); err != nil { // C.int: checkPayload bounds it
			return failErr(err)
		}
		return C.P2P_OK
	})
}

// topicOf is what a topic message event carries beyond a message.
func topicOf(ev *p2p.Event) (topic, origin string, ok bool) {
	if ev.Type != p2p.EventTopicMessage {
		return "", "", false
	}
	return ev.Topic, ev.Origin, true
}
