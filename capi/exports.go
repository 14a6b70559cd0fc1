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
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
)

// Every function here is documented in include/p2pnode.h, the contract.
// Each one recovers panics (guard) and reports failures with a status code
// and the calling thread's message.

//export p2pgo_node_new
func p2pgo_node_new(host *C.char, port C.int, id *C.char, maxConnections C.int, out **C.p2p_node) (rc C.int) {
	defer guard(&rc)
	cfg, rc := nodeConfig(host, port, id, maxConnections, out)
	if rc != C.P2P_OK {
		return rc
	}
	e := newEntry()
	n, err := p2p.NewWithCallback(cfg, e.onCoreEvent)
	if err != nil {
		return failNew(err)
	}
	e.node = n
	*out = e.register()
	return C.P2P_OK
}

// nodeConfig checks the arguments every node constructor takes.
func nodeConfig(host *C.char, port C.int, id *C.char, maxConnections C.int, out **C.p2p_node) (p2p.Config, C.int) {
	if forked() {
		if out != nil {
			*out = nil
		}
		return p2p.Config{}, failForked()
	}
	if out == nil {
		return p2p.Config{}, fail(C.P2P_EINVAL, "out is NULL")
	}
	*out = nil
	if port < 0 || port > 65535 {
		return p2p.Config{}, fail(C.P2P_EINVAL, "port %d is out of range 0..65535", int(port))
	}
	if maxConnections < 0 {
		return p2p.Config{}, fail(C.P2P_EINVAL, "max_connections %d is negative", int(maxConnections))
	}
	cfg := p2p.Config{Port: int(port), MaxConnections: int(maxConnections), LockEventThread: true}
	// The lengths are measured (up to one byte over the limit) before a
	// string is copied.
	if host != nil {
		if C.strnlen(host, C.P2P_MAX_HOST_LEN+1) > C.P2P_MAX_HOST_LEN {
			return p2p.Config{}, fail(C.P2P_EINVAL, "host is longer than P2P_MAX_HOST_LEN (%d) bytes", C.P2P_MAX_HOST_LEN)
		}
		cfg.Host = C.GoString(host)
	}
	if id != nil {
		if C.strnlen(id, C.P2P_MAX_ID_LEN+1) > C.P2P_MAX_ID_LEN {
			return p2p.Config{}, fail(C.P2P_EINVAL, "id is longer than P2P_MAX_ID_LEN (%d) bytes", C.P2P_MAX_ID_LEN)
		}
		cfg.ID = C.GoString(id)
	}
	return cfg, C.P2P_OK
}

func newEntry() *nodeEntry {
	return &nodeEntry{gone: make(chan struct{}), strs: make(map[uint64]*peerStrings),
		poll: newPollQueue(p2p.DefaultMaxPendingEvents)}
}

// register makes the handle of an entry whose node is made.
func (e *nodeEntry) register() *C.p2p_node {
	e.watch = C.p2p_watch_new_()
	e.key = registry.add(e)
	return (*C.p2p_node)(e.key)
}

// failNew maps the error of a node constructor: bad arguments, or the port.
func failNew(err error) C.int {
	if errors.Is(err, p2p.ErrInvalidArgument) {
		return failErr(err)
	}
	return fail(C.P2P_EBIND, "%v", err)
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

//export p2pgo_node_set_limit
func p2pgo_node_set_limit(h *C.p2p_node, limit C.int, value C.int64_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		v := int64(value)
		if v < 0 {
			return fail(C.P2P_EINVAL, "limit value %d is negative", v)
		}
		f, ok := limitFields[limit]
		if !ok {
			return fail(C.P2P_EINVAL, "unknown limit %d", int(limit))
		}
		if rc := checkLimitValue(limit, f, v); rc != C.P2P_OK {
			return rc
		}
		if limit == C.P2P_LIMIT_MAX_CONNECTIONS {
			if err := e.node.SetMaxConnections(int(v)); err != nil {
				return failErr(err)
			}
			return C.P2P_OK
		}
		l := e.node.Limits()
		switch {
		case f.dur != nil:
			*f.dur(&l) = time.Duration(v) * time.Millisecond
		case f.num != nil:
			*f.num(&l) = int(v)
		default:
			l.OverflowPolicy = p2p.OverflowPolicy(v)
		}
		if err := e.node.SetLimits(l); err != nil {
			if errors.Is(err, p2p.ErrInvalidArgument) {
				return failErr(err)
			}
			return fail(C.P2P_ESTATE, "%v", err)
		}
		if limit == C.P2P_LIMIT_MAX_PENDING_EVENTS {
			e.poll.max = e.node.Limits().MaxPendingEvents
		}
		return C.P2P_OK
	})
}

