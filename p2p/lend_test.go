package p2p_test

import (
	"bufio"
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// rawPeer connects a reference-style plaintext peer to n that reads nothing
// until told to, and returns the connection and n's peer for it.
func rawPeer(t *testing.T, n *p2p.Node, id string) (net.Conn, *p2p.Peer) {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port())))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Write([]byte(id + ":1"))
	require.NoError(t, err)
	var p *p2p.Peer
	eventually(t, "the raw peer", func() bool {
		for _, q := range n.Inbound() {
			if q.ID() == id {
				p = q
			}
		}
		return p != nil
	})
	// The node's handshake reply ends at its first read; frames follow.
	return c, p
}

// readFrames reads k EOT-ended frames from c and returns them.
func readFrames(t *testing.T, c net.Conn, k int) [][]byte {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(waitLimit)))
	br := bufio.NewReaderSize(c, 1<<20)
	var out [][]byte
	for len(out) < k {
		f, err := br.ReadBytes(wire.EOT)
		require.NoError(t, err, "after %d frames", len(out))
		out = append(out, f[:len(f)-1])
	}
	return out
}

// handshakeReply reads the node's handshake reply from c: its id, not
// EOT-ended, before any frame.
func handshakeReply(t *testing.T, c net.Conn, n *p2p.Node) {
	t.Helper()
	want := n.ID()
	buf := make([]byte, len(want))
	require.NoError(t, c.SetReadDeadline(time.Now().Add(waitLimit)))
	_, err := ioReadFull(c, buf)
	require.NoError(t, err)
	require.Equal(t, want, string(buf))
}

