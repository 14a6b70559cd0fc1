package p2p

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/p2pnode/p2pnode/p2p/native"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// The negotiation of the native protocol (see p2p/native/doc.go): our
// listener speaks first, a p2pnetwork peer never does.

// readerSize is the buffer a native peer is read through: small frames are
// parsed out of it, large ones read straight into their own buffer.
const readerSize = 64 << 10

// awaitGreeting waits, before sending anything, for a listener of ours to
// greet us. It reports whether one did; false means the peer is taken for
// a p2pnetwork one. The greeting (the listener's plain id) carries nothing
// the native hello does not repeat, so it is dropped.
func (n *Node) awaitGreeting(conn net.Conn, key string, connectTime time.Duration) (bool, error) {
	wait := n.cfg.negotiationWait(connectTime)
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, wire.MaxHandshake)
	r, err := conn.Read(buf)
	// The native handshake, or the plaintext one, has a bound of its own.
	n.renewDeadline(conn)
	if r > 0 {
		return true, nil
	}
	if n.ctx.Err() != nil {
		return false, errorf(ErrStopped, "connect to %s", key)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		n.debugf("%s did not greet us within %v: a p2pnetwork peer", key, wait)
		if n.cfg.Encryption == EncryptionRequired {
			return false, n.refusePlainListener(conn, key)
		}
		return false, nil
	}
	// A full p2pnetwork node hangs up without a word.
	return false, errorf(ErrRefused, "%s (its connection limit may be reached)", key)
}

// refusePlainListener ends a connection with a p2pnetwork listener in
// required mode without harming it: it gets a plain hello (anything else
// could end its accept loop), its reply is read, and the connection is
// reset, which it notices.
func (n *Node) refusePlainListener(conn net.Conn, key string) error {
	if _, err := conn.Write(wire.Hello(n.id, n.port)); err == nil {
		buf := make([]byte, wire.MaxHandshake)
		_, _ = conn.Read(buf)
	}
	resetClose(conn)
	return fmt.Errorf("%w: %s did not offer the native protocol", ErrEncryptionRequired, key)
}

// plainAllowed says whether a peer claiming id may connect in plaintext:
// not in required mode, and not when the id is pinned to a key (it was
// seen native: a downgrade) or an allow-list is set.
func (n *Node) plainAllowed(id string) error {
	if n.cfg.Encryption == EncryptionOff {
		return nil
	}
	if n.cfg.Encryption == EncryptionRequired {
		return ErrEncryptionRequired
	}
	return n.trust.CheckPlain(id)
}

// resetClose closes conn with a reset (SO_LINGER 0), the close a
// p2pnetwork peer notices.
func resetClose(conn net.Conn) {
	if lc, ok := conn.(interface{ SetLinger(int) error }); ok {
		_ = lc.SetLinger(0)
	}
	_ = conn.Close()
}

// readFirst reads until the dialer's first bytes (buf[:r] so far) tell a
// plain hello from the native magic; for the magic, rest is the start of
// its TLS stream.
func readFirst(conn net.Conn, buf []byte, r int) (native.First, []byte, error) {
	for {
		kind, rest := native.ClassifyFirst(buf[:r])
		if kind != native.FirstMore {
			return kind, rest, nil
		}
		k, err := conn.Read(buf[r:])
		r += k
		if err != nil && k == 0 {
			return native.FirstBad, nil, err
		}
	}
}

// prefixConn is a connection whose first reads return bytes already read
// from it.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		k := copy(b, c.prefix)
		c.prefix = c.prefix[k:]
		return k, nil
	}
	return c.Conn.Read(b)
}

// countingConn counts the bytes written to the socket under a TLS
// connection, so that the writer can tell a slow peer (bytes still go out)
// from a stalled one without a write deadline, which TLS cannot survive.
type countingConn struct {
	net.Conn
	written atomic.Int64
	sr      sockReader // what TLS reads through (native_peer.go)
	// While the writer writes a batch: TLS records gathered for one write,
	// and the error of that write, which TLS was told had succeeded. (TLS
	// itself may write from the reader, answering a key update.)
	wmu  sync.Mutex
	wbuf []byte
	werr error
}

func (c *countingConn) Write(b []byte) (int, error) {
	if k, ok, err := c.bufferWrite(b); ok { // native_peer.go
		return k, err
	}
	k, err := c.Conn.Write(b)
	c.written.Add(int64(k))
	return k, err
}

// nativeLink is a finished native handshake: the TLS connection, what is
// buffered from it, and what the peer proved and claimed.
type nativeLink struct {
	tc    *tls.Conn
	raw   *countingConn // under tc: what reached the socket
	bound *recordBound  // what tc reads through (sealed.go)
	br    *bufio.Reader
	key   ed25519.PublicKey
	hello native.Hello
}

