package p2p

import "sync"

// queued is an event waiting for the dispatcher, with the channel that
// carries the handler's answer back where one is awaited.
type queued struct {
	ev    Event
	reply chan bool
	// batch, when set, holds message events in place of ev: a reader's
	// whole batch travels as one item, without copying its events.
	batch *[]Event
	// msgs, when set, holds a plaintext reader's messages in place of ev,
	// as records the dispatcher makes each event from (msgBatch).
	msgs *msgBatch
}

// msgBatch is a batch of one peer's messages, in order, as a plaintext
// reader hands them over: a small record per message in place of a whole
// Event (168 bytes) makes far less memory cross from the reader's core to
// the dispatcher's, and records that hold no pointer need no clearing and
// no write barrier. Payloads read in place lie in buf; the others (joined
// from pieces, or decompressed) are in ext.
type msgBatch struct {
	peer  *Peer
	buf   []byte
	recs  []msgRec
	ext   [][]byte
	bytes int // payload bytes of recs
}

// msgRec is one message of a msgBatch: buf[off:off+n], or ext[off] when
// meta has recExt; meta also holds its kind (low byte) and codec (next).
type msgRec struct {
	off, n, meta uint32
}

const recExt = 1 << 16

// msgBatchPool recycles msgBatches between readers and the dispatcher. A
// batch is made whole (12 KiB of records for batchMax), not grown to it.
var msgBatchPool = sync.Pool{New: func() any { return &msgBatch{recs: make([]msgRec, 0, batchMax)} }}

func getMsgBatch(p *Peer, buf []byte) *msgBatch {
	b := msgBatchPool.Get().(*msgBatch)
	b.peer, b.buf = p, buf
	return b
}

// putMsgBatch returns b to its pool, dropping what it points to; its
// records hold no pointer and are simply forgotten.
func putMsgBatch(b *msgBatch) {
	clear(b.ext)
	b.peer, b.buf, b.recs, b.ext, b.bytes = nil, nil, b.recs[:0], b.ext[:0], 0
	if cap(b.recs) <= 4096 && cap(b.ext) <= 4096 {
		msgBatchPool.Put(b)
	}
}

// add records payload, which lies in buf from off on when inBuf, with its
// kind and codec. The record is written in place, word by word: built
// whole and copied, its bytes written one by one and read back as words
// stalled the store forwarding of every message.
func (b *msgBatch) add(payload []byte, off int, inBuf bool, kind Kind, codec Compression) {
	meta := uint32(kind)&0xff | uint32(codec)&0xff<<8
	if !inBuf || uint64(off)+uint64(len(payload)) > 1<<32-1 {
		meta |= recExt
		off = len(b.ext)
		b.ext = append(b.ext, payload)
	}
	k := len(b.recs)
	if k == cap(b.recs) {
		b.recs = append(b.recs, msgRec{})
	} else {
		b.recs = b.recs[:k+1]
	}
	r := &b.recs[k]
	r.off, r.n, r.meta = uint32(off), uint32(len(payload)), meta
	b.bytes += len(payload)
}

// data is the payload of record r.
func (b *msgBatch) data(r *msgRec) []byte {
	if r.meta&recExt != 0 {
		return b.ext[r.off]
	}
	end := int(r.off) + int(r.n)
	return b.buf[r.off:end:end]
}

// event makes ev the message event of record r, all of it: a handler may
// have written to ev. Rather than a whole Event copied in (a typed copy,
// with a bulk write barrier while the collector runs), a field is written
// only where it differs, so that most of them, and the pointers above all,
// are only read.
func (b *msgBatch) event(ev *Event, r *msgRec) {
	p := b.peer
	ev.Type = EventMessage
	if ev.Node != p.node {
		ev.Node = p.node
	}
	if ev.Peer != p {
		ev.Peer = p
	}
	ev.Message.Kind, ev.Message.Data, ev.Message.Compression = Kind(r.meta&0xff), b.data(r), Compression(r.meta>>8&0xff)
	if ev.Topic != "" || ev.Origin != "" || ev.Host != "" || ev.Counters != nil || ev.Ext != nil {
		ev.Topic, ev.Origin, ev.Host, ev.Counters, ev.Ext = "", "", "", nil, nil
	}
	ev.Port, ev.Trials, ev.byPoller = 0, 0, false
}

