package p2p

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p/native"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// Direction tells who dialled: an inbound peer connected to us, we
// connected to an outbound peer.
type Direction int

const (
	Inbound Direction = iota
	Outbound
)

func (d Direction) String() string {
	if d == Outbound {
		return "outbound"
	}
	return "inbound"
}

const (
	readBufferMin = 4 << 10   // what an idle peer holds
	readBufferMax = 256 << 10 // what a busy peer reads into
	partMax       = 4 << 20   // largest piece a frame in progress is collected in
	chunkSize     = 64 << 10  // write-queue chunk that small frames are copied into
	// closeLinger bounds how long a closing connection waits, once ours is
	// flushed, for the peer to acknowledge it all before the reset (Linux),
	// or elsewhere to close its side (reference peers never do).
	closeLinger = time.Second
	// closeQuiet is how long a closing connection must have received
	// nothing before it is reset (Linux; see finishWrites).
	closeQuiet = 50 * time.Millisecond
)

// Peer is one connection of a node, inbound or outbound (the reference's
// NodeConnection). Its methods are safe for concurrent use.
type Peer struct {
	node *Node
	conn net.Conn // the TLS connection of a native peer
	// raw is the TCP connection under conn (conn itself for plaintext):
	// what is closed, reset and asked for its socket queues.
	raw    net.Conn
	handle uint64
	id     string
	host   string
	port   int
	dir    Direction

	infoMu sync.Mutex
	info   map[string]any

	// share is what the connections from this peer's IP address hold
	// together (memory, handshakes, slots).
	share *addrShare
	stats counterSet
	// lastFrame is when the peer last sent a complete frame (or finished
	// its handshake), in UnixNano: how long it has been idle.
	lastFrame atomic.Int64

	wmu           sync.Mutex
	segs          [][]byte   // frames waiting for the writer, in order
	segMsgs       []int      // messages in each of segs
	tailOpen      bool       // the last of segs is a pooled chunk that takes more frames
	lent          *lentFrame // a payload lent into the empty queue, before segs (sendLent)
	lentSends     int        // sends that lent their payload (for the tests)
	queued        int        // bytes in segs, and in lent until the writer takes it
	queuedMsgs    int        // messages in segs, and lent until the writer takes it
	inflight      int        // bytes the writer is writing now
	inflightMsgs  int
	closing       bool // no more sends; the writer flushes and closes
	writerIdle    bool // the writer waits on wake
	roomWaiters   int  // senders waiting on room
	full          bool // a send found the queue full since the writer last made progress
	stalledNative bool // checkStall cut a native peer's socket for a stall
	stopAt        time.Time
	writeDeadline time.Time  // the connection's write deadline now
	dropWhy       DropReason // why what is still queued when the writer ends is dropped
	sc            sendCounts
	// sole: the node's only live peer, which counts its queued bytes in
	// unpub rather than in the shared totals (see addSoleLocked).
	sole    bool
	unpub   int
	retired bool // its send counts are in the node's (n.mu)
	wake    chan struct{}
	room    chan struct{} // closed and replaced when the writer frees room

	nativePeer // set for a native peer before it is activated

	closed     chan struct{} // closed once the connection is torn down
	closeOnce  sync.Once
	writerDone chan struct{}
}

func newPeer(n *Node, conn net.Conn, id, host string, port int, dir Direction) *Peer {
	p := &Peer{
		node: n, conn: conn, raw: conn, id: id, host: host, port: port, dir: dir,
		wake: make(chan struct{}, 1), room: make(chan struct{}),
		closed: make(chan struct{}), writerDone: make(chan struct{}),
		dropWhy: DropLinkLost,
	}
	p.lastFrame.Store(time.Now().UnixNano())
	return p
}

// Counters are the peer's figures so far (see Counters); Queued is what
// waits for it now.
func (p *Peer) Counters() Counters {
	var c Counters
	p.wmu.Lock()
	p.sc.into(&c)
	p.wmu.Unlock()
	p.stats.into(&c)
	return c
}