func (n *Node) ourHello() native.Hello {
	return native.Hello{ID: n.id, Port: n.port, Version: native.Version, Caps: n.nativeCaps(),
		HeartbeatMillis: n.cfg.HeartbeatInterval.Milliseconds()}
}

// readHello reads the peer's hello frame and checks the id it claims
// against the key it proved.
func (n *Node) readHello(l *nativeLink) error {
	var hdr [native.HeaderSize]byte
	if _, err := io.ReadFull(l.br, hdr[:]); err != nil {
		return fmt.Errorf("read hello: %w", err)
	}
	h, err := native.ParseHeader(hdr[:], native.MaxHelloSize)
	if err != nil {
		return err
	}
	if h.Type != native.TypeHello {
		return fmt.Errorf("first frame is of type %d, not a hello", h.Type)
	}
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(l.br, body); err != nil {
		return fmt.Errorf("read hello: %w", err)
	}
	if l.hello, err = native.DecodeHello(body); err != nil {
		return err
	}
	if l.hello.ID == n.id {
		return errorf(ErrSelfConnect, "the peer has this node's id")
	}
	return n.trust.Check(l.hello.ID, l.key)
}

// defaultCaps are what every native node announces: sealed records and the
// overlay's protocols.
var defaultCaps = append([]string{native.SealedCapability}, overlayCaps...)

// nativeCaps is what the node's hellos announce: defaultCaps but for what a
// test took away (WithoutCapability) to play an earlier version of ours.
func (n *Node) nativeCaps() []string {
	if n.caps != nil {
		return n.caps
	}
	return defaultCaps
}

// peerConn is what a native peer's frames go through once the hellos are
// through: sealed records when both offered them, TLS otherwise.
func (n *Node) peerConn(l *nativeLink, dialer bool) (net.Conn, error) {
	if !slices.Contains(n.nativeCaps(), native.SealedCapability) || !slices.Contains(l.hello.Caps, native.SealedCapability) {
		l.bound.on = false
		return l.tc, nil
	}
	if k := l.br.Buffered(); k > 0 {
		return nil, fmt.Errorf("%d bytes in TLS after the hello, where sealed records begin", k)
	}
	cs := l.tc.ConnectionState()
	return newSealedConn(l.raw, cs.ExportKeyingMaterial, dialer)
}

func (n *Node) writeHello(l *nativeLink) error {
	frame, err := native.EncodeHello(n.ourHello())
	if err != nil {
		return err
	}
	if _, err := l.tc.Write(frame); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	return nil
}

func (n *Node) tlsHandshake(l *nativeLink) error {
	if err := l.tc.HandshakeContext(n.ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	var err error
	if l.key, err = native.PeerKey(l.tc.ConnectionState()); err != nil {
		return err
	}
	l.br = bufio.NewReaderSize(l.tc, readerSize)
	return nil
}

// dialNative runs the dialer's side once the listener greeted us: the
// magic, TLS, the hellos.
func (n *Node) dialNative(conn net.Conn, host string, port int, key string, stop func() bool) (*Peer, error) {
	fail := func(err error) (*Peer, error) {
		conn.Close()
		if n.ctx.Err() != nil {
			return nil, errorf(ErrStopped, "connect to %s", key)
		}
		if errors.Is(err, ErrSelfConnect) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: native handshake with %s: %w", ErrHandshake, key, err)
	}
	if _, err := conn.Write([]byte(native.Magic)); err != nil {
		return fail(err)
	}
	raw := &countingConn{Conn: conn}
	bound := &recordBound{Conn: raw, on: true}
	l := &nativeLink{tc: tls.Client(bound, n.tlsClient), raw: raw, bound: bound}
	if err := n.tlsHandshake(l); err != nil {
		return fail(err)
	}
	if err := n.writeHello(l); err != nil {
		return fail(err)
	}
	if err := n.readHello(l); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			conn.Close()
			return nil, fmt.Errorf("%w: %s hung up in the native handshake (its connection limit may be reached, or it does not trust our key): %w", ErrRefused, key, err)
		}
		return fail(err)
	}
	pc, err := n.peerConn(l, true)
	if err != nil {
		return fail(err)
	}
	if !stop() {
		return fail(ErrStopped)
	}
	_ = conn.SetDeadline(time.Time{})
	id := l.hello.ID
	remoteIP := hostOf(conn.RemoteAddr())
	n.mu.Lock()
	if n.state != stateStarted {
		n.mu.Unlock()
		conn.Close()
		return nil, ErrStopped
	}
	// Only a peer that proved the same key is the same node: a claim of
	// the id without it (a plaintext socket, another key) is not.
	for _, q := range n.inbound {
		if q.id == id && q.native && q.peerKey.Equal(l.key) && (q.host == host || q.host == remoteIP) {
			n.mu.Unlock()
			conn.Close()
			return q, errorf(ErrAlreadyConnected, "%s (%s) is connected with us already", key, id)
		}
	}
	p := newPeer(n, pc, id, host, port, Outbound)
	p.setNative(conn, l)
	p.share = n.shareLocked(remoteIP)
	n.add(p)
	n.activate(p, nil)
	n.mu.Unlock()
	return p, nil
}

