package p2p

import (
	"bytes"
	"errors"
	"net"
	"time"

	"github.com/p2pnode/p2pnode/p2p/native"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// A large payload is lent to the writer rather than copied into the write
// queue: the writer writes it from the caller's memory while the
// send waits, and once at most lendTail of it is left unwritten, what is
// left is copied and the send returns. The caller may reuse its buffer as
// soon as the send returns, as always: from then on nothing reads it.
//
// A send that lends waits on the writer, which a copy would not, so only a
// send that may wait anyway does (OverflowWait), and never for long on a
// writer that makes no progress: after lendPatience without any, the send
// takes the rest back (cutting short a write in progress with a deadline),
// copies it and returns, as it would have at once with a copy. A payload
// is lent only into an empty queue (nothing before it but what the writer
// writes already), so that it is written before anything queued after it,
// and one at a time. To a native peer the writer seals (or hands TLS) a
// few records of the payload at a time into its gathered batch and writes
// them to the socket after, when it no longer reads the caller's memory:
// a send that wants its memory back never waits on the socket there, and
// no write is cut short, which would break the records.
const (
	lendMin      = 1 << 20 // smallest payload lent
	lendTail     = 1 << 20 // what is left unwritten when the send copies it and returns
	lendStep     = 1 << 20 // written from the caller's memory per write, so that progress shows
	lendPatience = 10 * time.Millisecond
)

// lentFrame is a payload lent to the writer. Its fields are guarded by
// the peer's wmu.
type lentFrame struct {
	data     []byte // what is left to write of the payload (EOT excluded)
	size     int    // the frame's bytes, EOT included, as the queue counts them
	owned    bool   // data is the library's copy: the caller's memory is no longer read
	writing  bool   // the writer is reading the caller's memory (data, not owned)
	taken    bool   // the writer has taken it from the queue
	recall   bool   // the send wants its memory back now
	done     bool   // released is closed
	released chan struct{}
}

var eotByte = []byte{wire.EOT}

// errRecalled ends a write cut short because its send took its memory
// back (lentFrame.recall).
var errRecalled = errors.New("lent payload recalled")

// lendable reports whether payload goes out from the caller's memory: a
// payload of lendMin bytes or more that travels raw, under OverflowWait.
// For a plaintext peer the search for EOT is made before anything is
// written: found, the payload travels compressed. It is made in blocks, so
// that the goroutine can be stopped between them (a garbage collection
// waits for a search of 16 MiB otherwise). A native frame carries any
// payload raw.
func (p *Peer) lendable(payload []byte) bool {
	if len(payload) < lendMin || p.node.cfg.OverflowPolicy != OverflowWait {
		return false
	}
	if p.native {
		return true
	}
	for rest := payload; len(rest) > 0; {
		block := rest[:min(len(rest), 8*copyBlock)]
		if bytes.IndexByte(block, wire.EOT) >= 0 {
			return false
		}
		rest = rest[len(block):]
	}
	return !wire.IsCompressedFrame(payload)
}

// sendLent queues payload, which lendable accepted, lent to the writer
// when the queue is empty, and copied into it otherwise; it returns when
// the caller's memory is no longer read.
func (p *Peer) sendLent(payload []byte) error {
	lf := &lentFrame{data: payload, size: len(payload) + p.overhead(), released: make(chan struct{})}
	one := [1][]byte{payload}
	if _, err := p.enqueueLent(one[:], lf); err != nil {
		return err
	}
	p.wmu.Lock()
	lent := p.lent == lf
	p.wmu.Unlock()
	if !lent {
		return nil // copied
	}
	timer := time.NewTimer(lendPatience)
	defer timer.Stop()
	left := -1
	for {
		select {
		case <-lf.released:
			return nil
		case <-timer.C:
		}
		p.wmu.Lock()
		if lf.done {
			p.wmu.Unlock()
			return nil
		}
		if len(lf.data) != left {
			// The writer makes progress: wait on.
			left = len(lf.data)
			p.wmu.Unlock()
			timer.Reset(lendPatience)
			continue
		}
		lf.recall = true
		if !lf.writing {
			p.takeBackLocked(lf)
			p.wmu.Unlock()
			return nil
		}
		if p.native {
			// The writer seals what it took of our memory, which does not
			// wait on the socket, then sees the recall (writeLentNative).
			p.wmu.Unlock()
			<-lf.released
			return nil
		}
		// The writer writes from our memory, waiting for the peer: cut
		// the write short; it then copies the rest and releases us.
		now := time.Now()
		_ = p.conn.SetWriteDeadline(now)
		p.writeDeadline = now
		p.wmu.Unlock()
		<-lf.released
		return nil
	}
}

// takeBackLocked copies what is left of lf into the library's memory and
// releases its send. p.wmu is held, and the writer is not reading lf.data.
func (p *Peer) takeBackLocked(lf *lentFrame) {
	if !lf.owned && len(lf.data) > 0 {
		lf.data = makeNoZero(lf.data, len(lf.data))
	}
	lf.owned = true
	releaseLent(lf)
}

func releaseLent(lf *lentFrame) {
	if !lf.done {
		lf.done = true
		close(lf.released)
	}
}

// writeLent writes the lent frame lf, which the writer has taken, and
// returns the bytes of it written (EOT included).
func (p *Peer) writeLent(lf *lentFrame, iov *net.Buffers) (int64, error) {
	if p.native {
		return p.writeLentNative(lf)
	}
	var total int64
	var bufs [2][]byte
	for {
		p.wmu.Lock()
		if lf.recall && !lf.owned {
			p.takeBackLocked(lf)
		}
		chunk := lf.data
		if !lf.owned {
			chunk = chunk[:min(len(chunk), lendStep)]
		}
		last := len(chunk) == len(lf.data)
		lf.writing = !lf.owned
		p.wmu.Unlock()
		bufs[0], bufs[1] = chunk, eotByte
		batch := bufs[:1]
		if last {
			batch = bufs[:2]
		}
		k, err := p.writeBatch(batch, iov)
		total += k
		p.wmu.Lock()
		lf.data = lf.data[min(int(k), len(chunk)):]
		finished := last && err == nil
		if errors.Is(err, errRecalled) {
			err = nil
		}
		tail := !lf.owned && (lf.recall || len(lf.data) <= lendTail)
		if finished || err != nil {
			lf.writing = false
			releaseLent(lf)
		} else if !tail {
			lf.writing = false
		}
		p.wmu.Unlock()
		if finished || err != nil {
			bufs = [2][]byte{}
			return total, err
		}
		if tail {
			// Copied while lf.writing still holds off a send that wants
			// its memory back: it waits on released instead.
			owned := makeNoZero(lf.data, max(len(lf.data), 1))[:len(lf.data)]
			p.wmu.Lock()
			lf.data, lf.owned, lf.writing = owned, true, false
			releaseLent(lf)
			p.wmu.Unlock()
		}
	}
}

// lentRecords is what writeLentNative takes of a lent payload per step:
// sealed (or handed to TLS), its records fit the gathered batch (chunkSize)
// with the frame's header, so that no socket write happens while the
// caller's memory is read.
const lentRecords = 3 * native.MaxRecordPlain

// writeLentNative writes the lent frame lf, which the writer has taken, to
// a native peer: its header, then the payload lentRecords at a time into
// the gathered batch while lf.writing holds off a recall, each batch
// written to the socket once lf.writing is off again. It takes the rest
// back, as writeLent does, once at most lendTail is left or its send
// recalls it; what it copied goes out in larger pieces.
func (p *Peer) writeLentNative(lf *lentFrame) (int64, error) {
	p.writing.Store(true)
	defer p.writing.Store(false)
	p.sent.gather()
	defer p.sent.scatter()
	var hdr [native.HeaderSize]byte
	p.wmu.Lock()
	native.PutHeader(hdr[:], len(lf.data), native.TypeData, 0)
	p.wmu.Unlock()
	var total int64
	pending := int64(len(hdr)) // handed to the connection, not yet on the socket
	_, err := p.conn.Write(hdr[:])
	for err == nil {
		p.wmu.Lock()
		if lf.recall && !lf.owned {
			p.takeBackLocked(lf)
		}
		piece := lf.data[:min(len(lf.data), lentRecords)]
		if lf.owned {
			piece = lf.data[:min(len(lf.data), nativeWritePiece)]
		}
		lf.writing = !lf.owned
		p.wmu.Unlock()
		_, err = p.conn.Write(piece)
		p.wmu.Lock()
		lf.writing = false
		if err == nil {
			lf.data = lf.data[len(piece):]
			pending += int64(len(piece))
		}
		finished := err == nil && len(lf.data) == 0
		if finished || err != nil {
			releaseLent(lf)
		} else if !lf.owned && (lf.recall || len(lf.data) <= lendTail) {
			p.takeBackLocked(lf)
		}
		p.wmu.Unlock()
		if err == nil {
			p.armWriteDeadline()
			err = p.sent.flush()
		}
		if err == nil {
			total += pending
			pending = 0
			if finished {
				return total, nil
			}
		}
	}
	p.wmu.Lock()
	releaseLent(lf)
	p.wmu.Unlock()
	return total, p.nativeWriteError(err)
}
