package p2p_test

// Hostile peers over real loopback sockets: whatever a peer sends or does
// must cost at most its own connection, with the node going on serving
// well-behaved peers, memory staying bounded, and nothing already accepted
// lost. Each test ends by checking that a well-behaved peer still exchanges
// messages with the node under attack (hostileServing); goleak (TestMain)
// checks that no goroutine is left once the nodes stop.

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// hostileDial opens a raw TCP connection to n, closed at the end of the test.
func hostileDial(t *testing.T, n *p2p.Node) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port())), waitLimit)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

// hostileHandshake dials n, sends hello and reads the node's id.
func hostileHandshake(t *testing.T, n *p2p.Node, hello string) *net.TCPConn {
	t.Helper()
	c := hostileDial(t, n)
	_, err := c.Write([]byte(hello))
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(waitLimit)))
	buf := make([]byte, wire.MaxHandshake)
	r, err := c.Read(buf)
	require.NoError(t, err)
	require.Equal(t, n.ID(), string(buf[:r]))
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	return c
}

// hostileReset closes c with SO_LINGER 0: the peer gets a RST.
func hostileReset(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

// hostileInboundWithID waits for n's inbound peer whose id is id.
func hostileInboundWithID(t *testing.T, n *p2p.Node, id string) *p2p.Peer {
	t.Helper()
	var found *p2p.Peer
	eventually(t, "inbound peer "+hostileShort(id), func() bool {
		for _, p := range n.Inbound() {
			if p.ID() == id {
				found = p
				return true
			}
		}
		return false
	})
	return found
}

func hostileShort(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}

func hostileHasText(r *recorder, text string) func() bool {
	return func() bool {
		for _, m := range r.messages() {
			if m.Text() == text {
				return true
			}
		}
		return false
	}
}

// hostileServing checks that victim (whose events r records) still accepts
// a new well-behaved peer and exchanges a message with it both ways.
func hostileServing(t *testing.T, victim *p2p.Node, r *recorder) {
	t.Helper()
	gr := &recorder{}
	good, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard}, gr.handle)
	require.NoError(t, err)
	require.NoError(t, good.Start())
	defer func() { require.NoError(t, good.Stop()) }()
	out, err := good.Connect("127.0.0.1", victim.Port(), false)
	require.NoError(t, err, "a well-behaved peer can connect")
	in := hostileInboundWithID(t, victim, good.ID())
	hello := "hello from " + good.ID()[:8]
	require.NoError(t, out.Send(p2p.Text(hello), p2p.None))
	eventually(t, "the victim receives", hostileHasText(r, hello))
	reply := "reply to " + good.ID()[:8]
	require.NoError(t, in.Send(p2p.Text(reply), p2p.None))
	eventually(t, "the good peer receives", hostileHasText(gr, reply))
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// hostileAssertHeap fails when the heap in use grew by more than limit
// since before.
func hostileAssertHeap(t *testing.T, before uint64, limit uint64) {
	t.Helper()
	after := heapInuse()
	if after > before {
		assert.LessOrEqual(t, after-before, limit, "heap in use grew from %d MiB to %d MiB", before>>20, after>>20)
	}
}

func hostileWaitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(waitLimit)))
	buf := make([]byte, 64<<10)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s: the node did not close the connection", what)
		}
		return // EOF or reset
	}
}

func TestHostileGarbage(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{Limits: p2p.Limits{MaxFrameSize: 1 << 16}}, r)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		c := hostileDial(t, n)
		garbage := make([]byte, 1+rng.IntN(20000))
		for j := range garbage {
			garbage[j] = byte(rng.UintN(256))
			if j%97 == 0 {
				garbage[j] = []byte{wire.EOT, wire.CompressedMark, ':'}[j%3]
			}
		}
		_, _ = c.Write(garbage)
		if i%2 == 0 {
			hostileReset(c)
		} else {
			_ = c.Close()
		}
	}
	eventually(t, "garbage peers gone", func() bool { return len(n.Inbound()) == 0 })
	hostileServing(t, n, r)
}

