package p2p

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p/native"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// nativePeer is what a peer speaking the native protocol has on top of a
// plaintext one.
type nativePeer struct {
	native       bool
	peerKey      ed25519.PublicKey
	caps         []string
	br           *bufio.Reader // the TLS stream, as the handshake left it
	peerInterval time.Duration // the peer's announced heartbeat interval
	lastRecv     atomic.Int64  // UnixNano of the last frame of any type
	pushing      atomic.Bool   // the reader waits for room in the event queue
	pingDue      atomic.Bool
	pongDue      atomic.Bool
	ov           overlayQueue  // frames of the overlay engines (overlay_sendq.go)
	sent         *countingConn // the socket under TLS, counting what went out
	writing      atomic.Bool   // a batch is being written
	// byeSent and byeReceived: the two halves of a native close (TLS
	// close_notify each way, see closeNative).
	byeSent, byeReceived atomic.Bool
	// stallBytes and stallSince: the bytes sent when the heartbeat last saw
	// progress, and when (the heartbeat's own).
	stallBytes int64
	stallSince time.Time
}

// sockBufSize is the buffer TLS reads the socket through: records come
// out of it without a system call each.
const sockBufSize = 256 << 10

// sockPool holds those buffers: a connection holds one only while bytes
// read from the socket wait in it for TLS, never while it waits for the
// socket.
var sockPool = sync.Pool{New: func() any { return new([sockBufSize]byte) }}

// sockReader is the read side of the socket under a TLS connection.
type sockReader struct {
	once sync.Once
	rc   syscall.RawConn // nil where the socket cannot be waited on without a buffer
	buf  []byte          // a pooled buffer, while it holds bytes not read yet
	r, w int
	// noWait makes a read that would wait for the socket fail with
	// errWouldWait instead (the native reader's, see nativeReader.fillNow).
	noWait bool
}

// errWouldWait is what a read of the socket under TLS returns, in noWait
// mode, when the bytes buffered are used up. TLS keeps the part of a record
// it has and reads on at its next Read: it does not keep an error that is
// Temporary.
var errWouldWait error = wouldWait{}

type wouldWait struct{}

func (wouldWait) Error() string   { return "p2p: no bytes buffered" }
func (wouldWait) Timeout() bool   { return true }
func (wouldWait) Temporary() bool { return true }

// Read serves TLS what the socket had, filling the pooled buffer with one
// read where the socket allows waiting without it.
func (c *countingConn) Read(b []byte) (int, error) {
	s := &c.sr
	if s.r == s.w {
		s.once.Do(func() { s.rc = idleReader(c.Conn) })
		if !s.noWait && (s.rc == nil || len(b) >= sockBufSize) {
			return c.Conn.Read(b)
		}
		// An error with bytes comes again on the next read.
		if err := c.readMore(); err != nil {
			return 0, err
		}
	}
	return s.take(b), nil
}

// take copies buffered bytes into b, giving the buffer back once drained.
func (s *sockReader) take(b []byte) int {
	k := copy(b, s.buf[s.r:s.w])
	s.r += k
	if s.r == s.w {
		sockPool.Put((*[sockBufSize]byte)(s.buf))
		s.buf, s.r, s.w = nil, 0, 0
	}
	return k
}

// bufferWrite gathers TLS records in wbuf, when the writer asked for it,
// writing them once it is full: TLS writes each record (up to 16 KiB) with
// a system call of its own. A chunk (64 KiB) at most is gathered, so that
// the bytes counted written still show a slow peer's progress to
// checkStall. An error is reported by flush, and by every write after it.
// ok is false when nothing is gathered now.
func (c *countingConn) bufferWrite(b []byte) (k int, ok bool, err error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wbuf == nil {
		return 0, false, nil
	}
	if c.werr != nil {
		return 0, true, c.werr
	}
	if len(c.wbuf)+len(b) > cap(c.wbuf) {
		if err := c.flushLocked(); err != nil {
			return 0, true, err
		}
		if len(b) > cap(c.wbuf) {
			k, err := c.Conn.Write(b)
			c.written.Add(int64(k))
			c.werr = err
			return k, true, err
		}
	}
	c.wbuf = append(c.wbuf, b...)
	return len(b), true, nil
}

// flush writes what wbuf gathered.
func (c *countingConn) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushLocked()
}