// limitField finds a p2p_limit in p2p.Limits: a duration (the C value in
// milliseconds), a count, or (neither) the overflow policy.
// P2P_LIMIT_MAX_CONNECTIONS is a count kept by the node itself.
type limitField struct {
	dur func(*p2p.Limits) *time.Duration
	num func(*p2p.Limits) *int
}

var limitFields = map[C.int]limitField{
	C.P2P_LIMIT_MAX_CONNECTIONS:              {num: func(*p2p.Limits) *int { return nil }},
	C.P2P_LIMIT_HANDSHAKE_TIMEOUT_MS:         {dur: func(l *p2p.Limits) *time.Duration { return &l.HandshakeTimeout }},
	C.P2P_LIMIT_DIAL_TIMEOUT_MS:              {dur: func(l *p2p.Limits) *time.Duration { return &l.DialTimeout }},
	C.P2P_LIMIT_MAX_FRAME_SIZE:               {num: func(l *p2p.Limits) *int { return &l.MaxFrameSize }},
	C.P2P_LIMIT_MAX_DECOMPRESSED_SIZE:        {num: func(l *p2p.Limits) *int { return &l.MaxDecompressedSize }},
	C.P2P_LIMIT_MAX_QUEUED_BYTES:             {num: func(l *p2p.Limits) *int { return &l.MaxQueuedBytes }},
	C.P2P_LIMIT_SEND_TIMEOUT_MS:              {dur: func(l *p2p.Limits) *time.Duration { return &l.SendTimeout }},
	C.P2P_LIMIT_RECONNECT_INTERVAL_MS:        {dur: func(l *p2p.Limits) *time.Duration { return &l.ReconnectInterval }},
	C.P2P_LIMIT_MAX_PENDING_EVENTS:           {num: func(l *p2p.Limits) *int { return &l.MaxPendingEvents }},
	C.P2P_LIMIT_OVERFLOW_POLICY:              {},
	C.P2P_LIMIT_MAX_QUEUED_BYTES_TOTAL:       {num: func(l *p2p.Limits) *int { return &l.MaxQueuedBytesTotal }},
	C.P2P_LIMIT_MAX_QUEUED_BYTES_PER_ADDRESS: {num: func(l *p2p.Limits) *int { return &l.MaxQueuedBytesPerAddress }},
	C.P2P_LIMIT_STOP_TIMEOUT_MS:              {dur: func(l *p2p.Limits) *time.Duration { return &l.StopTimeout }},
	C.P2P_LIMIT_MAX_PENDING_HANDSHAKES:       {num: func(l *p2p.Limits) *int { return &l.MaxPendingHandshakes }},
	C.P2P_LIMIT_MAX_PENDING_HANDSHAKES_PER_ADDRESS: {num: func(l *p2p.Limits) *int {
		return &l.MaxPendingHandshakesPerAddress
	}},
	C.P2P_LIMIT_IDLE_EVICTION_MS:              {dur: func(l *p2p.Limits) *time.Duration { return &l.IdleEviction }},
	C.P2P_LIMIT_MAX_PENDING_BYTES:             {num: func(l *p2p.Limits) *int { return &l.MaxPendingBytes }},
	C.P2P_LIMIT_MAX_PENDING_BYTES_PER_ADDRESS: {num: func(l *p2p.Limits) *int { return &l.MaxPendingBytesPerAddress }},
}

// maxMS is the largest millisecond value a time.Duration holds.
const maxMS = int64(math.MaxInt64 / int64(time.Millisecond))

