package p2p

import (
	"bytes"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/p2pnode/p2pnode/p2p/native"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// writeBatchMax bounds the bytes the writer takes from the queue for one
// write: what it has taken can no longer be discarded by
// OverflowDropOldest.
const writeBatchMax = 1 << 20

// chunkPool holds the buffers small frames are copied into on their way to
// the writer; the writer returns them once written.
var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

func putChunk(s []byte) {
	if cap(s) == chunkSize {
		chunkPool.Put((*[chunkSize]byte)(s[:chunkSize]))
	}
}

// enqueue appends one encoded frame, which the caller may share with other
// peers, to the write queue, without waiting for room: a send to many peers
// never waits on one.
func (p *Peer) enqueue(frame []byte) error {
	one := [1][]byte{frame}
	_, err := p.enqueueItems(one[:], true, false, false)
	return err
}

// errClosed is the error of a send to a peer that is closing: ErrStopped
// when the node is stopping, ErrPeerClosed otherwise.
func (p *Peer) errClosed() error {
	if p.node.ctx.Err() != nil {
		return errorf(ErrStopped, "cannot send to %s", p.id)
	}
	return errorf(ErrPeerClosed, "%s", p.id)
}

// fullLocked says which bound a frame of size bytes would go over, or ""
// when it fits. A frame always fits in an empty queue. p.wmu is held.
func (p *Peer) fullLocked(size int) string {
	l := &p.node.cfg.Limits
	if q := p.queued + p.inflight; q != 0 && q+size > l.MaxQueuedBytes {
		return "queue of the peer"
	}
	// A sole peer's own bytes are not in the shared totals (unpub).
	if q := p.share.queued.Load() + int64(p.unpub); q != 0 && q+int64(size) > int64(l.MaxQueuedBytesPerAddress) {
		return "queues of its address"
	}
	if q := p.node.queuedTotal.Load() + int64(p.unpub); q != 0 && q+int64(size) > int64(l.MaxQueuedBytesTotal) {
		return "queues of the node"
	}
	return ""
}

// enqueueItems appends frames to the write queue, in order, applying the
// overflow policy when it is full; only with wait does OverflowWait wait for
// room. With framed, each item is a whole frame (EOT included), which the
// queue may keep as it is when owned; otherwise each item is a raw payload
// to which EOT is added. It returns how many items were queued.
func (p *Peer) enqueueItems(items [][]byte, framed, owned, wait bool) (int, error) {
	return p.enqueueOrLend(items, framed, owned, wait, nil)
}

// enqueueLent queues the one payload in items, lent as lf when the queue is
// empty (sendLent), copied into it otherwise, waiting for room.
func (p *Peer) enqueueLent(items [][]byte, lf *lentFrame) (int, error) {
	return p.enqueueOrLend(items[:1], false, false, true, lf)
}

func (p *Peer) enqueueOrLend(items [][]byte, framed, owned, wait bool, lf *lentFrame) (int, error) {
	n := p.node
	policy := n.cfg.OverflowPolicy
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	queuedN := 0
	p.wmu.Lock()
	for queuedN < len(items) {
		if p.closing {
			p.wakeWriterLocked()
			p.wmu.Unlock()
			return queuedN, p.errClosed()
		}
		size := len(items[queuedN])
		if !framed {
			size += p.overhead()
		}
		if why := p.fullLocked(size); why != "" {
			p.full = true
			if policy == OverflowDropOldest && p.dropOldestLocked(size) {
				continue
			}
			if policy == OverflowWait && wait {
				// Registered before the second look, so that room made
				// meanwhile in another peer's queue wakes us.
				nodeRoom := n.waitRoom()
				if p.fullLocked(size) == "" {
					n.leaveRoom()
					continue
				}
				// What is queued already must reach the writer before we wait.
				p.wakeWriterLocked()
				p.roomWaiters++
				room := p.room
				p.wmu.Unlock()
				if timer == nil {
					timer = time.NewTimer(n.cfg.SendTimeout)
				}
				select {
				case <-room:
				case <-nodeRoom:
				case <-p.closed:
				case <-n.ctx.Done():
				case <-timer.C:
					n.leaveRoom()
					p.refused(1)
					return queuedN, errorf(ErrQueueFull, "%s: %s full for %v", p.id, why, n.cfg.SendTimeout)
				}
				n.leaveRoom()
				if n.ctx.Err() != nil {
					// The node stops: the shutdown closes this peer at once.
					p.refused(1)
					return queuedN, p.errClosed()
				}
				p.wmu.Lock()
				continue
			}
			p.wakeWriterLocked()
			p.wmu.Unlock()
			p.refused(1)
			if policy == OverflowDisconnect {
				n.debugf("disconnecting %s: %s is full (overflow policy %v)", p.id, why, policy)
				p.abort(DropOverflow)
				return queuedN, errorf(ErrQueueFull, "%s: %s full, peer disconnected", p.id, why)
			}
			return queuedN, errorf(ErrQueueFull, "%s: %s full", p.id, why)
		}
		if lf != nil && p.lent == nil && len(p.segs) == 0 {
			p.countQueuedLocked(size)
			p.lent = lf
			p.lentSends++
		} else {
			p.appendLocked(items[queuedN], framed, owned, size)
		}
		queuedN++
	}
	p.wakeWriterLocked()
	p.wmu.Unlock()
	return queuedN, nil
}

// sendSmall queues a small payload that travels raw, the common send,
// with one lock, no allocation and few branches: it is copied into the open
// chunk. It reports false, having changed nothing, whenever anything else
// must be looked at (a full or closing queue, no open chunk with room, a
// payload the plaintext protocol cannot carry raw); the general path
// (enqueueItems) then takes the send.
func (p *Peer) sendSmall(payload []byte) bool {
	size := len(payload) + p.overhead()
	if size >= chunkSize/2 || len(payload) > p.node.cfg.MaxFrameSize ||
		(!p.native && wire.NeedsCompressedPath(payload)) {
		return false
	}
	p.wmu.Lock()
	if p.closing || !p.tailOpen {
		p.wmu.Unlock()
		return false
	}
	last := len(p.segs) - 1
	tail := p.segs[last]
	if chunkSize-len(tail) < size || len(tail) >= p.node.cfg.MaxQueuedBytes/4 || p.fullLocked(size) != "" {
		p.wmu.Unlock()
		return false
	}
	if p.native {
		tail = native.AppendHeader(tail, len(payload), native.TypeData, 0)
		tail = append(tail, payload...)
	} else {
		tail = append(tail, payload...)
		tail = append(tail, wire.EOT)
	}
	p.segs[last] = tail
	p.segMsgs[last]++
	p.countQueuedLocked(size)
	p.wakeWriterLocked()
	p.wmu.Unlock()
	return true
}

// countQueuedLocked counts a frame of size bytes queued and accepted.
// p.wmu is held.
func (p *Peer) countQueuedLocked(size int) {
	p.queued += size
	p.queuedMsgs++
	if p.sole {
		p.unpub += size
	} else {
		p.share.queued.Add(int64(size))
		p.node.queuedTotal.Add(int64(size))
	}
	p.sc.accepted++
	p.sc.acceptedBytes += p.counted(size, 1)
}

func (p *Peer) refused(k uint64) {
	p.stats.refused.Add(k)
	p.node.stats.refused.Add(k)
}

// appendLocked adds one frame of size bytes to the queue and counts it
// accepted: small ones are copied into the open chunk, large ones get a
// segment of their own (an owned frame is kept as it is, anything else is
// copied once). p.wmu is held, so the writer cannot count it written first.
func (p *Peer) appendLocked(item []byte, framed, owned bool, size int) {
	p.countQueuedLocked(size)
	if size >= chunkSize/2 {
		seg := item
		if !owned {
			// The capacity tells pooled chunks apart: never chunkSize here.
			seg = make([]byte, size, size+1)
			switch {
			case framed:
				copy(seg, item)
			case p.native:
				native.PutHeader(seg, len(item), native.TypeData, 0)
				copy(seg[native.HeaderSize:], item)
			default:
				copy(seg, item)
				seg[size-1] = wire.EOT
			}
		}
		p.segs = append(p.segs, seg)
		p.segMsgs = append(p.segMsgs, 1)
		p.tailOpen = false
		return
	}
	// A chunk holds at most a quarter of a small queue (as the writer takes
	// at most a quarter), so that OverflowDropOldest always finds whole
	// chunks queued behind the one being written.
	if !p.tailOpen || chunkSize-len(p.segs[len(p.segs)-1]) < size ||
		len(p.segs[len(p.segs)-1]) >= p.node.cfg.MaxQueuedBytes/4 {
		p.segs = append(p.segs, chunkPool.Get().(*[chunkSize]byte)[:0])
		p.segMsgs = append(p.segMsgs, 0)
		p.tailOpen = true
	}
	last := len(p.segs) - 1
	tail := &p.segs[last]
	if !framed && p.native {
		*tail = native.AppendHeader(*tail, len(item), native.TypeData, 0)
	}
	*tail = append(*tail, item...)
	if !framed && !p.native {
		*tail = append(*tail, wire.EOT)
	}
	p.segMsgs[last]++
}

// dropOldestLocked discards the oldest queued segments (not what the
// writer is writing) until a frame of size bytes fits, counting them
// dropped for overflow. It reports whether the frame fits now. p.wmu is
// held.
func (p *Peer) dropOldestLocked(size int) bool {
	k := 0
	for k < len(p.segs) {
		if p.fullLocked(size) == "" {
			break
		}
		p.releaseSegLocked(0, DropOverflow)
		k++
	}
	if k > 0 {
		p.node.debugf("dropped the oldest messages queued for %s to make room (overflow policy %v)", p.id, OverflowDropOldest)
	}
	return p.fullLocked(size) == ""
}

// releaseSegLocked removes segment i from the queue, counting its messages
// dropped for why. p.wmu is held.
func (p *Peer) releaseSegLocked(i int, why DropReason) {
	seg, msgs := p.segs[i], p.segMsgs[i]
	p.segs = append(p.segs[:i], p.segs[i+1:]...)
	p.segMsgs = append(p.segMsgs[:i], p.segMsgs[i+1:]...)
	p.segs[len(p.segs):cap(p.segs)][:1][0] = nil
	if len(p.segs) == 0 {
		p.tailOpen = false
	}
	p.queued -= len(seg)
	p.queuedMsgs -= msgs
	p.sc.drop(why, uint64(msgs), p.counted(len(seg), msgs))
	p.releaseBudget(p.unpubLocked(len(seg)))
	putChunk(seg)
}

// dropQueuedLocked discards everything still queued. p.wmu is held.
func (p *Peer) dropQueuedLocked(why DropReason) {
	if lf := p.lent; lf != nil && !lf.taken {
		// Counted in p.queued; its send returns.
		releaseLent(lf)
		p.lent = nil
	}
	if p.queuedMsgs == 0 {
		return
	}
	p.sc.drop(why, uint64(p.queuedMsgs), p.counted(p.queued, p.queuedMsgs))
	p.releaseBudget(p.unpubLocked(p.queued))
	for i, s := range p.segs {
		putChunk(s)
		p.segs[i] = nil
	}
	p.segs, p.segMsgs = p.segs[:0], p.segMsgs[:0]
	p.queued, p.queuedMsgs, p.tailOpen = 0, 0, false
}

// releaseBudget gives size queued bytes back to the node and the address,
// waking sends that wait for room there.
func (p *Peer) releaseBudget(size int) {
	if size != 0 {
		p.share.queued.Add(-int64(size))
		p.node.queuedTotal.Add(-int64(size))
	}
	p.node.freeRoom()
}

// unpubLocked takes size bytes that leave the queue out of those of a sole
// peer that the shared totals do not hold, first, and returns the rest,
// which releaseBudget gives back. p.wmu is held.
func (p *Peer) unpubLocked(size int) int {
	k := min(size, p.unpub)
	p.unpub -= k
	return size - k
}

// The shared totals of queued bytes (of an address, of the node), which
// every send to any peer reads and changes, cost a sole peer two atomic
// additions per message that only other peers would look at: while a
// node has one live peer, that peer counts its queued bytes itself
// (unpub), and fullLocked adds them in; the totals are exact for every
// check all the same. When a second peer is added, the first one's count
// goes into the totals (publishLocked) before the new peer can send.

// addSoleLocked is called by add when p has been added: p becomes the sole
// peer if it is the only live one, and a sole peer that is not p stops
// being one. n.mu is held.
func (n *Node) addSoleLocked(p *Peer) {
	n.live++
	if q := n.sole; q != nil {
		n.sole = nil
		q.wmu.Lock()
		q.publishLocked()
		q.wmu.Unlock()
	}
	if n.live == 1 {
		p.wmu.Lock()
		p.sole = true
		p.wmu.Unlock()
		n.sole = p
	}
}

// publishLocked puts a sole peer's own count of queued bytes into the
// shared totals, which count them from then on. p.wmu is held.
func (p *Peer) publishLocked() {
	if p.unpub != 0 {
		p.share.queued.Add(int64(p.unpub))
		p.node.queuedTotal.Add(int64(p.unpub))
	}
	p.unpub, p.sole = 0, false
}

// recalledLocked reports whether the writer writes a lent frame from its
// send's memory, which the send wants back now. p.wmu is held.
func (p *Peer) recalledLocked() bool {
	return p.lent != nil && p.lent.recall && p.lent.writing
}

// lentQueuedLocked reports whether a lent frame waits for the writer.
// p.wmu is held.
func (p *Peer) lentQueuedLocked() bool { return p.lent != nil && !p.lent.taken }

// wakeWriterLocked wakes the writer if it waits for work. p.wmu is held.
func (p *Peer) wakeWriterLocked() {
	if p.writerIdle && (len(p.segs) > 0 || p.lentQueuedLocked() || p.overlayQueuedLocked()) {
		p.writerIdle = false
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// writeLoop writes queued frames, up to writeBatchMax of those that queued
// up during the previous write in one (vectored) write call. On closing it
// flushes until the stop deadline, then shuts down its side of the
// connection. Whatever is left when it ends is counted dropped.
func (p *Peer) writeLoop() {
	defer close(p.writerDone)
	var iov net.Buffers
	var batch [][]byte
	// A quarter of the queue at most, so that OverflowDropOldest has older
	// messages to discard while a batch is being written.
	batchMax := min(writeBatchMax, max(p.node.cfg.MaxQueuedBytes/4, 1)) // one segment at least (k == 0 below)
	for {
		if err := p.sendControl(); err != nil {
			p.node.debugf("heartbeat to %s failed: %v", p.id, err)
			p.teardown()
			return
		}
		if err := p.writeOverlay(); err != nil {
			p.node.debugf("overlay write to %s failed: %v", p.id, err)
			p.teardown()
			return
		}
		p.wmu.Lock()
		for len(p.segs) == 0 && !p.lentQueuedLocked() && !p.overlayQueuedLocked() {
			if p.closing {
				p.wmu.Unlock()
				p.finishWrites()
				return
			}
			if p.controlDue() {
				break
			}
			p.writerIdle = true
			p.wmu.Unlock()
			select {
			case <-p.wake:
			case <-p.closed:
				p.wmu.Lock()
				p.dropQueuedLocked(p.dropWhy)
				p.wmu.Unlock()
				return
			}
			p.wmu.Lock()
		}
		lf := p.lent
		if lf == nil && len(p.segs) == 0 {
			p.wmu.Unlock()
			continue // a ping or pong, or overlay frames, are due
		}
		k, size, msgs := 0, 0, 0
		if lf != nil {
			// Lent into an empty queue: it goes before all that is queued.
			lf.taken = true
			size, msgs = lf.size, 1
			batch = batch[:0]
		} else {
			for k < len(p.segs) && (k == 0 || size+len(p.segs[k]) <= batchMax) && k < 1024 {
				size += len(p.segs[k])
				msgs += p.segMsgs[k]
				k++
			}
			batch = append(batch[:0], p.segs[:k]...)
			rest := copy(p.segs, p.segs[k:])
			clear(p.segs[rest:])
			p.segs = p.segs[:rest]
			copy(p.segMsgs, p.segMsgs[k:])
			p.segMsgs = p.segMsgs[:rest]
			if rest == 0 {
				p.tailOpen = false
			}
		}
		p.inflight, p.inflightMsgs = size, msgs
		p.queued -= size
		p.queuedMsgs -= msgs
		p.wmu.Unlock()

		var wrote int64
		var err error
		if lf != nil {
			wrote, err = p.writeLent(lf, &iov)
		} else {
			wrote, err = p.writeBatch(batch, &iov)
		}

		p.wmu.Lock()
		why := p.dropWhy
		p.wmu.Unlock()
		switch {
		case err == nil:
		case errors.Is(err, errStopDeadline):
			why = DropStop
		case errors.Is(err, errStalled):
			why = DropOverflow
		}
		doneMsgs, doneBytes := msgs, size
		if err != nil {
			doneMsgs, doneBytes = p.wholeFrames(batch, wrote)
			if lf != nil {
				doneMsgs, doneBytes = 0, 0 // a lent frame fails unfinished
			}
		}
		for i, s := range batch {
			putChunk(s)
			batch[i] = nil
		}
		if cap(batch) > 1024 {
			batch = nil
		}
		p.wmu.Lock()
		p.sc.written += uint64(doneMsgs)
		p.sc.writtenBytes += p.counted(doneBytes, doneMsgs)
		if doneMsgs < msgs || doneBytes < size {
			p.sc.drop(why, uint64(msgs-doneMsgs), p.counted(size-doneBytes, msgs-doneMsgs))
		}
		p.inflight, p.inflightMsgs = 0, 0
		release := p.unpubLocked(size)
		if lf != nil {
			p.lent = nil
		}
		if err == nil {
			// Room was made: the queue is no longer full until a send
			// finds it so again.
			p.full = false
		}
		if p.roomWaiters > 0 {
			p.roomWaiters = 0
			close(p.room)
			p.room = make(chan struct{})
		}
		if err != nil {
			p.dropWhy = why
			p.dropQueuedLocked(why)
		}
		p.wmu.Unlock()
		p.releaseBudget(release)
		if err != nil {
			switch why {
			case DropStop:
				p.node.debugf("closing %s: the stop deadline passed with %d message(s) unwritten", p.id, msgs-doneMsgs)
			case DropOverflow:
				p.stats.stalled.Store(1)
				p.node.stats.stalled.Add(1)
				p.node.debugf("disconnecting %s: its queue stayed full and nothing could be written to it for %v", p.id, p.node.cfg.SendTimeout)
			default:
				p.node.debugf("write to %s failed: %v", p.id, err)
			}
			p.teardown()
			return
		}
	}
}

var (
	errStopDeadline = errors.New("stop deadline passed")
	errStalled      = errors.New("peer stalled with a full queue")
)

// writeBatch writes batch whole, giving up when the stop deadline passes,
// or when nothing could be written for SendTimeout while a send found the
// queue full. It returns the bytes written.
func (p *Peer) writeBatch(batch [][]byte, iov *net.Buffers) (int64, error) {
	if p.native {
		return p.writeBatchNative(batch)
	}
	*iov = append((*iov)[:0], batch...)
	defer func() {
		clear((*iov)[:cap(*iov)])
		if cap(*iov) > 1024 {
			*iov = nil
		}
	}()
	timeout := p.node.cfg.SendTimeout
	var total int64
	for {
		p.wmu.Lock()
		if p.recalledLocked() {
			// Its send cut the write short before the deadline below
			// was set, which would undo the cut.
			p.wmu.Unlock()
			return total, errRecalled
		}
		dl := time.Now().Add(timeout)
		stopAt := p.stopAt
		if !stopAt.IsZero() && stopAt.Before(dl) {
			dl = stopAt
		}
		// Set under wmu, so that closeGracefully's earlier deadline is not
		// overwritten.
		_ = p.conn.SetWriteDeadline(dl)
		p.writeDeadline = dl
		p.wmu.Unlock()
		var k int64
		var err error
		if len(*iov) == 1 {
			var w int
			w, err = p.conn.Write((*iov)[0])
			k = int64(w)
			(*iov)[0] = (*iov)[0][w:]
		} else {
			k, err = iov.WriteTo(p.conn)
		}
		total += k
		if err == nil {
			return total, nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return total, err
		}
		p.wmu.Lock()
		stopAt, full := p.stopAt, p.full
		recalled := p.recalledLocked()
		p.wmu.Unlock()
		if recalled {
			return total, errRecalled
		}
		if !stopAt.IsZero() && !time.Now().Before(stopAt) {
			return total, errStopDeadline
		}
		if k == 0 && full {
			return total, errStalled
		}
		// Progress, or the queue is not full: go on waiting.
	}
}

// wholeFrames counts the frames of batch, and their bytes, that lie whole
// in its first wrote bytes. Frames end with EOT and hold no other.
func (p *Peer) wholeFrames(batch [][]byte, wrote int64) (msgs, size int) {
	if p.native {
		for _, s := range batch {
			m, k := native.FrameCount(s, int(min(wrote, int64(len(s)))))
			msgs += m
			size += k
			if wrote < int64(len(s)) {
				break
			}
			wrote -= int64(len(s))
		}
		return msgs, size
	}
	for _, s := range batch {
		if wrote >= int64(len(s)) {
			msgs += bytes.Count(s, []byte{wire.EOT})
			size += len(s)
			wrote -= int64(len(s))
			continue
		}
		part := s[:wrote]
		msgs += bytes.Count(part, []byte{wire.EOT})
		size += bytes.LastIndexByte(part, wire.EOT) + 1
		break
	}
	return msgs, size
}

// finishWrites ends the connection once everything queued is written; a
// native peer is one of ours, and says when it is done (closeNative).
//
// A reference peer ignores an orderly close (FIN: it keeps the connection
// for good) but drops one that is reset. So where the kernel tells how much
// is queued on the socket (Linux), the connection is reset (SO_LINGER 0)
// once it is drained both ways: the peer has acknowledged all we wrote, and
// we have read all it sent, with nothing new for closeQuiet (a peer stopping
// at the same moment may still be writing what it was given before). A
// reset destroys what is still queued either way, so while either side makes
// progress the wait goes on, for at most closeLinger without progress,
// SendTimeout in all, and never past the stop deadline. Our peers see the
// reset as a close. Elsewhere it sends FIN and gives the reader closeLinger
// to see the peer close its side before the socket goes.
func (p *Peer) finishWrites() {
	if p.native {
		p.closeNative()
		return
	}
	if _, _, ok := socketQueues(p.raw); ok {
		p.wmu.Lock()
		stopAt := p.stopAt
		p.wmu.Unlock()
		start := time.Now()
		deadline, quietSince := start.Add(closeLinger), start
		lastOut, lastGot := -1, p.stats.receivedBytes.Load()
		for wait := time.Millisecond; ; wait = min(2*wait, 10*time.Millisecond) {
			out, in, ok := socketQueues(p.raw)
			now := time.Now()
			got := p.stats.receivedBytes.Load()
			if got != lastGot || in > 0 { // the peer still sends, or we still read
				quietSince, deadline = now, now.Add(closeLinger)
			} else if lastOut >= 0 && out < lastOut { // the peer reads on
				deadline = now.Add(closeLinger)
			}
			lastOut, lastGot = out, got
			drained := out == 0 && in == 0 && now.Sub(quietSince) >= closeQuiet
			if !ok || drained || now.After(deadline) || now.Sub(start) > p.node.cfg.SendTimeout ||
				(!stopAt.IsZero() && now.After(stopAt)) {
				break
			}
			select {
			case <-p.closed: // the reader saw the peer go first
				return
			case <-time.After(wait):
			}
		}
		if lc, ok := p.raw.(interface{ SetLinger(int) error }); ok {
			_ = lc.SetLinger(0)
		}
		p.teardown()
		return
	}
	if tc, ok := p.raw.(interface{ CloseWrite() error }); ok && tc.CloseWrite() == nil {
		_ = p.conn.SetReadDeadline(time.Now().Add(closeLinger))
		return
	}
	p.teardown()
}

// closeGracefully stops new sends and lets the writer flush what is queued
// until StopTimeout from now, then close.
func (p *Peer) closeGracefully() {
	p.wmu.Lock()
	p.closing = true
	at := time.Now().Add(p.node.cfg.StopTimeout)
	if p.stopAt.IsZero() || at.Before(p.stopAt) {
		p.stopAt = at
		if p.writeDeadline.IsZero() || at.Before(p.writeDeadline) {
			// A peer that reads nothing must not hold the close for
			// longer; the deadline also ends a write already blocked.
			_ = p.conn.SetWriteDeadline(at)
			p.writeDeadline = at
		}
	}
	// Senders waiting for room return now.
	if p.roomWaiters > 0 {
		p.roomWaiters = 0
		close(p.room)
		p.room = make(chan struct{})
	}
	p.wmu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// abort closes the connection at once, counting what is queued as dropped
// for why.
func (p *Peer) abort(why DropReason) {
	p.wmu.Lock()
	p.dropWhy = why
	p.wmu.Unlock()
	p.teardown()
}

// teardown closes the connection at once; the reader then finishes.
func (p *Peer) teardown() {
	p.closeOnce.Do(func() {
		p.wmu.Lock()
		p.closing = true
		p.wmu.Unlock()
		close(p.closed)
		// The TCP connection itself: a TLS close would first try to send
		// its alert, which may wait on a peer that reads nothing.
		_ = p.raw.Close()
	})
}

// waitRoom returns a channel closed when some queue frees bytes; the
// caller then calls leaveRoom.
func (n *Node) waitRoom() <-chan struct{} {
	n.roomMu.Lock()
	defer n.roomMu.Unlock()
	n.roomWaiters.Add(1)
	return n.room
}

func (n *Node) leaveRoom() { n.roomWaiters.Add(-1) }

// freeRoom wakes the sends waiting for room in the node's or an address's
// queues; it costs an atomic load when none waits.
func (n *Node) freeRoom() {
	if n.roomWaiters.Load() == 0 {
		return
	}
	n.roomMu.Lock()
	close(n.room)
	n.room = make(chan struct{})
	n.roomMu.Unlock()
}