func (c *countingConn) flushLocked() error {
	if c.werr != nil || len(c.wbuf) == 0 {
		return c.werr
	}
	k, err := c.Conn.Write(c.wbuf)
	c.written.Add(int64(k))
	c.wbuf = c.wbuf[:0]
	c.werr = err
	return err
}

// gather makes the TLS records written until scatter go out together (the
// writer's, around a batch).
func (c *countingConn) gather() {
	b := chunkPool.Get().(*[chunkSize]byte)[:0]
	c.wmu.Lock()
	c.wbuf = b
	c.wmu.Unlock()
}

// scatter drops what is gathered and not flushed (after an error) and goes
// back to a write per record.
func (c *countingConn) scatter() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wbuf != nil {
		putChunk(c.wbuf)
		c.wbuf, c.werr = nil, nil
	}
}

// setNative makes p a native peer over l, whose TCP connection is raw.
func (p *Peer) setNative(raw net.Conn, l *nativeLink) {
	p.raw = raw
	p.native = true
	p.peerKey = l.key
	p.sent = l.raw
	p.caps = l.hello.Caps
	p.br = l.br
	p.peerInterval = time.Duration(l.hello.HeartbeatMillis) * time.Millisecond
	p.lastRecv.Store(time.Now().UnixNano())
}

// Encrypted reports whether the peer speaks the native protocol: TLS 1.3,
// authenticated by its identity key.
func (p *Peer) Encrypted() bool {
	if p == nil {
		return false
	}
	return p.native
}

// PeerKey is the peer's identity key, proven in the TLS handshake; nil for
// a plaintext peer.
func (p *Peer) PeerKey() ed25519.PublicKey {
	if p == nil {
		return nil
	}
	return p.peerKey
}

// Capabilities are what a native peer announced in its hello ("pex/1",
// "gossip/1": the overlay runs only with peers that announced it).
func (p *Peer) Capabilities() []string {
	if p == nil {
		return nil
	}
	return append([]string(nil), p.caps...)
}

// counted is what bytes of msgs queued frames count for in the byte
// counters: their wire size in the plaintext protocol, and for a native
// peer the same measure (the 6-byte header counts as the EOT would), so
// that the counters do not depend on the transport.
func (p *Peer) counted(bytes, msgs int) uint64 {
	if p.native {
		return uint64(bytes - (native.HeaderSize-1)*msgs)
	}
	return uint64(bytes)
}

// overhead is what framing adds to a raw payload.
func (p *Peer) overhead() int {
	if p.native {
		return native.HeaderSize
	}
	return 1 // EOT
}

func (p *Peer) controlDue() bool {
	return p.native && (p.pingDue.Load() || p.pongDue.Load())
}

// sendControl writes the ping and pong that are due, between batches of
// the writer, which owns the connection's writes.
func (p *Peer) sendControl() error {
	if !p.controlDue() {
		return nil
	}
	var b [2 * native.HeaderSize]byte
	k := 0
	if p.pongDue.Swap(false) {
		native.PutHeader(b[k:], 0, native.TypePong, 0)
		k += native.HeaderSize
	}
	if p.pingDue.Swap(false) {
		native.PutHeader(b[k:], 0, native.TypePing, 0)
		k += native.HeaderSize
	}
	if k == 0 {
		return nil
	}
	p.armWriteDeadline()
	_, err := p.conn.Write(b[:k])
	return err
}

// armWriteDeadline gives the next write to a native peer the stop
// deadline, if a stop set one, and no deadline otherwise: a TLS write that
// times out cannot be resumed, so the stall rule is kept by watchWrite.
func (p *Peer) armWriteDeadline() {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_ = p.conn.SetWriteDeadline(p.stopAt)
	p.writeDeadline = p.stopAt
}

// nativeWritePiece bounds one write to a native peer, so that a stop
// deadline set while a large batch goes out is seen between pieces.
const nativeWritePiece = 1 << 20

// writeBatchNative writes batch through TLS, in pieces of at most
// nativeWritePiece, with the plaintext writer's rules: the stop deadline
// ends it, and so does a peer to which nothing could be written for
// SendTimeout while a send found the queue full (checkStall, on the
// heartbeat's tick); a slow peer that takes bytes, or one whose queue is
// not full, is waited for.
func (p *Peer) writeBatchNative(batch [][]byte) (int64, error) {
	p.writing.Store(true)
	defer p.writing.Store(false)
	var total int64
	p.sent.gather()
	defer p.sent.scatter()
	for _, s := range batch {
		for len(s) > 0 {
			piece := s[:min(len(s), nativeWritePiece)]
			p.armWriteDeadline()
			k, err := p.conn.Write(piece)
			if err == nil {
				// What is counted written is on the socket.
				err = p.sent.flush()
			}
			if err != nil {
				k = 0 // how much of the piece reached the socket is unknown
			}
			total += int64(k)
			s = s[k:]
			if err == nil {
				continue
			}
			p.sent.scatter()
			return total, p.nativeWriteError(err)
		}
	}
	return total, nil
}

