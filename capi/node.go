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
	"strconv"
	"time"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
)

// The node's functions (p2p_node_*, p2p_peer_*): life, facts, connections,
// messages and peers, documented in include/p2pnode.h.

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
	// Without a callback at start, the events go to the core's Poll.
	_ = n.EnablePolling()
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
	cfg := p2p.Config{Port: int(port), MaxConnections: int(maxConnections), LockEventThread: true,
		CallerID: threadSelf}
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

//export p2pgo_node_set_limit
func p2pgo_node_set_limit(h *C.p2p_node, limit C.int, value C.int64_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		v := int64(value)
		if v < 0 {
			return fail(C.P2P_EINVAL, "limit value %d is negative", v)
		}
		if limit == C.P2P_LIMIT_ENCRYPTION {
			return setEncryption(e, v)
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
	// 0.4 (P2P_LIMIT_ENCRYPTION is the node's mode, not a limit: setEncryption).
	C.P2P_LIMIT_HEARTBEAT_INTERVAL_MS: {dur: func(l *p2p.Limits) *time.Duration { return &l.HeartbeatInterval }},
	C.P2P_LIMIT_HEARTBEAT_TIMEOUT_MS:  {dur: func(l *p2p.Limits) *time.Duration { return &l.HeartbeatTimeout }},
	C.P2P_LIMIT_NEGOTIATION_WAIT_MS:   {dur: func(l *p2p.Limits) *time.Duration { return &l.NegotiationWait }},
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
		if limit == C.P2P_LIMIT_ENCRYPTION {
			*value = C.int64_t(encryptionCode(e.node.Encryption()))
			return C.P2P_OK
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
		if e.cb != nil && e.sec == nil {
			// Messages reach the callback in batches, one cgo call each
			// (onCoreBatch); a secure node's go through its own checks.
			// It fails only for a node that Start refuses too (stopped),
			// whose error Start gives.
			_ = e.node.SetBatchFunc(e.onCoreBatch)
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
		if e.node.IsPoller() {
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
	if e.waiters == 0 && e.freed.Load() && e.released {
		C.p2p_watch_release_(w)
		e.watch = nil
	}
	e.mu.Unlock()
}

//export p2pgo_node_free
func p2pgo_node_free(h *C.p2p_node) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		e.mu.Lock()
		if e.freed.Load() {
			e.mu.Unlock()
			return fail(C.P2P_EHANDLE, "node was freed")
		}
		e.freed.Store(true)
		close(e.gone)
		if e.cb != nil {
			// A batch of callbacks under way stops before its next event.
			C.p2p_callback_gone_(e.cb)
		}
		e.mu.Unlock()
		e.node.StopPolling()
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

// peersIn lists the node's peers of a p2p_direction.
func peersIn(node *p2p.Node, direction C.int) ([]*p2p.Peer, C.int) {
	switch direction {
	case C.P2P_INBOUND:
		return node.Inbound(), C.P2P_OK
	case C.P2P_OUTBOUND:
		return node.Outbound(), C.P2P_OK
	case C.P2P_ALL:
		return node.All(), C.P2P_OK
	}
	return nil, fail(C.P2P_EINVAL, "direction %d is not P2P_INBOUND, P2P_OUTBOUND or P2P_ALL", int(direction))
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
		if err := e.node.Disconnect(p); err != nil {
			return failErr(err)
		}
		return C.P2P_OK
	})
}

// p2pgo_node_send is the hot path of one message per call: the handle and
// the peer come from lock-free caches (handles.find, peerOf), so that a
// send takes no lock before the peer's queue.
//
//export p2pgo_node_send
func p2pgo_node_send(h *C.p2p_node, peer C.uint64_t, data unsafe.Pointer, n C.size_t, compression C.int) (rc C.int) {
	defer guard(&rc)
	e, rc := lookup(h)
	if rc != C.P2P_OK {
		return rc
	}
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

// infoMax is the longest value p2p_peer_set_info takes: the frame limit.
func (e *nodeEntry) infoMax() uint64 { return uint64(e.node.Limits().MaxFrameSize) }

// sendTarget checks a send's compression, then finds its peer.
func (e *nodeEntry) sendTarget(peer C.uint64_t, compression C.int) (*p2p.Peer, p2p.Compression, C.int) {
	c, rc := compressionOf(compression)
	if rc != C.P2P_OK {
		return nil, c, rc
	}
	p, rc := e.peerOf(peer)
	return p, c, rc
}

// The 0.3 functions that hand out library-owned memory (p2p_buf) and fill
// sized structs, documented in include/p2pnode.h. p2p_buf_free and the name
// functions are C (shim.c): they never enter the Go runtime.

// Sizes of the 0.3 structs as 0.3 defines them: a caller's size below
// these is refused. They never change; later fields grow the structs.
const (
	minPeerSize  = C.size_t(unsafe.Offsetof(C.p2p_peer{}.encrypted)) // 0.4 grew it from there
	minEvSize    = C.sizeof_p2p_ev
	minStatsSize = C.sizeof_p2p_stats
	minOptsSize  = C.sizeof_p2p_secure_opts
)

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
		list, rc := peersIn(e.node, direction)
		if rc != C.P2P_OK {
			return rc
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
		f.size = C.sizeof_p2p_peer
		f.peer = C.uint64_t(p.Handle())
		f.id = (*C.char)(unsafe.Pointer(mem.data))
		f.id_len = C.size_t(len(id))
		f.host = (*C.char)(unsafe.Add(unsafe.Pointer(mem.data), len(id)+1))
		f.host_len = C.size_t(len(host))
		f.port = C.int32_t(p.Port())
		f.direction = directionCode(p.Direction())
		f.mem = mem
		fillPeerKey(&f, p)
		fillSized(unsafe.Pointer(out), unsafe.Pointer(&f), uint64(out.size), C.sizeof_p2p_peer)
		return C.P2P_OK
	})
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