// checkLimitValue refuses a value the core cannot hold: a duration beyond
// what time.Duration counts, a count beyond int, an unknown overflow
// policy. (Negative values are refused before.) Nothing is ever silently
// cut to 0 or the default.
func checkLimitValue(limit C.int, f limitField, v int64) C.int {
	switch {
	case f.dur != nil:
		if v > maxMS {
			return fail(C.P2P_EINVAL, "limit %d: %d ms is over the %d ms a duration can hold", int(limit), v, maxMS)
		}
	case f.num != nil:
		if uint64(v) > uint64(math.MaxInt) {
			return fail(C.P2P_EINVAL, "limit %d: %d is over the %d this platform's int holds", int(limit), v, math.MaxInt)
		}
	default:
		if v > C.P2P_OVERFLOW_DISCONNECT {
			return fail(C.P2P_EINVAL, "limit %d: %d is not a p2p_overflow_policy (P2P_OVERFLOW_WAIT .. P2P_OVERFLOW_DISCONNECT)", int(limit), v)
		}
	}
	return C.P2P_OK
}

//export p2pgo_node_get_limit
func p2pgo_node_get_limit(h *C.p2p_node, limit C.int, value *C.int64_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if value == nil {
			return fail(C.P2P_EINVAL, "value is NULL")
		}
		f, ok := limitFields[limit]
		if !ok {
			return fail(C.P2P_EINVAL, "unknown limit %d", int(limit))
		}
		l := e.node.Limits()
		var v int64
		switch {
		case limit == C.P2P_LIMIT_MAX_CONNECTIONS:
			v = int64(e.node.MaxConnections())
		case f.dur != nil:
			v = f.dur(&l).Milliseconds()
		case f.num != nil:
			v = int64(*f.num(&l))
		default:
			v = int64(l.OverflowPolicy)
		}
		*value = C.int64_t(v)
		return C.P2P_OK
	})
}

//export p2pgo_node_set_debug
func p2pgo_node_set_debug(h *C.p2p_node, on C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		e.node.SetDebug(on != 0)
		return C.P2P_OK
	})
}

//export p2pgo_node_get_debug
func p2pgo_node_get_debug(h *C.p2p_node, on *C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if on == nil {
			return fail(C.P2P_EINVAL, "on is NULL")
		}
		*on = 0
		if e.node.Debug() {
			*on = 1
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_start
func p2pgo_node_start(h *C.p2p_node) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.started {
			return failErr(e.node.Start()) // already started, or stopped
		}
		if e.cb != nil && e.ev == nil {
			e.ev = (*C.p2p_event)(C.calloc(1, C.sizeof_p2p_event))
		}
		start := e.node.Start
		if e.sec != nil {
			start = e.sec.Start // which needs a key
		}
		if err := start(); err != nil {
			return failSecure(err)
		}
		// The limits are fixed from now on: sends check against a copy.
		e.payloadMax.Store(payloadMax(e.node.Limits()))
		e.started = true
		return C.P2P_OK
	})
}

//export p2pgo_node_stop
func p2pgo_node_stop(h *C.p2p_node) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		e.poll.stop()
		if e.onPollThread() {
			// The poller must come back for the node's last events.
			e.node.RequestStop()
			return C.P2P_OK
		}
		if e.node.Stop(); !e.node.InHandler() {
			e.awaitEventThread()
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_request_stop
func p2pgo_node_request_stop(h *C.p2p_node) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		e.node.RequestStop()
		return C.P2P_OK
	})
}

// threadExitWait bounds how long stopping waits for the event thread to be
// gone after the node has stopped (it normally takes microseconds).
const threadExitWait = 2000

// awaitEventThread waits until the node's event thread has ended, so that a
// host runtime that tracks threads (mono) does not wait for it at exit.
func (e *nodeEntry) awaitEventThread() {
	select {
	case <-e.node.Done():
	default:
		return
	}
	e.mu.Lock()
	w := e.watch
	if w == nil {
		e.mu.Unlock()
		return
	}
	e.waiters++
	e.mu.Unlock()
	C.p2p_watch_wait_(w, threadExitWait)
	e.mu.Lock()
	e.waiters--
	// A free that ran meanwhile left the record to the last waiter.
	if e.waiters == 0 && e.freed && e.released {
		C.p2p_watch_release_(w)
		e.watch = nil
	}
	e.mu.Unlock()
}

