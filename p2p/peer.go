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
	readBufferMax = 256 << 10 // what a busy peer grows to
	spareMax      = 1 << 20   // largest write buffer kept for reuse
	// closeLinger bounds how long a closing connection waits for the peer
	// to close its side after ours is flushed; reference peers never do.
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

	wmu      sync.Mutex
	wbuf     []byte // frames waiting for the writer
	spare    []byte
	inflight int  // bytes the writer is writing now
	closing  bool // no more sends; the writer flushes and closes
	wake     chan struct{}
	room     chan struct{} // closed and replaced when the writer frees room

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
func (p *Peer) ID() string { return p.id }

// Host is the peer's address: the host dialled for outbound peers, the
// remote IP for inbound ones.
func (p *Peer) Host() string { return p.host }

// Port is the peer's listening port: the port dialled for outbound peers,
// the one sent in the handshake for inbound ones.
func (p *Peer) Port() int { return p.port }

// Direction tells whether the peer dialled us or we dialled it.
func (p *Peer) Direction() Direction { return p.dir }

// Node is the node this peer belongs to (the reference's main_node).
func (p *Peer) Node() *Node { return p.node }

// Handle is a number that names the peer within its node until its
// disconnected event has been delivered; it is never reused by that node.
func (p *Peer) Handle() uint64 { return p.handle }

// String describes the peer as the reference's NodeConnection does.
func (p *Peer) String() string {
	return fmt.Sprintf("NodeConnection: %s:%d <-> %s:%d (%s)", p.node.host, p.node.port, p.host, p.port, p.id)
}

// SetInfo stores value under key in the peer's own store.
func (p *Peer) SetInfo(key string, value any) {
	p.infoMu.Lock()
	defer p.infoMu.Unlock()
	if p.info == nil {
		p.info = make(map[string]any)
	}
	p.info[key] = value
}

// Info returns what SetInfo stored under key.
func (p *Peer) Info(key string) (any, bool) {
	p.infoMu.Lock()
	defer p.infoMu.Unlock()
	v, ok := p.info[key]
	return v, ok
}

// InfoKeys lists the keys of the peer's store.
func (p *Peer) InfoKeys() []string {
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
	frame, err := p.node.encode(payload, c)
	if err != nil {
		return err
	}
	return p.enqueue(frame)
}

// Stop disconnects the peer, as Node.Disconnect does.
func (p *Peer) Stop() error { return p.node.Disconnect(p) }

// enqueue appends an encoded frame to the write queue.
func (p *Peer) enqueue(frame []byte) error {
	var timer *time.Timer
	p.wmu.Lock()
	for {
		if p.closing {
			p.wmu.Unlock()
			return errorf(ErrPeerClosed, "%s", p.id)
		}
		queued := len(p.wbuf) + p.inflight
		if queued == 0 || queued+len(frame) <= p.node.cfg.MaxQueuedBytes {
			break
		}
		room := p.room
		p.wmu.Unlock()
		if timer == nil {
			timer = time.NewTimer(p.node.cfg.SendTimeout)
			defer timer.Stop()
		}
		select {
		case <-room:
		case <-p.closed:
			return errorf(ErrPeerClosed, "%s", p.id)
		case <-timer.C:
			return errorf(ErrQueueFull, "%s: %d bytes queued for %v", p.id, queued, p.node.cfg.SendTimeout)
		}
		p.wmu.Lock()
	}
	p.wbuf = append(p.wbuf, frame...)
	p.wmu.Unlock()
	p.node.sent.Add(1)
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

// writeLoop writes queued frames, coalescing all that queued up during the
// previous write into one write call. On closing it flushes, then shuts down
// its side of the connection.
func (p *Peer) writeLoop() {
	defer close(p.writerDone)
	for {
		select {
		case <-p.wake:
		case <-p.closed:
			return
		}
		for {
			p.wmu.Lock()
			buf, closing := p.wbuf, p.closing
			p.wbuf, p.spare = p.spare[:0], nil
			p.inflight = len(buf)
			p.wmu.Unlock()
			if len(buf) == 0 {
				if closing {
					p.finishWrites()
					return
				}
				break
			}
			_, err := p.conn.Write(buf)
			p.wmu.Lock()
			p.inflight = 0
			if cap(buf) <= spareMax {
				p.spare = buf[:0]
			}
			close(p.room)
			p.room = make(chan struct{})
			p.wmu.Unlock()
			if err != nil {
				p.node.debugf("write to %s failed: %v", p.id, err)
				p.teardown()
				return
			}
		}
	}
}

// finishWrites sends FIN once everything queued is written, and gives the
// reader closeLinger to see the peer close its side before the socket goes.
// Closing a socket with unread input would reset the connection and could
// destroy data still on its way to the peer.
func (p *Peer) finishWrites() {
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
func (p *Peer) readLoop(initial []byte) {
	n := p.node
	defer n.wg.Done()
	buf := make([]byte, 0, max(readBufferMin, len(initial)))
	buf = append(buf, initial...)
	busy := false
	var err error
	for {
		if buf, err = p.deliverFrames(buf); err != nil {
			break
		}
		if len(buf) > n.cfg.MaxFrameSize {
			n.rerr.Add(1)
			err = errorf(ErrFrameTooLarge, "%s sent over %d bytes without EOT", p.id, n.cfg.MaxFrameSize)
			break
		}
		// Grow for a frame that fills the buffer, or for a busy stream that
		// fills it on every read; an idle peer keeps the small buffer.
		if len(buf) == cap(buf) || busy && cap(buf) < readBufferMax {
			nb := make([]byte, len(buf), min(2*cap(buf), max(readBufferMax, n.cfg.MaxFrameSize+1)))
			copy(nb, buf)
			buf = nb
		}
		free := cap(buf) - len(buf)
		var r int
		r, err = p.conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+r]
		busy = r == free
		if err != nil {
			if r > 0 {
				buf, _ = p.deliverFrames(buf)
			}
			if len(buf) > 0 {
				n.debugf("%s closed in the middle of a frame (%d bytes dropped)", p.id, len(buf))
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

// deliverFrames hands every complete frame in buf to the dispatcher and
// returns what is left of the last, incomplete frame at the start of buf.
func (p *Peer) deliverFrames(buf []byte) ([]byte, error) {
	last := bytes.LastIndexByte(buf, wire.EOT)
	if last < 0 {
		return buf, nil
	}
	n := p.node
	// One copy of all complete frames: the handler may keep message data,
	// and buf is reused for the next read.
	block := make([]byte, last+1)
	copy(block, buf[:last+1])
	evs := make([]Event, 0, 8)
	for len(block) > 0 {
		i := bytes.IndexByte(block, wire.EOT)
		frame := block[:i:i]
		block = block[i+1:]
		n.recv.Add(1)
		payload, codec, err := wire.DecodeFrame(frame, n.cfg.MaxDecompressedSize)
		if err != nil {
			n.rerr.Add(1)
			n.debugf("dropped a frame from %s: %v", p.id, err)
			continue
		}
		evs = append(evs, Event{Type: EventMessage, Node: n, Peer: p,
			Message: Message{Kind: wire.Classify(payload), Data: payload, Compression: codec}})
	}
	rest := copy(buf, buf[last+1:])
	buf = buf[:rest]
	if cap(buf) > readBufferMax && rest < readBufferMin {
		buf = append(make([]byte, 0, readBufferMin), buf...)
	}
	if len(evs) > 0 && !n.events.pushMessages(evs, p.closed) {
		return buf, net.ErrClosed
	}
	return buf, nil
}