// nativeWriteError is what a failed write to a native peer means: the stop
// deadline passed (errStopDeadline), the peer stalled (errStalled), or err.
func (p *Peer) nativeWriteError(err error) error {
	p.wmu.Lock()
	stopAt, stalled := p.stopAt, p.stalledNative
	p.wmu.Unlock()
	if errors.Is(err, os.ErrDeadlineExceeded) && !stopAt.IsZero() && !time.Now().Before(stopAt) {
		return errStopDeadline
	}
	if stalled {
		return errStalled
	}
	return err
}

// checkStall runs on the heartbeat's tick: a write under way that got no
// byte to the socket for SendTimeout, while a send found the queue full,
// means the peer stalled; its socket is closed, which ends the write with
// errStalled.
func (p *Peer) checkStall(now time.Time) {
	w := p.sent.written.Load()
	if !p.writing.Load() || w != p.stallBytes {
		p.stallBytes, p.stallSince = w, now
		return
	}
	if now.Sub(p.stallSince) < p.node.cfg.SendTimeout {
		return
	}
	p.wmu.Lock()
	full := p.full
	p.stalledNative = p.stalledNative || full
	p.wmu.Unlock()
	if full {
		_ = p.raw.Close()
	}
}

// wakeWriter wakes the writer for a control frame.
func (p *Peer) wakeWriter() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// heartbeat pings the peer every interval and disconnects it when it has
// sent nothing at all for the timeout (checked every quarter interval). A
// reader waiting for the event handler does not count as silence.
func (p *Peer) heartbeat() {
	n := p.node
	defer n.wg.Done()
	interval := n.cfg.HeartbeatInterval
	timeout := n.cfg.heartbeatTimeout(p.peerInterval)
	t := time.NewTicker(max(min(interval, n.cfg.SendTimeout)/4, time.Millisecond))
	defer t.Stop()
	lastPing := time.Now()
	for {
		select {
		case <-p.closed:
			return
		case now := <-t.C:
			p.checkStall(now)
			if p.pushing.Load() {
				p.lastRecv.Store(now.UnixNano())
			}
			if silent := now.Sub(time.Unix(0, p.lastRecv.Load())); silent > timeout {
				n.debugf("disconnecting %s (%s): nothing received for %v (heartbeat timeout %v)",
					p.id, p.host, silent.Round(time.Millisecond), timeout)
				p.abort(DropLinkLost)
				return
			}
			if now.Sub(lastPing) >= interval {
				lastPing = now
				p.pingDue.Store(true)
				p.wakeWriter()
			}
		}
	}
}

const (
	batchMax = 1024 // message events handed to the dispatcher at once
	// inPlaceMax is the largest data frame parsed in place in the read
	// buffer; a larger one is read straight into a buffer of its own size.
	inPlaceMax = readBufferMax / 4
)

// nativeReader is the state of a native peer's reader: buf[start:w] holds
// bytes of the TLS stream read and not parsed yet. Messages of frames
// parsed in place alias buf, which is then never written again where they
// lie (aliased): reads go on into the rest of it, then into a new one.
type nativeReader struct {
	conn     io.Reader     // the TLS connection
	sock     *countingConn // the socket under it
	buf      []byte
	start, w int
	aliased  bool
	// busy: the stream is busy, as the last read that told returned
	// readBufferMin bytes or more, or left bytes read from the socket
	// waiting (buffered), and quiet, as it returned less than there was
	// room for with none waiting. A read that filled less room than
	// readBufferMin (the last bytes of a buffer) does not tell otherwise,
	// and changes nothing: sizing by it alone kept a busy stream in 4 KiB
	// buffers, a read per 57 messages of 64 B.
	busy     bool
	buffered func() bool // nil: nothing tells
	err      error       // of a read that also returned bytes, for the next one
}

