package p2p

import (
	"bufio"
	"crypto/ed25519"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

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
	// stallBytes and stallSince: the bytes sent when the heartbeat last saw
	// progress, and when (the heartbeat's own).
	stallBytes int64
	stallSince time.Time
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
	for _, s := range batch {
		for len(s) > 0 {
			piece := s[:min(len(s), nativeWritePiece)]
			p.armWriteDeadline()
			k, err := p.conn.Write(piece)
			total += int64(k)
			s = s[k:]
			if err == nil {
				continue
			}
			p.wmu.Lock()
			stopAt, stalled := p.stopAt, p.stalledNative
			p.wmu.Unlock()
			if errors.Is(err, os.ErrDeadlineExceeded) && !stopAt.IsZero() && !time.Now().Before(stopAt) {
				return total, errStopDeadline
			}
			if stalled {
				return total, errStalled
			}
			return total, err
		}
	}
	return total, nil
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

// smallFrame is the largest frame carved out of a shared slab rather than
// given a buffer of its own.
const (
	smallFrame = 4 << 10
	slabSize   = 64 << 10
	batchMax   = 1024 // message events handed to the dispatcher at once
)

// nativeReadLoop reads native frames until the connection ends, hands
// messages to the dispatcher in batches (as many as are buffered), and
// finally raises the disconnected event. Each frame's body is read
// straight into a buffer of its size (small ones share a slab that is
// never written twice), which the delivered message keeps.
func (p *Peer) nativeReadLoop() {
	n := p.node
	defer n.wg.Done()
	br := p.br
	var hdr [native.HeaderSize]byte
	var slab []byte
	var charged int64
	evp := evPool.Get().(*[]Event)
	*evp = (*evp)[:0]
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
		if len(*evp) == 0 {
			return nil
		}
		p.pushing.Store(true)
		ok := n.events.pushMessages(evp, p.closed)
		p.pushing.Store(false)
		if !ok {
			recycleEvents(evp)
			evp = nil
			return net.ErrClosed
		}
		evp = evPool.Get().(*[]Event)
		*evp = (*evp)[:0]
		return nil
	}
	var err error
	for {
		if _, err = io.ReadFull(br, hdr[:]); err != nil {
			break
		}
		var h native.Header
		if h, err = native.ParseHeader(hdr[:], n.cfg.MaxFrameSize); err != nil {
			p.receiveErrors(1)
			err = errorf(ErrFrameTooLarge, "%s: %v", p.id, err)
			break
		}
		switch h.Type {
		case native.TypePing:
			p.pongDue.Store(true)
			p.wakeWriter()
		case native.TypePong:
		case native.TypeExt:
			err = p.readExt(br, h)
		case native.TypeData:
			err = p.readData(br, h, &slab, &charged, evp, &bad)
			frames++
			size += 1 + h.Length // counted as the plaintext protocol counts it
		default:
			err = errors.New("a hello after the handshake")
		}
		if err != nil {
			break
		}
		if br.Buffered() < native.HeaderSize || len(*evp) >= batchMax {
			if err = flush(); err != nil {
				break
			}
		}
	}
	if evp != nil {
		_ = flush()
		if evp != nil {
			recycleEvents(evp)
		}
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		n.debugf("connection with %s ended: %v", p.id, err)
	}
	p.chargePending(&charged, 0)
	p.teardown()
	<-p.writerDone
	n.peerGone(p)
}

// readData reads the body of a data frame and appends its message event.
func (p *Peer) readData(br *bufio.Reader, h native.Header, slab *[]byte, charged *int64, evp *[]Event, bad *int) error {
	n := p.node
	var body []byte
	if h.Length <= smallFrame {
		if len(*slab) < h.Length {
			*slab = make([]byte, slabSize)
		}
		body = (*slab)[:h.Length:h.Length]
		*slab = (*slab)[h.Length:]
	} else {
		if over := p.chargePending(charged, int64(h.Length)); over != "" {
			p.stats.overMemory.Store(1)
			n.stats.overMemory.Add(1)
			return errorf(ErrFrameTooLarge, "%s: a frame of %d bytes takes %s over the limit", p.id, h.Length, over)
		}
		body = make([]byte, h.Length)
	}
	// A large body is read in pieces, each of which shows the peer alive to
	// the heartbeat: a slow link is not a silent one.
	for got := 0; got < len(body); {
		k, err := io.ReadFull(br, body[got:min(len(body), got+readBufferMax)])
		got += k
		if err != nil {
			return err
		}
		if got < len(body) {
			p.lastRecv.Store(time.Now().UnixNano())
		}
	}
	p.chargePending(charged, 0)
	payload, codec := body, wire.Compression(h.Codec())
	if codec == wire.CompressionNone && wire.NeedsCompressedPath(payload) {
		// The plaintext protocol carries such a payload compressed, and
		// reports zlib: so does the native one, so that what an
		// application sees does not depend on the transport.
		codec = wire.CompressionZlib
	} else if codec != wire.CompressionNone {
		var err error
		if payload, err = wire.Decompress(body, codec, n.cfg.MaxDecompressedSize); err != nil {
			*bad++
			n.debugf("dropped a frame from %s: %v", p.id, err)
			return nil
		}
	}
	*evp = appendMessage(*evp, p, payload, codec)
	return nil
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