// TestHostileSlowloris: peers that connect and never send their id do not
// stop others from connecting (handshakes run concurrently), and each is
// hung up on after HandshakeTimeout.
func TestHostileSlowloris(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{Limits: p2p.Limits{HandshakeTimeout: time.Minute}}, r)
	silent := make([]*net.TCPConn, 200)
	for i := range silent {
		silent[i] = hostileDial(t, n)
	}
	hostileServing(t, n, r)
	for _, c := range silent {
		_ = c.Close()
	}

	// The timeout ends the wait for a silent peer.
	short := startNode(t, p2p.Config{Limits: p2p.Limits{HandshakeTimeout: 200 * time.Millisecond}}, &recorder{})
	var wg sync.WaitGroup
	for range 20 {
		c := hostileDial(t, short)
		wg.Go(func() { hostileWaitClosed(t, c, "silent peer") })
	}
	wg.Wait()
	assert.Empty(t, short.Inbound())
}

// TestHostileSlowlorisAtTheLimit: with MaxConnections, silent peers hold
// the slots of the handshakes they never finish, but only until
// HandshakeTimeout; then well-behaved peers get in again.
func TestHostileSlowlorisAtTheLimit(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{MaxConnections: 4, Limits: p2p.Limits{HandshakeTimeout: 300 * time.Millisecond}}, r)
	for range 4 {
		hostileDial(t, n)
	}
	eventually(t, "silent peers timed out", func() bool {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port())))
		if err != nil {
			return false
		}
		defer c.Close()
		_, _ = c.Write([]byte("probe:1"))
		_ = c.SetReadDeadline(time.Now().Add(waitLimit))
		r, _ := c.Read(make([]byte, 4096))
		return r > 0
	})
	eventually(t, "probe gone", func() bool { return len(n.Inbound()) == 0 })
	hostileServing(t, n, r)
}

func TestHostileIDs(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{}, r)

	colons := strings.Repeat(":", 1000)
	c := hostileHandshake(t, n, colons)
	p := hostileInboundWithID(t, n, colons)
	assert.Equal(t, colons, p.ID(), "an id with many ':' is all id")
	_, err := c.Write([]byte("after colons\x04"))
	require.NoError(t, err)
	eventually(t, "message after a colon id", hostileHasText(r, "after colons"))

	// 100 KB of id: the node reads one chunk of at most 4096 bytes as the
	// id; the rest is stream data.
	long := bytes.Repeat([]byte("L"), 100<<10)
	c2 := hostileDial(t, n)
	_, err = c2.Write(long)
	require.NoError(t, err)
	require.NoError(t, c2.SetReadDeadline(time.Now().Add(waitLimit)))
	reply := make([]byte, 4096)
	k, err := c2.Read(reply)
	require.NoError(t, err)
	assert.Equal(t, n.ID(), string(reply[:k]))
	eventually(t, "long-id peer listed", func() bool { return len(n.Inbound()) == 2 })
	for _, q := range n.Inbound() {
		assert.LessOrEqual(t, len(q.ID()), wire.MaxHandshake)
	}
	_, err = c2.Write([]byte("\x04after long id\x04"))
	require.NoError(t, err)
	eventually(t, "message after a long id", hostileHasText(r, "after long id"))

	// An empty id and an id that is only a port.
	hostileHandshake(t, n, ":")
	hostileHandshake(t, n, ":65535")
	eventually(t, "four peers", func() bool { return len(n.Inbound()) == 4 })
	hostileServing(t, n, r)
}

// TestHostileEndlessFrame: a peer streams bytes without EOT, as if
// announcing a 1 GB frame. The node disconnects it once MaxFrameSize is
// passed, counts a receive error, and its memory stays bounded.
func TestHostileEndlessFrame(t *testing.T) {
	r := &recorder{}
	const limit = 4 << 20
	n := startNode(t, p2p.Config{Limits: p2p.Limits{MaxFrameSize: limit}}, r)
	before := heapInuse()
	c := hostileHandshake(t, n, "endless:1")
	chunk := bytes.Repeat([]byte("G"), 64<<10)
	written := 0
	for written < 1<<30 {
		_ = c.SetWriteDeadline(time.Now().Add(waitLimit))
		k, err := c.Write(chunk)
		written += k
		if err != nil {
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "the node stopped reading but did not hang up")
			break
		}
	}
	assert.Less(t, written, 1<<30, "the node hung up before 1 GB")
	eventually(t, "endless peer dropped", func() bool { return len(r.ofType(p2p.EventInboundDisconnected)) == 1 })
	assert.Equal(t, uint64(1), n.ReceiveErrors())
	assert.Empty(t, r.messages())
	hostileAssertHeap(t, before, 64<<20)
	hostileServing(t, n, r)
}

