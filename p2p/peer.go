package p2p

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

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
)

// Peer is one connection of a node, inbound or outbound (the reference's
// NodeConnection). Its methods are safe for concurrent use.
type Peer struct {
	node   *Node
	conn   net.Conn
	handle uint64
	id     string
	host   string
	port   int
	dir    Direction

	infoMu sync.Mutex
	info   map[string]any

	wmu         sync.Mutex
	segs        [][]byte // frames waiting for the writer, in order
	spareSegs   [][]byte
	tailOpen    bool // the last of segs is a pooled chunk that takes more frames
	queued      int  // bytes in segs
	inflight    int  // bytes the writer is writing now
	closing     bool // no more sends; the writer flushes and closes
	writerIdle  bool // the writer waits on wake
	roomWaiters int  // senders waiting on room
	wake        chan struct{}
	room        chan struct{} // closed and replaced when the writer frees room

	closed     chan struct{} // closed once the connection is torn down
	closeOnce  sync.Once
	writerDone chan struct{}
	// reconnect is set when the node dialled this peer with reconnect.
	reconnect bool
}

func newPeer(n *Node, conn net.Conn, id, host string, port int, dir Direction) *Peer {
	return &Peer{
		node: n, conn: conn, id: id, host: host, port: port, dir: dir,
		wake: make(chan struct{}, 1), room: make(chan struct{}),
		closed: make(chan struct{}), writerDone: make(chan struct{}),
	}
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
// frame is queued (not yet written); see Config.MaxQueuedBytes for what
// happens when the peer does not keep up.
func (p *Peer) Send(payload []byte, c Compression) error {
	if p == nil {
		return errorf(ErrNilPeer, "cannot send")
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
			for j < len(payloads) && len(payloads[j]) <= limit && !wire.NeedsCompressedPath(payloads[j]) {
				j++
			}
			if j > done {
				k, err := p.enqueueItems(payloads[done:j], false, false)
				done += k
				if err != nil {
					return done, err
				}
				continue
			}
		}
		frame, err := p.node.encode(payloads[done], c)
		if err != nil {
			return done, err
		}
		one := [1][]byte{frame}
		if _, err := p.enqueueItems(one[:], true, true); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// Stop disconnects the peer, as Node.Disconnect does.
func (p *Peer) Stop() error {
	if p == nil {
		return errorf(ErrNilPeer, "cannot stop")
	}
	return p.node.Disconnect(p)
}

// chunkPool holds the buffers small frames are copied into on their way to
// the writer; the writer returns them once written.
var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// enqueue appends one encoded frame, which the caller may share with other
// peers, to the write queue.
func (p *Peer) enqueue(frame []byte) error {
	one := [1][]byte{frame}
	_, err := p.enqueueItems(one[:], true, false)
	return err
}

// enqueueItems appends frames to the write queue, in order, waiting for
// room as the limits say. With framed, each item is a whole frame (EOT
// included), which the queue may keep as it is when owned; otherwise each
// item is a raw payload to which EOT is added. It returns how many items
// were queued.
func (p *Peer) enqueueItems(items [][]byte, framed, owned bool) (int, error) {
	var timer *time.Timer
	maxQueued := p.node.cfg.MaxQueuedBytes
	queuedN := 0
	p.wmu.Lock()
	for queuedN < len(items) {
		if p.closing {
			p.wmu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			p.node.sent.Add(uint64(queuedN))
			return queuedN, errorf(ErrPeerClosed, "%s", p.id)
		}
		item := items[queuedN]
		size := len(item)
		if !framed {
			size++
		}
		queued := p.queued + p.inflight
		if queued != 0 && queued+size > maxQueued {
			if queuedN > 0 {
				// What is queued already must reach the writer before we wait.
				p.wakeWriterLocked()
			}
			p.roomWaiters++
			room := p.room
			p.wmu.Unlock()
			if timer == nil {
				// Stopped on every return below: a defer here would cost
				// every send.
				timer = time.NewTimer(p.node.cfg.SendTimeout)
			}
			select {
			case <-room:
			case <-p.closed:
				timer.Stop()
				p.node.sent.Add(uint64(queuedN))
				return queuedN, errorf(ErrPeerClosed, "%s", p.id)
			case <-timer.C:
				p.node.sent.Add(uint64(queuedN))
				return queuedN, errorf(ErrQueueFull, "%s: %d bytes queued for %v", p.id, queued, p.node.cfg.SendTimeout)
			}
			p.wmu.Lock()
			continue
		}
		p.appendLocked(item, framed, owned)
		queuedN++
	}
	p.wakeWriterLocked()
	p.wmu.Unlock()
	if timer != nil {
		timer.Stop()
	}
	p.node.sent.Add(uint64(queuedN))
	return queuedN, nil
}

// appendLocked adds one frame to the queue: small ones are copied into the
// open chunk, large ones get a segment of their own (an owned frame is kept
// as it is, anything else is copied once). p.wmu is held.
func (p *Peer) appendLocked(item []byte, framed, owned bool) {
	size := len(item)
	if !framed {
		size++
	}
	p.queued += size
	if size >= chunkSize/2 {
		seg := item
		if !owned {
			// The capacity tells pooled chunks apart: never chunkSize here.
			seg = make([]byte, size, size+1)
			copy(seg, item)
			seg[size-1] = wire.EOT
		}
		p.segs = append(p.segs, seg)
		p.tailOpen = false
		return
	}
	if !p.tailOpen || chunkSize-len(p.segs[len(p.segs)-1]) < size {
		p.segs = append(p.segs, chunkPool.Get().(*[chunkSize]byte)[:0])
		p.tailOpen = true
	}
	tail := &p.segs[len(p.segs)-1]
	*tail = append(*tail, item...)
	if !framed {
		*tail = append(*tail, wire.EOT)
	}
}

// wakeWriterLocked wakes the writer if it waits for work. p.wmu is held.
func (p *Peer) wakeWriterLocked() {
	if p.writerIdle && len(p.segs) > 0 {
		p.writerIdle = false
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// writeLoop writes queued frames, all that queued up during the previous
// write in one (vectored) write call. On closing it flushes, then shuts down
// its side of the connection.
func (p *Peer) writeLoop() {
	defer close(p.writerDone)
	var iov net.Buffers
	for {
		p.wmu.Lock()
		for len(p.segs) == 0 {
			if p.closing {
				p.wmu.Unlock()
				p.finishWrites()
				return
			}
			p.writerIdle = true
			p.wmu.Unlock()
			select {
			case <-p.wake:
			case <-p.closed:
				return
			}
			p.wmu.Lock()
		}
		segs := p.segs
		p.segs, p.spareSegs = p.spareSegs[:0], nil
		p.inflight, p.queued = p.queued, 0
		p.tailOpen = false
		p.wmu.Unlock()

		var err error
		if len(segs) == 1 {
			_, err = p.conn.Write(segs[0])
		} else {
			iov = append(iov[:0], segs...)
			_, err = iov.WriteTo(p.conn)
			clear(iov[:cap(iov)])
			if cap(iov) > 1024 {
				iov = nil
			}
		}
		for i, s := range segs {
			if cap(s) == chunkSize {
				chunkPool.Put((*[chunkSize]byte)(s[:chunkSize]))
			}
			segs[i] = nil
		}
		p.wmu.Lock()
		p.inflight = 0
		if p.spareSegs == nil && cap(segs) <= 1024 {
			p.spareSegs = segs[:0]
		}
		if p.roomWaiters > 0 {
			p.roomWaiters = 0
			close(p.room)
			p.room = make(chan struct{})
		}
		p.wmu.Unlock()
		if err != nil {
			p.node.debugf("write to %s failed: %v", p.id, err)
			p.teardown()
			return
		}
	}
}

// finishWrites ends the connection once everything queued is written.
//
// A reference peer ignores an orderly close (FIN: it keeps the connection
// for good) but drops one that is reset. So where the kernel tells how much
// of what we wrote is not acknowledged yet (Linux), the connection is reset
// (SO_LINGER 0) once the peer has acknowledged it all, or closeLinger
// passes without progress (at most SendTimeout in all): a reset destroys
// unacknowledged data. Our peers see the reset as a close. Elsewhere it
// sends FIN and gives the reader closeLinger to see the peer close its side
// before the socket goes.
func (p *Peer) finishWrites() {
	if _, ok := unacked(p.conn); ok {
		start := time.Now()
		deadline, last := start.Add(closeLinger), -1
		for wait := time.Millisecond; ; wait = min(2*wait, 20*time.Millisecond) {
			n, ok := unacked(p.conn)
			now := time.Now()
			if last >= 0 && n < last { // the peer reads on: give it time
				deadline = now.Add(closeLinger)
			}
			last = n
			if !ok || n == 0 || now.After(deadline) || now.Sub(start) > p.node.cfg.SendTimeout {
				break
			}
			select {
			case <-p.closed: // the reader saw the peer go first
				return
			case <-time.After(wait):
			}
		}
		if lc, ok := p.conn.(interface{ SetLinger(int) error }); ok {
			_ = lc.SetLinger(0)
		}
		p.teardown()
		return
	}
	if tc, ok := p.conn.(interface{ CloseWrite() error }); ok && tc.CloseWrite() == nil {
		_ = p.conn.SetReadDeadline(time.Now().Add(closeLinger))
		return
	}
	p.teardown()
}

// closeGracefully stops new sends and lets the writer flush and close.
func (p *Peer) closeGracefully() {
	p.wmu.Lock()
	p.closing = true
	p.wmu.Unlock()
	// A peer that reads nothing must not hold the close forever; the
	// deadline also ends a write already blocked on it.
	_ = p.conn.SetWriteDeadline(time.Now().Add(p.node.cfg.SendTimeout))
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// teardown closes the connection at once; the reader then finishes.
func (p *Peer) teardown() {
	p.closeOnce.Do(func() {
		p.wmu.Lock()
		p.closing = true
		p.wmu.Unlock()
		close(p.closed)
		_ = p.conn.Close()
	})
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
	r := frameReader{p: p, buf: make([]byte, max(readBufferMin, len(initial)))}
	r.w = copy(r.buf, initial)
	var err error
	for {
		if err = r.deliver(); err != nil {
			break
		}
		if pending := r.partsLen + r.w - r.start; pending > n.cfg.MaxFrameSize {
			n.rerr.Add(1)
			err = errorf(ErrFrameTooLarge, "%s sent over %d bytes without EOT", p.id, n.cfg.MaxFrameSize)
			break
		}
		r.makeRoom()
		var got int
		got, err = p.conn.Read(r.buf[r.w:])
		r.w += got
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
	start, scan, w int
	aliased        bool // a message handed out points into buf
	busy           bool // the last read filled all the room there was
	lastRead       int
	parts          [][]byte
	partsLen       int
}

// deliver hands every complete frame in the buffer to the dispatcher.
func (r *frameReader) deliver() error {
	i := bytes.IndexByte(r.buf[r.scan:r.w], wire.EOT)
	if i < 0 {
		r.scan = r.w
		return nil
	}
	p, n := r.p, r.p.node
	evp := evPool.Get().(*[]Event)
	evs := (*evp)[:0]
	end := r.scan + i
	frames, bad := 0, 0
	for {
		var frame []byte
		if r.parts != nil {
			frame = make([]byte, r.partsLen+end-r.start)
			o := 0
			for _, part := range r.parts {
				o += copy(frame[o:], part)
			}
			copy(frame[o:], r.buf[r.start:end])
			r.parts, r.partsLen = nil, 0
		} else {
			frame = r.buf[r.start:end:end]
			r.aliased = true
		}
		r.start = end + 1
		frames++
		payload, codec, err := wire.DecodeFrame(frame, n.cfg.MaxDecompressedSize)
		if err != nil {
			bad++
			n.debugf("dropped a frame from %s: %v", p.id, err)
		} else {
			evs = append(evs, Event{Type: EventMessage, Node: n, Peer: p,
				Message: Message{Kind: wire.Classify(payload), Data: payload, Compression: codec}})
		}
		i = bytes.IndexByte(r.buf[r.start:r.w], wire.EOT)
		if i < 0 {
			break
		}
		end = r.start + i
	}
	r.scan = r.w
	n.recv.Add(uint64(frames))
	if bad > 0 {
		n.rerr.Add(uint64(bad))
	}
	*evp = evs
	if len(evs) == 0 {
		recycleEvents(evp)
		return nil
	}
	if !n.events.pushMessages(evp, p.closed) {
		recycleEvents(evp)
		return net.ErrClosed
	}
	return nil
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
		// A large frame in progress: keep this piece as it is and read on
		// into a new, larger buffer; the frame is joined once, when its EOT
		// comes.
		r.parts = append(r.parts, r.buf[r.start:r.w])
		r.partsLen += pending
		r.newBuffer(min(max(2*pending, size), partMax), 0)
		return
	}
	r.newBuffer(size, pending)
}

// newBuffer replaces the buffer, moving the keep bytes of the frame in
// progress to the start of the new one.
func (r *frameReader) newBuffer(size, keep int) {
	nb := make([]byte, size)
	copy(nb, r.buf[r.start:r.start+keep])
	// The bytes kept were scanned already: they hold no EOT.
	r.buf, r.start, r.scan, r.w, r.aliased = nb, 0, keep, keep, false
}