// ID is the peer's node id, from the handshake.
func (p *Peer) ID() string {
	if p == nil {
		return ""
	}
	return p.id
}

// Host is the peer's address: the host dialled for outbound peers, the
// remote IP for inbound ones.
func (p *Peer) Host() string {
	if p == nil {
		return ""
	}
	return p.host
}

// Port is the peer's listening port: the port dialled for outbound peers,
// the one sent in the handshake for inbound ones.
func (p *Peer) Port() int {
	if p == nil {
		return 0
	}
	return p.port
}

// Direction tells whether the peer dialled us or we dialled it.
func (p *Peer) Direction() Direction {
	if p == nil {
		return 0
	}
	return p.dir
}

// Node is the node this peer belongs to (the reference's main_node).
func (p *Peer) Node() *Node {
	if p == nil {
		return nil
	}
	return p.node
}

// Handle is a number that names the peer within its node until its
// disconnected event has been delivered; it is never reused by that node.
func (p *Peer) Handle() uint64 {
	if p == nil {
		return 0
	}
	return p.handle
}

// String describes the peer as the reference's NodeConnection does.
func (p *Peer) String() string {
	if p == nil {
		return "NodeConnection: <nil>"
	}
	return fmt.Sprintf("NodeConnection: %s:%d <-> %s:%d (%s)", p.node.host, p.node.port, p.host, p.port, p.id)
}

// SetInfo stores value under key in the peer's own store.
func (p *Peer) SetInfo(key string, value any) {
	if p == nil {
		return
	}
	p.infoMu.Lock()
	defer p.infoMu.Unlock()
	if p.info == nil {
		p.info = make(map[string]any)
	}
	p.info[key] = value
}

// Info returns what SetInfo stored under key.
func (p *Peer) Info(key string) (any, bool) {
	if p == nil {
		return nil, false
	}
	p.infoMu.Lock()
	defer p.infoMu.Unlock()
	v, ok := p.info[key]
	return v, ok
}

// InfoKeys lists the keys of the peer's store.
func (p *Peer) InfoKeys() []string {
	if p == nil {
		return nil
	}
	p.infoMu.Lock()
	defer p.infoMu.Unlock()
	keys := make([]string, 0, len(p.info))
	for k := range p.info {
		keys = append(keys, k)
	}
	return keys
}

// Send queues payload for the peer, compressed with c. It returns once the
// frame is queued (accepted, not yet written); when the peer's queue is
// full, Limits.OverflowPolicy says what happens (by default it waits up to
// SendTimeout for room in this peer's queue only, and returns at once with
// ErrStopped or ErrPeerClosed if the node stops or the peer goes meanwhile).
// See Counters for what becomes of accepted messages.
//
// Once Send returns, nothing reads payload again: the caller may reuse it.
// A large payload (1 MiB or more, sent raw, under OverflowWait) that finds
// the queue empty is written (to a native peer: sealed) from payload itself
// while Send waits, and Send returns once at most 1 MiB of it is unwritten, copying
// that; should the writer make no progress for a few milliseconds, Send
// copies what is left and returns.
func (p *Peer) Send(payload []byte, c Compression) error {
	if p == nil {
		return errorf(ErrNilPeer, "cannot send")
	}
	if c == None && p.sendSmall(payload) {
		return nil
	}
	one := [1][]byte{payload}
	_, err := p.SendMany(one[:], c)
	return err
}