// TestHostileCompressedFrames: bombs, bad base64, unknown codecs and
// corrupt bodies are dropped and counted; the connection stays and the
// frames around them arrive.
func TestHostileCompressedFrames(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{Limits: p2p.Limits{MaxDecompressedSize: 256 << 10}}, r)
	c := hostileHandshake(t, n, "bomber:1")
	frame := func(payload []byte, codec p2p.Compression) []byte {
		f, err := wire.AppendFrame(nil, payload, codec)
		require.NoError(t, err)
		return f
	}
	b64 := func(body string) []byte {
		return append([]byte(base64.StdEncoding.EncodeToString([]byte(body))), wire.CompressedMark, wire.EOT)
	}
	bad := [][]byte{
		frame(make([]byte, 2<<20), p2p.Zlib),
		frame(make([]byte, 2<<20), p2p.Bzip2),
		frame(make([]byte, 2<<20), p2p.Lzma),
		[]byte("!!not base64!!\x02\x04"),
		[]byte("eJzLSM3JyQcABiwCFXpsaWI\x02\x04"), // missing padding
		b64("no codec tag here"),
		b64("garbagezlib"),
		b64("garbagebzip2"),
		b64("garbagelzma"),
	}
	stream := []byte("first\x04")
	for _, f := range bad {
		stream = append(stream, f...)
	}
	stream = append(stream, "last\x04"...)
	_, err := c.Write(stream)
	require.NoError(t, err)
	eventually(t, "last frame", hostileHasText(r, "last"))
	msgs := r.messages()
	require.Len(t, msgs, 2)
	assert.Equal(t, "first", msgs[0].Text())
	assert.Equal(t, uint64(len(bad)), n.ReceiveErrors())
	assert.Len(t, n.Inbound(), 1, "the connection survives")
	hostileServing(t, n, r)
}

// TestHostileXZDictionaryBomb: an lzma frame of about 90 bytes whose xz
// header declares a 4 GiB dictionary. The decoder allocates what the header
// declares before inflating one byte, so without a check each such frame
// costs 4 GiB (and, once the heap is reused, seconds of zeroing): a few
// peers sending it take the process down.
func TestHostileXZDictionaryBomb(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{Limits: p2p.Limits{MaxDecompressedSize: 1 << 20}}, r)
	c := hostileHandshake(t, n, "xz-bomber:1")
	body, err := wire.Compress([]byte("tiny"), wire.CompressionLzma)
	require.NoError(t, err)
	xz := hostileXZSetDict(t, body[:len(body)-len("lzma")], 40)
	bomb := append([]byte(base64.StdEncoding.EncodeToString(append(xz, "lzma"...))), wire.CompressedMark, wire.EOT)
	before := totalAlloc()
	_, err = c.Write(append(bomb, "after\x04"...))
	require.NoError(t, err)
	eventually(t, "frame after the bomb", hostileHasText(r, "after"))
	used := totalAlloc() - before
	assert.Less(t, used, uint64(1<<30), "a %d-byte frame made the node allocate %d MiB", len(bomb), used>>20)
	assert.Len(t, n.Inbound(), 1, "the connection survives")
}

// hostileXZSetDict rewrites the LZMA2 dictionary size code of an xz
// stream's first block and fixes the block header's CRC32.
func hostileXZSetDict(t *testing.T, xz []byte, code byte) []byte {
	xz = bytes.Clone(xz)
	h := xz[12:]
	size := (int(h[0]) + 1) * 4
	i := 2
	for _, bit := range []byte{0x40, 0x80} {
		if h[1]&bit != 0 {
			for h[i]&0x80 != 0 {
				i++
			}
			i++
		}
	}
	require.Equal(t, []byte{0x21, 0x01}, h[i:i+2])
	h[i+2] = code
	crc := crc32IEEE(h[:size-4])
	h[size-4], h[size-3], h[size-2], h[size-1] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
	return xz
}

func crc32IEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xedb88320
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