//export p2pgo_node_free
func p2pgo_node_free(h *C.p2p_node) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		e.mu.Lock()
		if e.freed {
			e.mu.Unlock()
			return fail(C.P2P_EHANDLE, "node was freed")
		}
		e.freed = true
		close(e.gone)
		e.mu.Unlock()
		registry.bury(e.key)
		// Once gone is closed no event waits for the application any more,
		// so stopping needs no poller: from the polling thread too, free
		// stops the node and releases it before it returns. Only from the
		// node's own callback does Stop return early.
		_ = e.node.Stop()
		select {
		case <-e.node.Done():
			e.awaitEventThread()
			e.release()
		default:
			// Freed from its own callback: release once the event thread ends.
			go func() {
				<-e.node.Done()
				e.awaitEventThread()
				e.release()
			}()
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_id
func p2pgo_node_id(h *C.p2p_node, buf *C.char, n C.size_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		return cString(e.node.ID(), buf, n)
	})
}

//export p2pgo_node_host
func p2pgo_node_host(h *C.p2p_node, buf *C.char, n C.size_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		return cString(e.node.Host(), buf, n)
	})
}

//export p2pgo_node_port
func p2pgo_node_port(h *C.p2p_node, port *C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if port == nil {
			return fail(C.P2P_EINVAL, "port is NULL")
		}
		*port = C.int(e.node.Port())
		return C.P2P_OK
	})
}

//export p2pgo_node_counters
func p2pgo_node_counters(h *C.p2p_node, out *C.p2p_counters) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if out == nil {
			return fail(C.P2P_EINVAL, "out is NULL")
		}
		fillCounters(out, e.node.Counters())
		return C.P2P_OK
	})
}

//export p2pgo_peer_counters
func p2pgo_peer_counters(h *C.p2p_node, peer C.uint64_t, out *C.p2p_counters) C.int {
	return withPeer(h, peer, func(p *p2p.Peer) C.int {
		if out == nil {
			return fail(C.P2P_EINVAL, "out is NULL")
		}
		fillCounters(out, p.Counters())
		return C.P2P_OK
	})
}

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