// read reads the stream into the free part of buf, noting whether it is busy.
func (r *nativeReader) read() (int, error) {
	room := len(r.buf) - r.w
	k, err := r.conn.Read(r.buf[r.w:])
	switch {
	case k >= readBufferMin || k > 0 && r.buffered != nil && r.buffered():
		r.busy = true
	case k > 0 && k < room:
		r.busy = false
	}
	r.w += k
	return k, err
}

// Read serves what is buffered, then reads the stream itself: what a
// frame read whole into a buffer of its own (readExt, large bodies) reads
// through.
func (r *nativeReader) Read(b []byte) (int, error) {
	if r.w > r.start {
		k := copy(b, r.buf[r.start:r.w])
		r.start += k
		return k, nil
	}
	if r.err != nil {
		return 0, r.err
	}
	return r.conn.Read(b)
}

// fill reads once from the stream, after making room for need bytes from
// start on.
func (r *nativeReader) fill(need int) error {
	if r.err != nil {
		return r.err
	}
	r.room(need)
	k, err := r.read()
	if k > 0 && err != nil {
		r.err, err = err, nil
	}
	return err
}

// fillNow is fill without waiting for the socket: it reports false when
// TLS would have had to wait for it, having read nothing.
func (r *nativeReader) fillNow(need int) (bool, error) {
	if r.err != nil || r.sock == nil {
		return false, r.err
	}
	r.room(need)
	r.sock.sr.noWait = true
	k, err := r.read()
	r.sock.sr.noWait = false
	if errors.Is(err, errWouldWait) {
		err = nil
	}
	if k == 0 {
		// busy is kept: it sizes the buffer of the read that waits.
		return false, err
	}
	if err != nil {
		r.err, err = err, nil
	}
	return true, err
}

// room makes buf hold need bytes from start on, with room to read into:
// the bytes pending move to the front when nothing points into buf, or
// into a new buffer, small when the stream is quiet, readBufferMax when it
// is busy.
func (r *nativeReader) room(need int) {
	pending := r.w - r.start
	size := readBufferMax
	if !r.busy && need <= readBufferMin {
		size = readBufferMin
	}
	if pending == 0 && len(r.buf) > size {
		// Quiet: wait with a small buffer, letting the big one go.
		r.newBuffer(size)
		return
	}
	free := len(r.buf) - r.w
	if len(r.buf)-r.start >= need && free >= min(readBufferMin, need-pending) && free > 0 {
		return
	}
	if !r.aliased && len(r.buf) >= need && pending < len(r.buf)/2 {
		copy(r.buf, r.buf[r.start:r.w])
		r.w, r.start = pending, 0
		return
	}
	r.newBuffer(max(size, need))
}

func (r *nativeReader) newBuffer(size int) {
	pending := r.buf[r.start:r.w]
	r.buf = makeNoZero(pending, size)
	r.w, r.start, r.aliased = len(pending), 0, false
}