// TestHostileNonReader: a peer that reads nothing while we send. Sends fail
// with ErrQueueFull after SendTimeout instead of queueing without bound,
// memory stays bounded, other peers are served, the peer is disconnected
// once it has stayed full without progress for SendTimeout, and what was
// queued for it is counted.
func TestHostileNonReader(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{Limits: p2p.Limits{MaxQueuedBytes: 256 << 10, SendTimeout: 100 * time.Millisecond}}, r)
	c := hostileHandshake(t, n, "sleeper:1")
	require.NoError(t, c.SetReadBuffer(16<<10))
	p := hostileInboundWithID(t, n, "sleeper")
	before := heapInuse()
	chunk := bytes.Repeat([]byte("s"), 64<<10)
	var err error
	sent := 0
	for ; sent < 100000 && err == nil; sent++ {
		err = p.Send(chunk, p2p.None)
	}
	require.ErrorIs(t, err, p2p.ErrQueueFull)
	hostileAssertHeap(t, before, 32<<20)
	eventually(t, "the stalled peer is disconnected", func() bool { return len(r.ofType(p2p.EventInboundDisconnected)) == 1 })
	ev := r.ofType(p2p.EventInboundDisconnected)[0]
	assert.Equal(t, uint64(1), ev.Counters.Stalled)
	assert.NotZero(t, ev.Counters.DroppedOverflow)
	assert.Equal(t, ev.Counters.Accepted, ev.Counters.Written+ev.Counters.Dropped(), "%+v", ev.Counters)
	assert.Equal(t, uint64(1), ev.Counters.Refused)
	hostileServing(t, n, r)
	_ = c // read nothing until the test ends
}

// TestHostileResets: peers that reset (SO_LINGER 0) or half-close at every
// stage. Each costs only its own connection; every connection that was up
// gets its disconnected event.
func TestHostileResets(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{Limits: p2p.Limits{SendTimeout: time.Second}}, r)

	// Before sending an id.
	hostileReset(hostileDial(t, n))
	// After the id, before reading the node's.
	c := hostileDial(t, n)
	_, err := c.Write([]byte("reset-after-hello:1"))
	require.NoError(t, err)
	hostileReset(c)
	// Mid-frame.
	c = hostileHandshake(t, n, "reset-mid-frame:1")
	_, err = c.Write([]byte("complete\x04partial"))
	require.NoError(t, err)
	hostileInboundWithID(t, n, "reset-mid-frame")
	eventually(t, "frame before the reset", hostileHasText(r, "complete"))
	hostileReset(c)
	// Half-open: the peer closes its sending side and goes on reading.
	c = hostileHandshake(t, n, "half-open:1")
	hostileInboundWithID(t, n, "half-open")
	require.NoError(t, c.CloseWrite())
	hostileWaitClosed(t, c, "half-open peer")

	// While the node writes to it.
	c = hostileHandshake(t, n, "reset-while-writing:1")
	p := hostileInboundWithID(t, n, "reset-while-writing")
	var sendErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		chunk := bytes.Repeat([]byte("w"), 256<<10)
		for sendErr == nil {
			sendErr = p.Send(chunk, p2p.None)
		}
	})
	_, err = io.ReadFull(c, make([]byte, 1<<20))
	require.NoError(t, err)
	hostileReset(c)
	wg.Wait()
	assert.True(t, errors.Is(sendErr, p2p.ErrPeerClosed) || errors.Is(sendErr, p2p.ErrQueueFull), "send fails with %v", sendErr)

	// The peer that reset after its hello may or may not have been
	// registered, depending on whether the node's reply went out first.
	eventually(t, "every connection that was up is down", func() bool {
		return len(n.Inbound()) == 0 && len(r.ofType(p2p.EventInboundDisconnected)) == len(r.ofType(p2p.EventInboundConnected))
	})
	assert.GreaterOrEqual(t, len(r.ofType(p2p.EventInboundConnected)), 3)
	hostileServing(t, n, r)
}