// eventQueue carries events from the node's goroutines to its one
// dispatcher, in order. Control events (connects, disconnects, questions)
// never block; messages take credits, so a slow handler stops the readers
// and TCP backpressure reaches the senders instead of memory growing.
type eventQueue struct {
	mu       sync.Mutex
	items    []queued
	spare    []queued
	messages int // messages queued or being handled
	max      int
	bytes    int // payload bytes of those messages
	maxBytes int
	closed   bool
	wake     chan struct{} // one pending signal for the dispatcher
	room     chan struct{} // closed and replaced when messages leave
}

// maxPendingBytes bounds the payload bytes of the messages queued or being
// handled, as max bounds their number: a reader's batch waits while the
// queue holds this much (a batch always fits in an empty queue), so large
// frames cannot pile up max deep behind a slow handler.
const maxPendingBytes = 64 << 20

func newEventQueue(max int) *eventQueue {
	return &eventQueue{max: max, maxBytes: maxPendingBytes, wake: make(chan struct{}, 1), room: make(chan struct{})}
}

// batchBytes is the payload size of a batch of message events.
func batchBytes(evs []Event) int {
	n := 0
	for i := range evs {
		n += len(evs[i].Message.Data)
	}
	return n
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push queues one control event. It reports false once the queue is closed.
func (q *eventQueue) push(ev Event, reply chan bool) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, queued{ev: ev, reply: reply})
	q.mu.Unlock()
	q.signal()
	return true
}

// pushMessages queues a batch of message events, waiting while the queue
// holds its maximum; the queue takes evs over (and returns it to evPool once
// handled). It gives up (returning false, evs left to the caller) when
// cancel is closed or the queue is closed.
func (q *eventQueue) pushMessages(evs *[]Event, cancel <-chan struct{}) bool {
	return q.pushBatch(queued{batch: evs}, len(*evs), batchBytes(*evs), cancel)
}

// pushMsgs is pushMessages for a plaintext reader's batch.
func (q *eventQueue) pushMsgs(b *msgBatch, cancel <-chan struct{}) bool {
	return q.pushBatch(queued{msgs: b}, len(b.recs), b.bytes, cancel)
}

// pushBatch queues item, a batch of count messages of size payload bytes,
// waiting for room as pushMessages does.
func (q *eventQueue) pushBatch(item queued, count, size int, cancel <-chan struct{}) bool {
	q.mu.Lock()
	for !q.closed && (q.messages >= q.max || q.bytes > 0 && q.bytes+size > q.maxBytes) {
		room := q.room
		q.mu.Unlock()
		select {
		case <-room:
		case <-cancel:
			return false
		}
		q.mu.Lock()
	}
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, item)
	q.messages += count
	q.bytes += size
	q.mu.Unlock()
	q.signal()
	return true
}

// take hands the dispatcher everything queued, waiting for at least one
// event. It returns nil once the queue is closed and empty.
func (q *eventQueue) take() []queued {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			items := q.items
			q.items = q.spare[:0]
			q.spare = nil
			q.mu.Unlock()
			return items
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil
		}
		<-q.wake
	}
}

// done returns a handled batch: its message credits and its storage.
func (q *eventQueue) done(items []queued, messages int) {
	size := 0
	for i := range items {
		if b := items[i].batch; b != nil {
			size += batchBytes(*b)
			recycleEvents(b)
		}
		if b := items[i].msgs; b != nil {
			size += b.bytes
			putMsgBatch(b)
		}
	}
	clear(items)
	q.mu.Lock()
	q.bytes -= size
	if q.spare == nil && cap(items) <= 1<<16 {
		q.spare = items[:0]
	}
	if messages > 0 {
		q.messages -= messages
		close(q.room)
		q.room = make(chan struct{})
	}
	q.mu.Unlock()
}

// close stops new events; take drains what is queued, then returns nil.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	close(q.room)
	q.room = make(chan struct{})
	q.mu.Unlock()
	q.signal()
}

// evPool recycles the batches of message events that readers hand over.
var evPool = sync.Pool{New: func() any { s := make([]Event, 0, 64); return &s }}

// recycleEvents returns a batch to evPool, dropping what it points to.
func recycleEvents(b *[]Event) {
	clear(*b)
	if cap(*b) <= 4096 {
		*b = (*b)[:0]
		evPool.Put(b)
	}
}