// acceptNative runs the listener's side once the dialer sent the magic;
// rest is what followed it. It returns the peer, or nil when the handshake
// failed (the caller then closes the connection).
func (n *Node) acceptNative(h *handshake, rest []byte, stop func() bool) *Peer {
	conn := h.conn
	// The TLS handshake has a bound of its own, from the magic on.
	n.renewDeadline(conn)
	raw := &countingConn{Conn: conn}
	bound := &recordBound{Conn: &prefixConn{Conn: raw, prefix: append([]byte(nil), rest...)}, on: true}
	l := &nativeLink{tc: tls.Server(bound, n.tlsServer), raw: raw, bound: bound}
	err := n.tlsHandshake(l)
	if err == nil {
		err = n.readHello(l)
	}
	var pc net.Conn
	if err == nil {
		pc, err = n.peerConn(l, false)
	}
	if errors.Is(err, ErrSelfConnect) {
		// We dialled ourselves: the dialling side sees its own id and gives up.
		_ = n.writeHello(l)
		return nil
	}
	if err != nil {
		n.debugf("native handshake with %v failed: %v", conn.RemoteAddr(), err)
		return nil
	}
	n.mu.Lock()
	if n.state != stateStarted || h.evicted {
		n.mu.Unlock()
		return nil
	}
	n.unlistHandshakeLocked(h)
	h.evicted = true // off the lists: the deferred cleanup leaves them alone
	n.releaseLocked(h)
	if !n.slotLocked() {
		n.mu.Unlock()
		n.stats.rejected.Add(1)
		n.debugf("new connection from %v is closed: the maximum of %d inbound connections is reached", conn.RemoteAddr(), n.maxIn.Load())
		return nil
	}
	// Listed and announced before our hello goes out, so that once the
	// dialler's Connect returns, this node knows the peer too, and whoever
	// sees it listed finds its connected event queued. Sends queue up until
	// the writer starts, after the hello.
	p := newPeer(n, pc, l.hello.ID, hostOf(conn.RemoteAddr()), l.hello.Port, Inbound)
	p.setNative(conn, l)
	p.share = h.share
	n.add(p)
	n.announce(p)
	n.mu.Unlock()
	err = n.writeHello(l)
	stop()
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		// Announced already: the reader finds the connection closed and
		// raises the disconnected event.
		n.debugf("native handshake with %v ended: %v", conn.RemoteAddr(), err)
		p.teardown()
	}
	_ = conn.SetDeadline(time.Time{})
	p.lastFrame.Store(time.Now().UnixNano())
	n.start(p, nil)
	return p
}

// splitGluedHello splits a plaintext hello read after our greeting from
// the messages that came with it. A p2pnetwork hello is "<id>:<port>" with
// no terminator, and messages end with EOT; with no EOT in chunk it is all
// hello. Otherwise the hello ends after the decimal port that follows the
// first ':' (at most 5 digits, at most 65535), so a first message that
// starts with a digit could lose digits to the port: the one ambiguity of
// a dialer that sends before we read (see p2p/native/doc.go).
func splitGluedHello(chunk []byte) (hello, rest []byte) {
	if bytes.IndexByte(chunk, wire.EOT) < 0 {
		return chunk, nil
	}
	colon := bytes.IndexByte(chunk, ':')
	if colon < 0 {
		return chunk, nil
	}
	end, port := colon+1, 0
	for end < len(chunk) && end-colon <= 5 && chunk[end] >= '0' && chunk[end] <= '9' && port*10+int(chunk[end]-'0') <= 65535 {
		port = port*10 + int(chunk[end]-'0')
		end++
	}
	if end == colon+1 {
		return chunk, nil
	}
	return chunk[:end], chunk[end:]
}

// renewDeadline gives the next phase of a handshake HandshakeTimeout, but
// never undoes the deadline Stop set to end it.
func (n *Node) renewDeadline(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(n.cfg.HandshakeTimeout))
	if n.ctx.Err() != nil {
		_ = conn.SetDeadline(time.Now())
	}
}