// TestHostileOutboundPeers: the node dials peers that misbehave during the
// handshake. Connect fails with an error, never hangs.
func TestHostileOutboundPeers(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{Limits: p2p.Limits{HandshakeTimeout: 300 * time.Millisecond}}, r)
	behaviours := map[string]func(c *net.TCPConn){
		"reset":    func(c *net.TCPConn) { hostileReset(c) },
		"close":    func(c *net.TCPConn) { _ = c.Close() },
		"silent":   func(c *net.TCPConn) { _, _ = c.Read(make([]byte, 4096)) },
		"read+rst": func(c *net.TCPConn) { _, _ = c.Read(make([]byte, 4096)); hostileReset(c) },
		"long id": func(c *net.TCPConn) {
			_, _ = c.Read(make([]byte, 4096))
			_, _ = c.Write(bytes.Repeat([]byte("i"), 100<<10))
		},
		"id+frames": func(c *net.TCPConn) {
			_, _ = c.Read(make([]byte, 4096))
			_, _ = c.Write([]byte("srv\x04garbage\x02\x04"))
		},
	}
	for name, behave := range behaviours {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			done := make(chan struct{})
			go func() {
				defer close(done)
				c, err := ln.Accept()
				if err != nil {
					return
				}
				behave(c.(*net.TCPConn))
				// Hold the connection until the node is done with it.
				_ = c.SetReadDeadline(time.Now().Add(waitLimit))
				_, _ = io.Copy(io.Discard, c)
				_ = c.Close()
			}()
			p, err := n.Connect("127.0.0.1", ln.Addr().(*net.TCPAddr).Port, false)
			if err == nil {
				require.NoError(t, n.Disconnect(p))
			}
			_ = ln.Close()
			<-done
		})
	}
	eventually(t, "no outbound peers left", func() bool { return len(n.Outbound()) == 0 })
	hostileServing(t, n, r)
}

// TestHostileConnectBurst: 1,000 connects in a burst against
// MaxConnections 10. Inbound peers never exceed the limit, an established
// peer keeps exchanging messages throughout, and once the burst is gone new
// peers get in.
func TestHostileConnectBurst(t *testing.T) {
	r := &recorder{}
	const limit = 10
	n := startNode(t, p2p.Config{MaxConnections: limit}, r)
	gr := &recorder{}
	good := startNode(t, p2p.Config{}, gr)
	out, in := pair(t, good, n)

	var peak atomic.Int64
	stopWatch := make(chan struct{})
	var watch sync.WaitGroup
	watch.Go(func() {
		for {
			if k := int64(len(n.Inbound())); k > peak.Load() {
				peak.Store(k)
			}
			select {
			case <-stopWatch:
				return
			default:
				runtime.Gosched()
			}
		}
	})

	const burst = 1000
	conns := make(chan net.Conn, burst)
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for w := range 50 {
		wg.Go(func() {
			for i := w; i < burst; i += 50 {
				c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port())), waitLimit)
				if err != nil {
					continue
				}
				conns <- c
				_, _ = c.Write([]byte("burst-" + strconv.Itoa(i) + ":1"))
				_ = c.SetReadDeadline(time.Now().Add(waitLimit))
				if k, _ := c.Read(make([]byte, 4096)); k > 0 {
					accepted.Add(1)
				}
			}
		})
	}
	// Messages flow on the established connection during the burst.
	for i := range 100 {
		require.NoError(t, out.Send(p2p.Text(label(i)), p2p.None))
		require.NoError(t, in.Send(p2p.Text(label(i)), p2p.None))
	}
	wg.Wait()
	close(conns)
	eventually(t, "messages during the burst", func() bool { return len(r.messages()) == 100 && len(gr.messages()) == 100 })
	for c := range conns {
		_ = c.Close()
	}
	close(stopWatch)
	watch.Wait()
	assert.LessOrEqual(t, peak.Load(), int64(limit), "inbound peers over the limit")
	assert.LessOrEqual(t, accepted.Load(), int64(limit-1), "handshakes answered beyond the limit")
	eventually(t, "burst peers gone", func() bool { return len(n.Inbound()) == 1 })
	hostileServing(t, n, r)
}

// TestHostileDisconnectMidFrame: a peer sends complete frames and half of
// another, then closes. The complete ones are delivered, the partial one
// dropped, and the disconnected event follows them.
func TestHostileDisconnectMidFrame(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{}, r)
	c := hostileHandshake(t, n, "quitter:1")
	var stream []byte
	for i := range 1000 {
		stream = append(stream, label(i)...)
		stream = append(stream, wire.EOT)
	}
	stream = append(stream, "partial frame without its end"...)
	_, err := c.Write(stream)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	eventually(t, "disconnected", func() bool { return len(r.ofType(p2p.EventInboundDisconnected)) == 1 })
	msgs := r.messages()
	require.Len(t, msgs, 1000, "every complete frame is delivered")
	for i, m := range msgs {
		require.Equal(t, label(i), m.Text())
	}
	types := r.types()
	assert.Equal(t, p2p.EventInboundDisconnected, types[len(types)-1], "disconnected comes after the messages")
	hostileServing(t, n, r)
}