//export p2pgo_node_peers
func p2pgo_node_peers(h *C.p2p_node, direction C.int, peers *C.uint64_t, capacity C.size_t, count *C.size_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if count == nil || peers == nil && capacity > 0 {
			return fail(C.P2P_EINVAL, "count is NULL, or peers is NULL with a capacity")
		}
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
		*count = C.size_t(len(list))
		// Only the entries written are viewed: any size_t is a valid capacity.
		if k := fit(capacity, len(list)); k > 0 {
			out := unsafe.Slice(peers, k)
			for i := range out {
				out[i] = C.uint64_t(list[i].Handle())
			}
		}
		if uint64(len(list)) > uint64(capacity) {
			return fail(C.P2P_ERANGE, "%d peers do not fit in %d", len(list), uint64(capacity))
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_connect
func p2pgo_node_connect(h *C.p2p_node, host *C.char, port C.int, reconnect C.int, peer *C.uint64_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if peer != nil {
			*peer = 0
		}
		if host == nil {
			return fail(C.P2P_EINVAL, "host is NULL")
		}
		if C.strnlen(host, C.P2P_MAX_HOST_LEN+1) > C.P2P_MAX_HOST_LEN {
			return fail(C.P2P_EINVAL, "host is longer than P2P_MAX_HOST_LEN (%d) bytes", C.P2P_MAX_HOST_LEN)
		}
		p, err := e.node.Connect(C.GoString(host), int(port), reconnect != 0)
		if p != nil && peer != nil {
			*peer = C.uint64_t(p.Handle())
		}
		if err != nil {
			return failErr(err)
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_disconnect
func p2pgo_node_disconnect(h *C.p2p_node, peer C.uint64_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		p, rc := e.peerOf(peer)
		if rc != C.P2P_OK {
			return rc
		}
		if e.onPollThread() {
			e.poll.ownCalls.Add(1)
			defer e.poll.ownCalls.Add(-1)
		}
		if err := e.node.Disconnect(p); err != nil {
			return failErr(err)
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_send
func p2pgo_node_send(h *C.p2p_node, peer C.uint64_t, data unsafe.Pointer, n C.size_t, compression C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if data == nil && n > 0 {
			return fail(C.P2P_EINVAL, "data is NULL with a length of %d", uint64(n))
		}
		p, c, rc := e.sendTarget(peer, compression)
		if rc != C.P2P_OK {
			return rc
		}
		if rc := e.checkPayload(n, -1); rc != C.P2P_OK {
			return rc
		}
		if err := p.Send(goBytes(data, n), c); err != nil {
			return failErr(err)
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_send_batch
func p2pgo_node_send_batch(h *C.p2p_node, peer C.uint64_t, data unsafe.Pointer, lens *C.size_t, count C.size_t, compression C.int, sent *C.size_t) (rc C.int) {
	defer guard(&rc)
	if sent != nil {
		*sent = 0
	}
	e, rc := lookup(h)
	if rc != C.P2P_OK {
		return rc
	}
	if count > 0 && lens == nil {
		return fail(C.P2P_EINVAL, "lens is NULL with a count of %d", uint64(count))
	}
	p, c, rc := e.sendTarget(peer, compression)
	if rc != C.P2P_OK {
		return rc
	}
	if count == 0 {
		return C.P2P_OK
	}
	if rc := checkCount(count, "count"); rc != C.P2P_OK {
		return rc
	}
	ls := unsafe.Slice(lens, int(count))
	// Every length is checked before a byte is read: the batch is cut
	// before the first message over the limit, whose code is returned once
	// those before it are queued.
	var total uint64
	tooBig := C.int(C.P2P_OK)
	for i, l := range ls {
		if rc := e.checkPayload(l, i); rc != C.P2P_OK {
			ls, tooBig = ls[:i], rc
			break
		}
		total += uint64(l)
		if total < uint64(l) || total > 1<<62 {
			return fail(C.P2P_EINVAL, "the lengths add up to more than memory holds")
		}
	}
	if data == nil && total > 0 {
		return fail(C.P2P_EINVAL, "data is NULL with %d bytes to send", total)
	}
	// The payloads are views of the caller's memory for the length of the
	// call; the queue copies them.
	all := goBytes(data, C.size_t(total))
	payloads := make([][]byte, len(ls))
	off := 0
	for i, l := range ls {
		payloads[i] = all[off : off+int(l) : off+int(l)]
		off += int(l)
	}
	k, err := p.SendMany(payloads, c)
	if sent != nil {
		*sent = C.size_t(k)
	}
	if err != nil {
		return failErr(err)
	}
	if tooBig != C.P2P_OK {
		// The message was set by checkPayload; SendMany set none.
		return tooBig
	}
	return C.P2P_OK
}

// checkPayload refuses, before any byte of it is read or copied, a payload
// no frame can carry: longer than both the frame limit and the decompressed
// limit (a compressed frame inflates to at most the latter on a peer with
// our limits; an uncompressed one is as long as its payload).
// i is the message's index in a batch, or -1.
func (e *nodeEntry) checkPayload(n C.size_t, i int) C.int {
	limit := e.payloadMax.Load()
	if limit == 0 {
		// Not started: the limits may still change, so read them.
		limit = payloadMax(e.node.Limits())
	}
	if uint64(n) <= limit {
		return C.P2P_OK
	}
	what := ""
	if i >= 0 {
		what = fmt.Sprintf("message %d of the batch: ", i)
	}
	return fail(C.P2P_ETOOBIG, "%s%d bytes are over the limit of %d (P2P_LIMIT_MAX_FRAME_SIZE, P2P_LIMIT_MAX_DECOMPRESSED_SIZE)", what, uint64(n), limit)
}

// payloadMax is the longest payload a frame can carry under l: the frame
// limit, or the decompressed limit for a payload that compresses.
func payloadMax(l p2p.Limits) uint64 {
	return uint64(max(l.MaxFrameSize, l.MaxDecompressedSize))
}

//export p2pgo_node_broadcast
func p2pgo_node_broadcast(h *C.p2p_node, data unsafe.Pointer, n C.size_t, exclude *C.uint64_t, nExclude C.size_t, compression C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if data == nil && n > 0 || exclude == nil && nExclude > 0 {
			return fail(C.P2P_EINVAL, "data or exclude is NULL with a length")
		}
		if rc := checkCount(nExclude, "n_exclude"); rc != C.P2P_OK {
			return rc
		}
		c, rc := compressionOf(compression)
		if rc != C.P2P_OK {
			return rc
		}
		if rc := e.checkPayload(n, -1); rc != C.P2P_OK {
			return rc
		}
		if err := e.node.SendToNodes(goBytes(data, n), peersOf(e.node, exclude, nExclude), c); err != nil {
			return failErr(err)
		}
		return C.P2P_OK
	})
}

//export p2pgo_peer_id
func p2pgo_peer_id(h *C.p2p_node, peer C.uint64_t, buf *C.char, n C.size_t) C.int {
	return withPeer(h, peer, func(p *p2p.Peer) C.int {
		return cString(p.ID(), buf, n)
	})
}

//export p2pgo_peer_host
func p2pgo_peer_host(h *C.p2p_node, peer C.uint64_t, buf *C.char, n C.size_t) C.int {
	return withPeer(h, peer, func(p *p2p.Peer) C.int {
		return cString(p.Host(), buf, n)
	})
}

//export p2pgo_peer_port
func p2pgo_peer_port(h *C.p2p_node, peer C.uint64_t, port *C.int) C.int {
	return withPeer(h, peer, func(p *p2p.Peer) C.int {
		if port == nil {
			return fail(C.P2P_EINVAL, "port is NULL")
		}
		*port = C.int(p.Port())
		return C.P2P_OK
	})
}

//export p2pgo_peer_direction
func p2pgo_peer_direction(h *C.p2p_node, peer C.uint64_t, direction *C.int) C.int {
	return withPeer(h, peer, func(p *p2p.Peer) C.int {
		if direction == nil {
			return fail(C.P2P_EINVAL, "direction is NULL")
		}
		*direction = C.int(directionCode(p.Direction()))
		return C.P2P_OK
	})
}

//export p2pgo_peer_set_info
func p2pgo_peer_set_info(h *C.p2p_node, peer C.uint64_t, key *C.char, value unsafe.Pointer, n C.size_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		p, rc := e.peerOf(peer)
		if rc != C.P2P_OK {
			return rc
		}
		if key == nil || value == nil && n > 0 {
			return fail(C.P2P_EINVAL, "key is NULL, or value is NULL with a length")
		}
		// The value is copied: its length is checked first, so that no
		// length can make the copy fail (Go's out of memory is fatal).
		if l := e.infoMax(); uint64(n) > l {
			return fail(C.P2P_ETOOBIG, "info value of %d bytes is over the limit of %d (P2P_LIMIT_MAX_FRAME_SIZE)", uint64(n), l)
		}
		p.SetInfo(C.GoString(key), append([]byte(nil), goBytes(value, n)...))
		return C.P2P_OK
	})
}

//export p2pgo_peer_get_info
func p2pgo_peer_get_info(h *C.p2p_node, peer C.uint64_t, key *C.char, buf unsafe.Pointer, capacity C.size_t, n *C.size_t) C.int {
	return withPeer(h, peer, func(p *p2p.Peer) C.int {
		if key == nil || buf == nil && capacity > 0 {
			return fail(C.P2P_EINVAL, "key is NULL, or buf is NULL with a capacity")
		}
		k := C.GoString(key)
		v, ok := p.Info(k)
		if !ok {
			return fail(C.P2P_ENOTFOUND, "no info %q on peer %d", k, uint64(peer))
		}
		b := infoBytes(v)
		if n != nil {
			*n = C.size_t(len(b))
		}
		copy(goBytes(buf, C.size_t(fit(capacity, len(b)))), b)
		if uint64(len(b)) > uint64(capacity) {
			return fail(C.P2P_ERANGE, "info %q has %d bytes, buffer %d", k, len(b), uint64(capacity))
		}
		return C.P2P_OK
	})
}

// checkCount refuses a count of 8-byte entries that no memory holds.
func checkCount(n C.size_t, what string) C.int {
	if uint64(n) > math.MaxInt/8 {
		return fail(C.P2P_EINVAL, "%s %d is more than memory holds", what, uint64(n))
	}
	return C.P2P_OK
}

// fit is how many of n items fit in a caller's buffer of capacity items:
// any size_t is a valid capacity, and only what is written is viewed.
func fit(capacity C.size_t, n int) int {
	if uint64(capacity) < uint64(n) {
		return int(capacity)
	}
	return n
}

// infoMax is the longest value p2p_peer_set_info takes: the frame limit.
func (e *nodeEntry) infoMax() uint64 { return uint64(e.node.Limits().MaxFrameSize) }

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

// sendTarget checks a send's compression, then finds its peer.
func (e *nodeEntry) sendTarget(peer C.uint64_t, compression C.int) (*p2p.Peer, p2p.Compression, C.int) {
	c, rc := compressionOf(compression)
	if rc != C.P2P_OK {
		return nil, c, rc
	}
	p, rc := e.peerOf(peer)
	return p, c, rc
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