func ioReadFull(c net.Conn, b []byte) (int, error) {
	got := 0
	for got < len(b) {
		k, err := c.Read(b[got:])
		got += k
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

// sendReturns sends buf to p from another goroutine and fails the test,
// naming the send what, unless it returns without error within waitLimit.
func sendReturns(t *testing.T, p *p2p.Peer, buf []byte, what string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Send(buf, p2p.None) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(waitLimit):
		t.Fatalf("%s did not return", what)
	}
}

func fill(b []byte, i int) {
	for k := range b {
		b[k] = byte('A' + (i+k/4093)%26)
	}
}

// onEachTransport runs test with a pair of nodes connected in plaintext,
// then natively: out is the first's peer for the second, whose messages rb
// records. A large send lends its payload on both.
func onEachTransport(t *testing.T, test func(t *testing.T, out *p2p.Peer, rb *recorder)) {
	for _, mode := range []p2p.Encryption{p2p.EncryptionOff, p2p.EncryptionPreferred} {
		t.Run(mode.String(), func(t *testing.T) {
			rb := &recorder{}
			a := startNode(t, nativeCfg(mode), nil)
			b := startNode(t, nativeCfg(mode), rb)
			out, _ := pair(t, a, b)
			require.Equal(t, mode != p2p.EncryptionOff, out.Encrypted())
			test(t, out, rb)
		})
	}
}

// A large send lends its payload to the writer; the caller may write over
// its buffer as soon as the send returns, and the peer still gets what was
// sent.
func TestLargeSendBufferReusedAfterReturn(t *testing.T) {
	onEachTransport(t, largeSendBufferReusedAfterReturn)
}

func largeSendBufferReusedAfterReturn(t *testing.T, out *p2p.Peer, rb *recorder) {
	buf := make([]byte, 3<<20+5)
	const n = 12
	for i := range n {
		fill(buf, i)
		require.NoError(t, out.Send(buf, p2p.None))
		for k := range buf {
			buf[k] = 'z' // what a careless caller does next
		}
	}
	eventually(t, "every message", func() bool { return len(rb.messages()) == n })
	want := make([]byte, len(buf))
	for i, m := range rb.messages() {
		fill(want, i)
		require.True(t, bytes.Equal(want, m.Data), "message %d differs", i)
		assert.Equal(t, wire.KindText, m.Kind)
	}
	assert.Positive(t, p2p.LentSends(out), "no send lent its payload: the test shows nothing")
}

// Large and small sends from several goroutines keep each goroutine's
// order, and a small send queued before a large one goes first.
func TestLargeSendOrderWithSmallSends(t *testing.T) {
	onEachTransport(t, largeSendOrderWithSmallSends)
}

func largeSendOrderWithSmallSends(t *testing.T, out *p2p.Peer, rb *recorder) {
	const large, small = 8, 400
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2<<20)
		for i := range large {
			fill(buf, i)
			copy(buf, "L"+label(i))
			if err := out.Send(buf, p2p.None); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range small {
			if err := out.Send([]byte("S"+label(i)), p2p.None); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	// One goroutine: small, large, small.
	big := make([]byte, 5<<20)
	fill(big, 7)
	copy(big, "B")
	require.NoError(t, out.Send([]byte("before"), p2p.None))
	require.NoError(t, out.Send(big, p2p.None))
	require.NoError(t, out.Send([]byte("after"), p2p.None))
	eventually(t, "every message", func() bool { return len(rb.messages()) == large+small+3 })
	var ls, ss int
	var tail []string
	for _, m := range rb.messages() {
		switch {
		case m.Data[0] == 'L':
			require.Equal(t, "L"+label(ls), string(m.Data[:8]))
			want := make([]byte, 2<<20)
			fill(want, ls)
			copy(want, "L"+label(ls))
			require.True(t, bytes.Equal(want, m.Data), "large message %d differs", ls)
			ls++
		case m.Data[0] == 'S':
			require.Equal(t, "S"+label(ss), string(m.Data))
			ss++
		default:
			tail = append(tail, string(m.Data[:min(len(m.Data), 6)]))
		}
	}
	assert.Equal(t, []string{"before", "B" + string(big[1:6]), "after"}, tail)
	assert.Positive(t, p2p.LentSends(out), "no send lent its payload: the test shows nothing")
}

// A large send to a peer that reads nothing returns (what the writer has
// not written is copied): the caller may reuse its buffer, and the peer
// gets the message whole once it reads.
func TestLargeSendToStalledPeerReturns(t *testing.T) {
	a := startNode(t, p2p.Config{}, nil)
	c, p := rawPeer(t, a, "stalled")
	buf := make([]byte, 16<<20)
	fill(buf, 1)
	sendReturns(t, p, buf, "a large send to a peer that reads nothing")
	fill(buf, 2)
	// The queue is full until the large one is written: this one waits.
	next := make(chan error, 1)
	go func() { next <- p.Send([]byte("next"), p2p.None) }()
	handshakeReply(t, c, a)
	got := readFrames(t, c, 2)
	want := make([]byte, len(buf))
	fill(want, 1)
	require.True(t, bytes.Equal(want, got[0]), "the large message differs")
	require.Equal(t, "next", string(got[1]))
	require.NoError(t, <-next)
	assert.Positive(t, p2p.LentSends(p), "the send did not lend its payload: the test shows nothing")
	eventually(t, "both written", func() bool { return p.Counters().Written == 2 })
}

// With a large send in flight to a peer that reads nothing, a second one
// finds the queue full and each overflow policy does what it says; the
// first arrives whole when the peer reads (but under DISCONNECT).
func TestOverflowPoliciesWithLargeSendInFlight(t *testing.T) {
	for _, policy := range []p2p.OverflowPolicy{p2p.OverflowWait, p2p.OverflowDropNewest, p2p.OverflowDropOldest, p2p.OverflowDisconnect} {
		t.Run(policy.String(), func(t *testing.T) {
			// Under WAIT the second send waits SendTimeout; under the others
			// it returns at once, and the peer must not be found stalled
			// (nothing written for SendTimeout with a full queue) before
			// the test reads.
			timeout := 5 * time.Second
			if policy == p2p.OverflowWait {
				timeout = 300 * time.Millisecond
			}
			a := startNode(t, p2p.Config{Limits: p2p.Limits{
				MaxQueuedBytes: 8 << 20, OverflowPolicy: policy, SendTimeout: timeout}}, nil)
			c, p := rawPeer(t, a, "stalled")
			first := make([]byte, 6<<20)
			fill(first, 3)
			require.NoError(t, p.Send(first, p2p.None))
			fill(first, 4) // the caller's buffer is its own again
			second := make([]byte, 6<<20)
			fill(second, 5)
			err := p.Send(second, p2p.None)
			if policy == p2p.OverflowDisconnect {
				require.ErrorIs(t, err, p2p.ErrQueueFull)
				eventually(t, "the peer disconnected", func() bool { return len(a.Inbound()) == 0 })
				return
			}
			if policy == p2p.OverflowWait && errors.Is(err, p2p.ErrPeerClosed) {
				// Found stalled meanwhile (nothing written for SendTimeout
				// while a send found it full): disconnected, as documented.
				return
			}
			// The first is being written (it fills the socket buffers):
			// nothing queued can be dropped to make room for the second.
			require.ErrorIs(t, err, p2p.ErrQueueFull)
			assert.Equal(t, uint64(1), p.Counters().Refused)
			handshakeReply(t, c, a)
			got := readFrames(t, c, 1)
			want := make([]byte, len(first))
			fill(want, 3)
			require.True(t, bytes.Equal(want, got[0]), "the first message differs")
			eventually(t, "the first written", func() bool { return p.Counters().Written == 1 })
			c2 := p.Counters()
			assert.Zero(t, c2.Dropped())
		})
	}
}

// A large send queued behind a write that waits on a peer reading nothing
// is not taken by the writer: the send takes it back (copies it) and
// returns, and it is written in its turn once the peer reads.
func TestLargeSendBehindStalledWriteReturns(t *testing.T) {
	a := startNode(t, p2p.Config{}, nil)
	c, p := rawPeer(t, a, "stalled")
	// A compressed frame of some 8 MiB goes first; the writer takes it
	// whole and waits for the socket.
	noise := make([]byte, 6<<20)
	rng := rand.New(rand.NewPCG(5, 6))
	for k := range noise {
		noise[k] = byte(rng.Uint32())
	}
	require.NoError(t, p.Send(noise, p2p.Zlib))
	eventually(t, "the compressed frame taken by the writer", func() bool { return p2p.Writing(p) })
	buf := make([]byte, 2<<20)
	fill(buf, 6)
	sendReturns(t, p, buf, "a large send queued behind a stalled write")
	fill(buf, 7)
	handshakeReply(t, c, a)
	got := readFrames(t, c, 2)
	pl, codec, err := wire.DecodeFrame(got[0], 0)
	require.NoError(t, err)
	require.Equal(t, wire.CompressionZlib, codec)
	require.True(t, bytes.Equal(noise, pl), "the compressed message differs")
	want := make([]byte, len(buf))
	fill(want, 6)
	require.True(t, bytes.Equal(want, got[1]), "the large message differs")
	assert.Positive(t, p2p.LentSends(p), "the send did not lend its payload: the test shows nothing")
	eventually(t, "both written", func() bool { return p.Counters().Written == 2 })
}

// A large send to a native peer whose link stops taking bytes returns: the
// writer seals a few records of the caller's memory at a time and waits on
// the socket only after, so the send takes the rest back (copies it) while
// the writer waits, with no write cut short; the message arrives whole,
// and the connection goes on, once the link moves again.
func TestLargeNativeSendToHeldLinkReturns(t *testing.T) {
	rb := &recorder{}
	a := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
	b := startNode(t, nativeCfg(p2p.EncryptionPreferred), rb)
	px := newProxy(t, b.Port())
	out, err := a.Connect("127.0.0.1", px.port(), false)
	require.NoError(t, err)
	require.True(t, out.Encrypted())
	require.NoError(t, out.Send([]byte("first"), p2p.None))
	eventually(t, "the first message", func() bool { return len(rb.messages()) == 1 })
	px.hold()
	buf := make([]byte, 16<<20)
	fill(buf, 1)
	sendReturns(t, out, buf, "a large send over a link that takes no bytes")
	fill(buf, 2)
	px.release()
	require.NoError(t, out.Send([]byte("last"), p2p.None))
	eventually(t, "every message", func() bool { return len(rb.messages()) == 3 })
	got := rb.messages()
	want := make([]byte, len(buf))
	fill(want, 1)
	require.True(t, bytes.Equal(want, got[1].Data), "the large message differs")
	require.Equal(t, "last", string(got[2].Data))
	assert.Positive(t, p2p.LentSends(out), "the send did not lend its payload: the test shows nothing")
}