// TestHostileCarelessCaller: bad arguments and calls at the wrong time get
// errors, never a panic or a hang.
func TestHostileCarelessCaller(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{Limits: p2p.Limits{MaxFrameSize: 1 << 10}}, r)
	other := startNode(t, p2p.Config{}, &recorder{})
	out, _ := pair(t, other, n)
	_, in := pair(t, startNode(t, p2p.Config{}, &recorder{}), n)

	assert.ErrorIs(t, n.SendToNode(nil, []byte("x"), p2p.None), p2p.ErrUnknownPeer)
	assert.ErrorIs(t, n.SendToNode(out, []byte("x"), p2p.None), p2p.ErrUnknownPeer, "a peer of another node")
	assert.ErrorIs(t, n.Disconnect(nil), p2p.ErrUnknownPeer)
	assert.ErrorIs(t, n.Disconnect(out), p2p.ErrUnknownPeer)
	assert.ErrorIs(t, in.Send(make([]byte, 2<<10), p2p.None), p2p.ErrMessageTooLarge)
	assert.ErrorIs(t, in.Send([]byte("x"), p2p.Compression(99)), p2p.ErrInvalidArgument)
	assert.ErrorIs(t, n.SendToNodes([]byte("x"), nil, p2p.Compression(-1)), p2p.ErrInvalidArgument)
	assert.NoError(t, in.Send(nil, p2p.None), "an empty payload goes on the compressed path")
	_, err := n.Connect("", 1, false)
	assert.ErrorIs(t, err, p2p.ErrInvalidArgument)
	_, err = n.Connect("127.0.0.1", 70000, false)
	assert.ErrorIs(t, err, p2p.ErrInvalidArgument)
	_, err = n.Connect("127.0.0.1", -1, false)
	assert.ErrorIs(t, err, p2p.ErrInvalidArgument)
	assert.ErrorIs(t, n.SetMaxConnections(-1), p2p.ErrInvalidArgument)

	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	free := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	_, err = n.Connect("127.0.0.1", free, false)
	assert.Error(t, err)

	require.NoError(t, in.Stop())
	_ = in.Stop() // twice: an error or nothing, never a panic
	assert.ErrorIs(t, in.Send([]byte("x"), p2p.None), p2p.ErrPeerClosed)

	require.NoError(t, n.Stop())
	require.NoError(t, n.Stop(), "stop is idempotent")
	require.NoError(t, n.Wait())
	assert.ErrorIs(t, n.Start(), p2p.ErrStopped)
	_, err = n.Connect("127.0.0.1", other.Port(), false)
	assert.ErrorIs(t, err, p2p.ErrStopped)
	_ = n.SendToNodes([]byte("x"), nil, p2p.None) // no peers left: nothing to do
}

// TestHostileBigFramesSlowHandler: while the application's handler is
// busy, a peer sends large frames. The node must stop reading (TCP
// backpressure) once a bounded amount of message data waits for the
// handler; MaxPendingEvents counts messages only, so 65,536 pending frames
// of up to MaxFrameSize each could pile up.
func TestHostileBigFramesSlowHandler(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	r := &recorder{onEv: func(ev *p2p.Event) {
		if ev.Type == p2p.EventMessage {
			<-release // a handler busy elsewhere
		}
	}}
	n := startNode(t, p2p.Config{}, r)
	c := hostileHandshake(t, n, "big-frames:1")
	before := heapInuse()
	frame := append(bytes.Repeat([]byte("B"), 1<<20), wire.EOT)
	const frames = 256
	sent := 0
	for ; sent < frames; sent++ {
		// The node is expected to stop reading at some point: our write
		// then blocks, which the deadline turns into an error.
		require.NoError(t, c.SetWriteDeadline(time.Now().Add(2*time.Second)))
		if _, err := c.Write(frame); err != nil {
			break
		}
	}
	grown := int64(heapInuse()) - int64(before)
	t.Logf("%d frames of 1 MiB taken while the handler was busy; heap in use grew by %d MiB", sent, grown>>20)
	assert.Less(t, grown, int64(160<<20), "message data waiting for the handler is not bounded in bytes")
	unblock()
	eventually(t, "frames delivered once the handler is free", func() bool { return len(r.messages()) >= 1 })
	hostileServing(t, n, r)
}