// nativeReadLoop reads native frames until the connection ends, hands
// messages to the dispatcher in batches (as many as are buffered), and
// finally raises the disconnected event. Frames are parsed in place in the
// read buffer, and their messages alias it; a large frame's body is read
// straight into a buffer of its size, which its message keeps.
func (p *Peer) nativeReadLoop() {
	n := p.node
	defer n.wg.Done()
	r := &nativeReader{conn: p.conn, sock: p.sent}
	if sc, ok := p.conn.(*sealedConn); ok {
		r.buffered = sc.buffered
	} else if p.sent != nil {
		r.buffered = p.sent.buffered
	}
	if k := p.br.Buffered(); k > 0 {
		// What the handshake's reader holds already; it is not read again.
		b, _ := p.br.Peek(k)
		r.buf = make([]byte, max(k, readBufferMin))
		r.w = copy(r.buf, b)
	}
	p.br = nil
	var charged int64
	b := getMsgBatch(p, r.buf)
	frames, bad, size := 0, 0, 0
	flush := func() error {
		now := time.Now().UnixNano()
		p.lastRecv.Store(now)
		if frames == 0 {
			return nil
		}
		p.lastFrame.Store(now)
		p.stats.received.Add(uint64(frames))
		p.stats.receivedBytes.Add(uint64(size))
		n.stats.received.Add(uint64(frames))
		n.stats.receivedBytes.Add(uint64(size))
		if bad > 0 {
			p.receiveErrors(uint64(bad))
		}
		frames, bad, size = 0, 0, 0
		if len(b.recs) == 0 {
			return nil
		}
		p.pushing.Store(true)
		ok := n.events.pushMsgs(b, p.closed)
		p.pushing.Store(false)
		if !ok {
			putMsgBatch(b)
			b = nil
			return net.ErrClosed
		}
		b = getMsgBatch(p, r.buf)
		return nil
	}
	// need gets k bytes buffered from start on, handing over what is
	// parsed before a read that may wait. TLS returns a record per read:
	// the records already read from the socket are parsed first, so that
	// the dispatcher gets batches as large as the plaintext reader's.
	need := func(k int) error {
		for r.w-r.start < k {
			if len(b.recs) < batchMax {
				ok, err := r.fillNow(k)
				if err != nil {
					return err
				}
				if ok {
					continue
				}
			}
			if err := flush(); err != nil {
				return err
			}
			if err := r.fill(k); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	for {
		// need is called only when the bytes are not buffered already: a
		// busy stream's small frames are parsed without a call each.
		if r.w-r.start < native.HeaderSize {
			if err = need(native.HeaderSize); err != nil {
				break
			}
		}
		var h native.Header
		if h, err = native.ParseHeader(r.buf[r.start:r.w], n.cfg.MaxFrameSize); err != nil {
			p.receiveErrors(1)
			err = errorf(ErrFrameTooLarge, "%s: %v", p.id, err)
			break
		}
		r.start += native.HeaderSize
		switch h.Type {
		case native.TypePing:
			p.pongDue.Store(true)
			p.wakeWriter()
		case native.TypePong:
		case native.TypeExt:
			err = p.readExt(r, h)
		case native.TypeData:
			var body []byte
			eot, at := -1, -1 // unknown; not in r.buf
			if h.Length <= inPlaceMax {
				if r.w-r.start < h.Length {
					err = need(h.Length)
				}
				if err == nil {
					body = r.buf[r.start : r.start+h.Length : r.start+h.Length]
					at = r.start
					r.start += h.Length
					// A compressed body is done with once decompressed.
					r.aliased = r.aliased || h.Codec() == 0
				}
			} else {
				body, eot, err = p.readBody(r, h.Length, &charged)
			}
			if err == nil {
				if len(b.recs) == 0 {
					b.buf = r.buf
				} else if at >= 0 && unsafe.SliceData(b.buf) != unsafe.SliceData(r.buf) {
					at = -1 // in a buffer after the batch's
				}
				p.dataFrame(body, h, b, at, &bad, eot)
			}
			frames++
			size += 1 + h.Length // counted as the plaintext protocol counts it
		default:
			err = errors.New("a hello after the handshake")
		}
		if err != nil {
			break
		}
		if len(b.recs) >= batchMax {
			if err = flush(); err != nil {
				break
			}
		}
	}
	if b != nil {
		_ = flush()
		if b != nil {
			putMsgBatch(b)
		}
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		n.debugf("connection with %s ended: %v", p.id, err)
	}
	p.chargePending(&charged, 0)
	if errors.Is(err, io.EOF) {
		p.byeReceived.Store(true)
		if !p.byeSent.Load() {
			// The peer closed its side (TLS close_notify): what is queued
			// for it goes out first, then our close_notify (closeNative).
			p.closeGracefully()
			<-p.writerDone
		}
	}
	p.teardown()
	<-p.writerDone
	n.peerGone(p)
}

// closeNative ends a native connection once everything queued is written
// (finishWrites): TLS close_notify tells the peer that nothing more comes.
// A peer of ours then writes what it has queued for us and answers with its
// own close_notify, at which the reader, having delivered all of it, ends
// the connection: nothing either side accepted before the close is lost,
// however late the other's writer runs. A peer that does not answer within
// closeLinger of its last byte, or by the stop deadline, is closed anyway.
func (p *Peer) closeNative() {
	p.armWriteDeadline()
	tc, ok := p.conn.(interface{ CloseWrite() error })
	if !ok || tc.CloseWrite() != nil {
		p.teardown()
		return
	}
	p.byeSent.Store(true)
	if p.byeReceived.Load() { // the peer's came first: the reader waits for us
		p.teardown()
		return
	}
	p.wmu.Lock()
	stopAt := p.stopAt
	p.wmu.Unlock()
	got := p.stats.receivedBytes.Load()
	deadline := time.Now().Add(closeLinger)
	t := time.NewTicker(closeLinger / 10)
	defer t.Stop()
	for {
		select {
		case <-p.closed:
			return
		case now := <-t.C:
			if g := p.stats.receivedBytes.Load(); g != got || p.pushing.Load() {
				got, deadline = g, now.Add(closeLinger) // the peer still sends, or we deliver
			}
			if now.After(deadline) || (!stopAt.IsZero() && now.After(stopAt)) {
				p.teardown()
				return
			}
		}
	}
}

// readBody reads the body of a large data frame into a buffer of its own,
// charged against the memory caps while it is read. Each piece is searched
// for EOT as it comes, while in the cache: eot is 1 when one is in the
// body, else 0 (see dataFrame).
func (p *Peer) readBody(r *nativeReader, length int, charged *int64) (body []byte, eot int, err error) {
	n := p.node
	if over := p.chargePending(charged, int64(length)); over != "" {
		p.stats.overMemory.Store(1)
		n.stats.overMemory.Add(1)
		return nil, 0, errorf(ErrFrameTooLarge, "%s: a frame of %d bytes takes %s over the limit", p.id, length, over)
	}
	got := 0
	if k := min(r.w-r.start, length); k > 0 {
		// What is buffered starts it: the rest of it need not be zeroed.
		body = makeNoZero(r.buf[r.start:r.start+k], length)
		r.start += k
		got = k
	} else {
		body = make([]byte, length)
	}
	if bytes.IndexByte(body[:got], wire.EOT) >= 0 {
		eot = 1
	}
	// A large body is read in pieces, each of which shows the peer alive to
	// the heartbeat: a slow link is not a silent one.
	for got < len(body) {
		k, err := io.ReadFull(r, body[got:min(len(body), got+readBufferMax)])
		if eot == 0 && bytes.IndexByte(body[got:got+k], wire.EOT) >= 0 {
			eot = 1
		}
		got += k
		if err != nil {
			return nil, 0, err
		}
		if got < len(body) {
			p.lastRecv.Store(time.Now().UnixNano())
		}
	}
	p.chargePending(charged, 0)
	return body, eot, nil
}

// dataFrame adds the message of a data frame's body to b; at is where body
// lies in b.buf (-1: elsewhere), and eot tells whether it holds EOT (1 or
// 0, when readBody found out), or -1.
func (p *Peer) dataFrame(body []byte, h native.Header, b *msgBatch, at int, bad *int, eot int) {
	n := p.node
	payload, codec := body, wire.Compression(h.Codec())
	ascii := false
	if eot < 0 && codec == wire.CompressionNone {
		// One pass finds EOT and, for a small payload, whether it is ASCII.
		var i int
		i, ascii = wire.ScanFrame(payload)
		eot = 0
		if i >= 0 {
			eot, ascii = 1, false
		}
	}
	if codec == wire.CompressionNone && (eot == 1 || len(payload) == 0 || wire.IsCompressedFrame(payload)) {
		// wire.NeedsCompressedPath, with EOT searched above or by readBody:
		// the plaintext protocol carries such a payload compressed, and
		// reports zlib; so does the native one, so that what an
		// application sees does not depend on the transport.
		codec = wire.CompressionZlib
	} else if codec != wire.CompressionNone {
		var err error
		if payload, err = wire.Decompress(body, codec, n.cfg.MaxDecompressedSize); err != nil {
			*bad++
			n.debugf("dropped a frame from %s: %v", p.id, err)
			return
		}
	}
	b.add(payload, at, at >= 0 && h.Codec() == 0, wire.ClassifyText(payload, ascii), codec)
}

// encodeNative makes the native data frame for payload, compressed with
// c, enforcing the frame size limit.
func (n *Node) encodeNative(payload []byte, c Compression) ([]byte, error) {
	body := payload
	if c != wire.CompressionNone {
		var err error
		if body, err = wire.Compress(payload, c); err != nil {
			return nil, errorf(ErrInvalidArgument, "%v", err)
		}
		// The codec travels in the flags, not as the tag Compress appends.
		body = body[:len(body)-len(c.String())]
	}
	if len(body) > n.cfg.MaxFrameSize {
		return nil, errorf(ErrMessageTooLarge, "%d bytes on the wire, limit %d", len(body), n.cfg.MaxFrameSize)
	}
	return native.AppendFrame(make([]byte, 0, native.HeaderSize+len(body)), native.TypeData, byte(c), body), nil
}