// SendMany queues the payloads for the peer, in order, each compressed with
// c, as consecutive calls of Send would, but taking the queue's lock once
// for as many as fit. It returns how many were queued: all of them, or those
// before the one whose error it returns.
func (p *Peer) SendMany(payloads [][]byte, c Compression) (int, error) {
	if p == nil {
		return 0, errorf(ErrNilPeer, "cannot send")
	}
	limit := p.node.cfg.MaxFrameSize
	done := 0
	for done < len(payloads) {
		if c == None {
			// A run of payloads that travel raw is copied straight into the
			// write queue: no frame is built for them.
			j := done
			for j < len(payloads) && len(payloads[j]) <= limit && len(payloads[j])+p.overhead() < chunkSize/2 &&
				(p.native || !wire.NeedsCompressedPath(payloads[j])) {
				j++
			}
			if j > done {
				k, err := p.enqueueItems(payloads[done:j], false, false, true)
				done += k
				if err != nil {
					return done, err
				}
				continue
			}
			if pl := payloads[done]; len(pl) <= limit && p.lendable(pl) {
				if err := p.sendLent(pl); err != nil {
					return done, err
				}
				done++
				continue
			}
			// A large one gets its own segment, copied here, before the
			// queue's lock is taken and while the writer may still be
			// writing the one before: when room comes, queueing it is only
			// a pointer append.
			if pl := payloads[done]; len(pl) <= limit {
				if seg := p.rawFrame(pl); seg != nil {
					one := [1][]byte{seg}
					if _, err := p.enqueueItems(one[:], true, true, true); err != nil {
						return done, err
					}
					done++
					continue
				}
			}
		}
		frame, err := p.node.encodeFor(p, payloads[done], c)
		if err != nil {
			return done, err
		}
		one := [1][]byte{frame}
		if _, err := p.enqueueItems(one[:], true, true, true); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// rawFrame copies payload into a new frame of its own: after its native
// header, or before its EOT; nil when the plaintext protocol cannot carry
// it raw (wire.NeedsCompressedPath). (Should its capacity be chunkSize, the
// writer pools it once written, as a chunk: nothing else holds it.)
func (p *Peer) rawFrame(payload []byte) []byte {
	if p.native {
		// Appended to the header, the payload is copied into memory that
		// is not zeroed first.
		hdr := make([]byte, native.HeaderSize)
		native.PutHeader(hdr, len(payload), native.TypeData, 0)
		return append(hdr, payload...)
	}
	if len(payload) == 0 || len(payload)+1 == chunkSize {
		if wire.NeedsCompressedPath(payload) {
			return nil
		}
		seg := make([]byte, len(payload)+1)
		copy(seg, payload)
		seg[len(payload)] = wire.EOT
		return seg
	}
	// The search for EOT (which would send it compressed) is made block by
	// block as the block is copied, in one pass over the payload rather
	// than two. The frame is built in a strings.Builder, whose buffer is not
	// zeroed first as make's would be (a third pass over a 16 MiB payload),
	// and is only ever read from then on, as the string it is.
	var b strings.Builder
	b.Grow(len(payload) + 1)
	for rest := payload; len(rest) > 0; {
		block := rest[:min(len(rest), copyBlock)]
		if bytes.IndexByte(block, wire.EOT) >= 0 {
			return nil
		}
		b.Write(block)
		rest = rest[len(block):]
	}
	if wire.IsCompressedFrame(payload) {
		return nil
	}
	b.WriteByte(wire.EOT)
	frame := b.String()
	return unsafe.Slice(unsafe.StringData(frame), len(frame))
}

// copyBlock is the piece of a large payload searched and then copied while
// it is in the cache.
const copyBlock = 32 << 10

// Stop disconnects the peer, as Node.Disconnect does.
func (p *Peer) Stop() error {
	if p == nil {
		return errorf(ErrNilPeer, "cannot stop")
	}
	return p.node.Disconnect(p)
}

// readLoop reads frames until the connection ends, hands them to the
// dispatcher in batches, and finally raises the disconnected event. initial
// holds bytes that arrived with the handshake.
//
// Delivered messages alias the buffer they were read into: a buffer is
// never written again where a message was handed out, so no copy is made;
// reads go on into the rest of it, and then into a new one. A frame larger
// than a buffer is collected in pieces and joined once, when its EOT comes.
func (p *Peer) readLoop(initial []byte) {
	n := p.node
	defer n.wg.Done()
	r := frameReader{p: p, idle: idleReader(p.conn)}
	if r.idle == nil || len(initial) > 0 {
		r.buf = make([]byte, max(readBufferMin, len(initial)))
		r.w = copy(r.buf, initial)
	}
	var err error
	for {
		if err = r.deliver(); err != nil {
			break
		}
		pending := r.partsLen + r.w - r.start
		if pending > n.cfg.MaxFrameSize {
			p.receiveErrors(1)
			err = errorf(ErrFrameTooLarge, "%s sent over %d bytes without EOT", p.id, n.cfg.MaxFrameSize)
			break
		}
		// The memory a frame in progress holds: its pieces' buffers whole,
		// and the buffer read into.
		if over := p.chargePending(&r.charged, int64(r.held(pending))); over != "" {
			p.stats.overMemory.Store(1)
			n.stats.overMemory.Add(1)
			n.debugf("disconnecting %s (%s): its frame in progress of %d bytes takes %s over the limit", p.id, p.host, pending, over)
			err = errorf(ErrFrameTooLarge, "%s: %s", p.id, over)
			break
		}
		var got int
		if pending == 0 && r.idle != nil && r.lastRead < readBufferMin &&
			(!r.aliased || len(r.buf)-r.w < idleTailMin) {
			// Nothing pending, and the stream is not busy: wait without a
			// buffer, which is what most of an idle peer's memory was. A
			// buffer that delivered messages point into cannot go back to
			// the pool; while it has room it is read on into instead, or a
			// ping-pong would take a new buffer per message (Go round trip
			// p50 7.3 -> 9.0 us, p99 doubled).
			r.releaseBuffer()
			r.buf, got, err = readIdle(r.idle)
			r.w = got
		} else {
			r.makeRoom()
			got, err = p.conn.Read(r.buf[r.w:])
			r.w += got
		}
		r.busy = got == len(r.buf)-(r.w-got)
		r.lastRead = got
		if err != nil {
			if got > 0 {
				_ = r.deliver()
			}
			if r.partsLen+r.w-r.start > 0 {
				n.debugf("%s closed in the middle of a frame (%d bytes dropped)", p.id, r.partsLen+r.w-r.start)
			}
			break
		}
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		n.debugf("connection with %s ended: %v", p.id, err)
	}
	p.chargePending(&r.charged, 0)
	r.parts, r.buf = nil, nil
	p.teardown()
	<-p.writerDone
	n.peerGone(p)
}

// frameReader is the state of a peer's reader: buf[start:w] is the start
// of the frame in progress (no EOT before scan), whose earlier bytes, if
// any, are in parts.
type frameReader struct {
	p              *Peer
	buf            []byte
	idle           syscall.RawConn // the socket, for waits without a buffer; nil where there is none
	start, scan, w int
	aliased        bool // a message handed out points into buf
	busy           bool // the last read filled all the room there was
	lastRead       int
	parts          [][]byte
	partsLen       int
	partsCap       int // bytes of the buffers the parts hold
	// hint is the size (EOT included) of the last frame from this peer
	// that was too large for a read buffer: the next one is read into a
	// buffer of that size, where it is delivered in place.
	hint int
	// sized: buf was made for the frame in progress, after hint; it is
	// charged whole against the memory caps until that frame is complete.
	sized   bool
	charged int64 // bytes of the frame in progress counted against the memory caps
	// u8 has checked the bytes of the frame in progress before scan (and
	// those in parts) for UTF-8, when it was fed any (find).
	u8 wire.UTF8Stream
}

// held is the memory the frame in progress, pending bytes of which are
// read, holds: its pieces' buffers whole and the buffer read into, or the
// buffer made for it.
func (r *frameReader) held(pending int) int {
	switch {
	case r.parts != nil:
		return r.partsCap + len(r.buf)
	case r.sized:
		return len(r.buf) - r.start
	}
	return pending
}

// deliver hands every complete frame in the buffer to the dispatcher, in
// batches of at most batchMax messages (so that the batches evPool recycles
// stay of one size, instead of growing to the thousands of frames a read
// may hold).
func (r *frameReader) deliver() error {
	end, fed, ascii := r.find(r.scan)
	if end < 0 {
		r.scan = r.w
		return nil
	}
	p, n := r.p, r.p.node
	b := getMsgBatch(p, r.buf)
	frames, bad, size := 0, 0, 0
	var err error
	for {
		if len(b.recs) == batchMax {
			if !n.events.pushMsgs(b, p.closed) {
				putMsgBatch(b)
				b, err = nil, net.ErrClosed
				break
			}
			b = getMsgBatch(p, r.buf)
		}
		var frame []byte
		at, inBuf := r.start, r.parts == nil
		if !inBuf {
			// Joined into memory that is not zeroed first (a pass over
			// the whole frame saved): every byte is copied in.
			frame = makeNoZero(r.parts[0], r.partsLen+end-r.start)
			o := len(r.parts[0])
			for _, part := range r.parts[1:] {
				o += copy(frame[o:], part)
			}
			copy(frame[o:], r.buf[r.start:end])
			r.parts, r.partsLen, r.partsCap = nil, 0, 0
		} else {
			frame = r.buf[r.start:end:end]
			r.aliased = true
		}
		r.start = end + 1
		r.sized = false
		if len(frame) >= readBufferMax {
			r.hint = min(len(frame)+1, n.cfg.MaxFrameSize+1)
		}
		frames++
		size += len(frame) + 1
		// A frame whose start was checked piece by piece (find) is checked
		// to its end; a small one found whole may be known ASCII (find);
		// another one is checked whole, by Classify.
		checked, valid := r.u8.Fed(), false
		if checked {
			r.u8.Feed(r.buf[fed:end])
			valid = r.u8.Valid()
			r.u8.Reset()
		}
		payload, codec, err := wire.DecodeFrame(frame, n.cfg.MaxDecompressedSize)
		if err != nil {
			bad++
			n.debugf("dropped a frame from %s: %v", p.id, err)
		} else {
			kind := wire.ClassifyText(payload, ascii && codec == None)
			if checked && codec == None {
				kind = wire.ClassifyChecked(payload, valid)
			}
			b.add(payload, at, inBuf && codec == None, kind, codec)
		}
		if end, fed, ascii = r.find(r.start); end < 0 {
			break
		}
	}
	r.scan = r.w
	if err != nil {
		r.scan = r.start
	}
	p.lastFrame.Store(time.Now().UnixNano())
	p.stats.received.Add(uint64(frames))
	p.stats.receivedBytes.Add(uint64(size))
	n.stats.received.Add(uint64(frames))
	n.stats.receivedBytes.Add(uint64(size))
	if bad > 0 {
		p.receiveErrors(uint64(bad))
	}
	if err != nil {
		return err
	}
	if len(b.recs) == 0 {
		putMsgBatch(b)
		return nil
	}
	if !n.events.pushMsgs(b, p.closed) {
		putMsgBatch(b)
		return net.ErrClosed
	}
	return nil
}

// find returns the index in buf of the first EOT at or after from, or -1.
// It searches a block at a time, and each block before the EOT that holds
// the frame in progress is checked for UTF-8 (r.u8) while it is in the
// cache: a large frame is then read, searched and checked in one pass
// instead of three. fed is where the bytes checked end (the EOT's block,
// searched only, is not checked: a frame that starts and ends there is
// checked whole when classified, or, when small, known ASCII from the
// search: ascii, wire.ScanFrame).
func (r *frameReader) find(from int) (eot, fed int, ascii bool) {
	fed = from
	for from < r.w {
		end := min(from+copyBlock, r.w)
		if i, asc := wire.ScanFrame(r.buf[from:end]); i >= 0 {
			return from + i, fed, asc && !r.u8.Fed()
		}
		r.u8.Feed(r.buf[from:end])
		from, fed = end, end
	}
	return -1, fed, false
}

// makeRoom makes sure there is room to read into, taking a new buffer
// where needed.
func (r *frameReader) makeRoom() {
	pending := r.w - r.start
	free := len(r.buf) - r.w
	if pending == 0 && r.w > 0 && !r.busy && len(r.buf) > readBufferMin && r.lastRead < readBufferMin {
		// The stream went quiet: wait with a small buffer, letting the big
		// one go.
		r.newBuffer(readBufferMin, 0)
		return
	}
	if free >= readBufferMin || free >= len(r.buf)/2 {
		return
	}
	if !r.aliased {
		// Nothing points into the buffer: reuse it.
		if pending < len(r.buf)/2 {
			copy(r.buf, r.buf[r.start:r.w])
			r.scan -= r.start
			r.w, r.start = pending, 0
			return
		}
	}
	size := readBufferMin
	if r.busy {
		size = readBufferMax
	}
	if pending >= len(r.buf)/2 || pending > size/2 {
		if r.parts == nil && !r.sized && r.hint >= pending+readBufferMin && pending > 0 && r.reserve(r.hint) {
			// As large a frame as the last large one, likely: read it into a
			// buffer of that size, in which it is delivered as it is.
			nb := makeNoZero(r.buf[r.start:r.w], r.hint)
			r.buf, r.start, r.scan, r.w, r.aliased = nb, 0, pending, pending, false
			r.sized = true
			return
		}
		// A large frame in progress: keep this piece as it is and read on
		// into a new, larger buffer; the frame is joined once, when its EOT
		// comes.
		r.parts = append(r.parts, r.buf[r.start:r.w])
		r.partsLen += pending
		r.partsCap += cap(r.buf) - r.start
		r.newBuffer(min(max(2*pending, size), partMax), 0)
		return
	}
	r.newBuffer(size, pending)
}

// idlePool holds the buffers idle plaintext readers read into once bytes
// come (readIdle): a reader gives its buffer back while it waits, unless a
// message it delivered points into it.
var idlePool = sync.Pool{New: func() any { return new([readBufferMin]byte) }}

// idleTailMin is the room left in a buffer that messages point into below
// which an idle reader lets it go rather than read on into it.
const idleTailMin = 1 << 10

// releaseBuffer lets the buffer go before an idle wait, to idlePool when
// it is one of its own and nothing points into it.
func (r *frameReader) releaseBuffer() {
	if !r.aliased && len(r.buf) == readBufferMin && cap(r.buf) == readBufferMin {
		idlePool.Put((*[readBufferMin]byte)(r.buf))
	}
	r.buf, r.start, r.scan, r.w, r.aliased = nil, 0, 0, 0, false
}

// reserve charges a buffer of size bytes for the frame in progress against
// the memory caps, reporting whether it fits; when it does not, the charge
// stays what it was.
func (r *frameReader) reserve(size int) bool {
	was := r.charged
	if r.p.chargePending(&r.charged, int64(size)) != "" {
		r.p.chargePending(&r.charged, was)
		return false
	}
	return true
}

// newBuffer replaces the buffer, moving the keep bytes of the frame in
// progress to the start of the new one.
func (r *frameReader) newBuffer(size, keep int) {
	nb := makeNoZero(r.buf[r.start:r.start+keep], size)
	// The bytes kept were scanned already: they hold no EOT.
	r.buf, r.start, r.scan, r.w, r.aliased = nb, 0, keep, keep, false
}

func (p *Peer) receiveErrors(k uint64) {
	p.stats.receiveErrors.Add(k)
	p.node.stats.receiveErrors.Add(k)
}