// TestHostileStopDuringHandshake: a Connect in progress with a peer that
// never answers returns once the node stops, and Stop does not wait out the
// handshake of a reconnect attempt (which runs inside the node) with such a
// peer.
func TestHostileStopDuringHandshake(t *testing.T) {
	for _, viaReconnect := range []bool{false, true} {
		t.Run("reconnect="+strconv.FormatBool(viaReconnect), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			var held []net.Conn
			var mu sync.Mutex
			silent := make(chan struct{}, 16)
			var acceptor sync.WaitGroup
			acceptor.Go(func() {
				for i := 0; ; i++ {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					mu.Lock()
					held = append(held, c)
					mu.Unlock()
					_ = c.SetReadDeadline(time.Now().Add(waitLimit))
					_, _ = c.Read(make([]byte, 4096)) // the hello: the handshake is under way
					if viaReconnect && i == 0 {
						_, _ = c.Write([]byte("flaky")) // first time: connect, then drop
						_ = c.Close()
						continue
					}
					silent <- struct{}{} // later: never answer
				}
			})
			defer func() {
				_ = ln.Close()
				acceptor.Wait()
				mu.Lock()
				for _, c := range held {
					_ = c.Close()
				}
				mu.Unlock()
			}()
			port := ln.Addr().(*net.TCPAddr).Port

			n, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard,
				Limits: p2p.Limits{HandshakeTimeout: 5 * time.Minute, ReconnectInterval: 10 * time.Millisecond}}, (&recorder{}).handle)
			require.NoError(t, err)
			require.NoError(t, n.Start())
			connectErr := make(chan error, 1)
			if viaReconnect {
				_, err := n.Connect("127.0.0.1", port, true)
				require.NoError(t, err)
			} else {
				go func() {
					_, err := n.Connect("127.0.0.1", port, false)
					connectErr <- err
				}()
			}
			<-silent

			stopped := make(chan struct{})
			go func() { _ = n.Stop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(waitLimit):
				t.Fatal("Stop waits for a handshake that will not finish")
			}
			if !viaReconnect {
				select {
				case err := <-connectErr:
					assert.Error(t, err)
				case <-time.After(waitLimit):
					t.Fatal("Connect still waits for the handshake after Stop")
				}
			}
		})
	}
}

// TestHostileFrameSizesMixed: one stream of frames whose sizes jump between
// a byte and several MiB, as a peer may send them in any order. Every frame
// arrives whole and in order, whether the handler keeps up or not.
func TestHostileFrameSizesMixed(t *testing.T) {
	for _, slow := range []bool{false, true} {
		t.Run("slow="+strconv.FormatBool(slow), func(t *testing.T) {
			r := &recorder{onEv: func(ev *p2p.Event) {
				if slow && ev.Type == p2p.EventMessage {
					time.Sleep(time.Millisecond) // pacing a slow application, not synchronisation
				}
			}}
			n := startNode(t, p2p.Config{}, r)
			c := hostileHandshake(t, n, "mixed:1")
			rng := rand.New(rand.NewPCG(3, 4))
			var sizes []int
			var stream []byte
			for i := range 120 {
				size := 1 + rng.IntN(64)
				switch rng.IntN(4) {
				case 0:
					size = 1 + rng.IntN(3<<20)
				case 1:
					size = 1 + rng.IntN(300<<10)
				}
				sizes = append(sizes, size)
				stream = append(stream, bytes.Repeat([]byte{'a' + byte(i%26)}, size)...)
				stream = append(stream, wire.EOT)
			}
			var wg sync.WaitGroup
			wg.Go(func() {
				// Writes of odd sizes, so that frames straddle reads.
				for len(stream) > 0 {
					k := min(len(stream), 1+rng.IntN(700<<10))
					if _, err := c.Write(stream[:k]); err != nil {
						return
					}
					stream = stream[k:]
				}
			})
			eventually(t, "every frame", func() bool { return len(r.messages()) == len(sizes) })
			wg.Wait()
			for i, m := range r.messages() {
				require.Len(t, m.Data, sizes[i], "frame %d", i)
				require.Equal(t, bytes.Repeat([]byte{'a' + byte(i%26)}, sizes[i]), m.Data, "frame %d", i)
			}
			assert.Zero(t, n.ReceiveErrors())
		})
	}
}
