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
	"context"
	"errors"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/secure"
)

// Poll mode: p2p_node_poll, p2p_node_poll_batch, p2p_node_next and
// p2p_node_reply marshal the events the core's Poll returns (p2p.Node.Poll
// keeps the queue and every rule of when the application has handled an
// event); what they point to lives in the node's arena until the next poll.

// pollArena is the C memory of the last poll's strings and payloads.
type pollArena struct {
	mu    sync.Mutex // one poll at a time: the arena is rewritten by each
	arena *C.char
	n     int
}

// fill writes items into the caller's array, with everything they point to
// copied into the arena (valid until the next poll). With packed,
// the payloads of the messages come first in the arena, back to back, and
// their start and total length are returned.
func (q *pollArena) fill(node *C.p2p_node, items []p2p.Event, out []C.p2p_event, packed bool) (*C.uint8_t, int) {
	size := 0
	for i := range items {
		ev := &items[i]
		size += len(ev.Host) + 1 + len(ev.Message.Data) + 1
		if ev.Peer != nil {
			size += len(ev.Peer.ID()) + len(ev.Peer.Host()) + 2
		}
		if sec := secure.Info(ev); sec != nil {
			size += secureSize(sec)
		}
		if topic, origin, ok := topicOf(ev); ok {
			size += len(topic) + len(origin) + 2
		}
	}
	if q.arena == nil || q.n < size {
		if q.arena != nil {
			C.free(unsafe.Pointer(q.arena))
		}
		q.n = max(size, 4096)
		q.arena = (*C.char)(C.malloc(C.size_t(q.n)))
	}
	arena := unsafe.Slice((*byte)(unsafe.Pointer(q.arena)), q.n)
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
			if ev := &items[i]; carriesData(ev.Type) {
				packedData[i] = put(ev.Message.Data, false)
			}
		}
	}
	packedLen := off
	for i := range items {
		ev := &items[i]
		c := &out[i]
		fillEvent(c, node, ev)
		if ev.Type == p2p.EventReconnectionError {
			c.host = putString(ev.Host)
		}
		if sec := secure.Info(ev); sec != nil {
			fillSecure(c, sec, &arenaAllocator{arena: arena, off: &off})
		}
		if topic, origin, ok := topicOf(ev); ok {
			// For the shim's p2p_ev (p2p_node_next), as in callback mode.
			c.msg_type, c.sender_id = putString(topic), putString(origin)
		}
		if ev.Peer != nil {
			c.peer_id = putString(ev.Peer.ID())
			c.peer_host = putString(ev.Peer.Host())
		}
		if carriesData(ev.Type) {
			if packed {
				c.data = (*C.uint8_t)(packedData[i])
			} else {
				c.data = (*C.uint8_t)(put(ev.Message.Data, true))
			}
		}
	}
	if packedLen == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(q.arena)), packedLen
}

func (q *pollArena) free() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.arena != nil {
		C.free(unsafe.Pointer(q.arena))
		q.arena = nil
	}
}

//export p2pgo_node_poll
func p2pgo_node_poll(h *C.p2p_node, events *C.p2p_event, maxEvents C.size_t, timeoutMS C.int, count *C.size_t) (rc C.int) {
	defer guard(&rc)
	return poll(h, events, maxEvents, timeoutMS, count, nil, nil, false)
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
	return poll(h, events, maxEvents, timeoutMS, count, data, dataLen, false)
}

// poll is p2p_node_poll; with data and dataLen it lays the batch's payloads
// back to back and reports where (p2p_node_poll_batch). Without topics
// (the 0.2 functions, whose p2p_event has no topic) it skips topic messages.
func poll(h *C.p2p_node, events *C.p2p_event, maxEvents C.size_t, timeoutMS C.int, count *C.size_t, data **C.uint8_t, dataLen *C.size_t, topics bool) (rc C.int) {
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
	q := &e.poll
	q.mu.Lock()
	defer q.mu.Unlock()
	ctx, cancel := pollContext(timeoutMS)
	defer cancel()
	evs, err := e.node.Poll(ctx, int(maxEvents))
	for !topics && len(evs) > 0 {
		evs = slices.DeleteFunc(evs, func(ev p2p.Event) bool { return ev.Type == p2p.EventTopicMessage })
		if len(evs) > 0 || ctx.Err() != nil {
			break
		}
		evs, err = e.node.Poll(ctx, int(maxEvents)) // only topic messages: wait on
	}
	if len(evs) > 0 {
		start, n := q.fill(h, evs, unsafe.Slice(events, len(evs)), data != nil)
		*count = C.size_t(len(evs))
		if data != nil {
			*data, *dataLen = start, C.size_t(n)
		}
		return C.P2P_OK
	}
	select {
	case <-e.gone:
		return fail(C.P2P_EHANDLE, "node was freed")
	default:
	}
	if errors.Is(err, p2p.ErrStopped) {
		return fail(C.P2P_ESTOPPED, "node is stopped and every event was taken")
	}
	return C.P2P_OK // the timeout passed
}

// pollContext is the wait of a poll: none for 0, without limit when
// negative, else timeoutMS milliseconds.
func pollContext(timeoutMS C.int) (context.Context, context.CancelFunc) {
	switch {
	case timeoutMS == 0:
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx, cancel
	case timeoutMS < 0:
		return context.Background(), func() {}
	}
	return context.WithTimeout(context.Background(), time.Duration(timeoutMS)*time.Millisecond)
}

// maxPollBatch is the most events one poll takes.
const maxPollBatch = 1 << 20

//export p2pgo_node_reply
func p2pgo_node_reply(h *C.p2p_node, answer C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if e.node.Answer(answer != 0) != nil {
			return fail(C.P2P_ESTATE, "no reconnection question is waiting for an answer")
		}
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
	rc = poll(h, tmp, k, timeoutMS, &n, data, dataLen, true)
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
