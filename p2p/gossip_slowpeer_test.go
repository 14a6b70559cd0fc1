package p2p_test

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// freezer forwards one TCP connection and, once frozen, stops reading what
// the dialer sends (the other way keeps flowing, so the peer behind it
// stays alive to heartbeats): a peer too slow to read anything.
type freezer struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func newFreezer(t *testing.T, port int) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &freezer{ln: ln, target: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), stop: make(chan struct{})}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() {
		close(f.stop)
		_ = ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			_ = c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *freezer) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *freezer) serve() {
	defer f.wg.Done()
	for {
		in, err := f.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", f.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, in, out)
		f.mu.Unlock()
		f.wg.Add(2)
		go f.pipe(in, out, true)
		go f.pipe(out, in, false)
	}
}

func (f *freezer) pipe(from, to net.Conn, fromDialer bool) {
	defer f.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		if fromDialer && f.frozen.Load() {
			<-f.stop
			return
		}
		k, err := from.Read(buf)
		if k > 0 {
			if _, werr := to.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			_ = to.Close()
			return
		}
	}
}

// A peer that reads nothing loses overlay frames (counted) at its own
// bound; the publisher never waits on it, another subscriber gets every
// publish, and application messages to the healthy peer are not touched.
func TestGossipSlowPeer(t *testing.T) {
	t.Parallel()
	w := newGnet(t, p2p.Config{})
	a, b, c := w.add(), w.add(), w.add()
	pair(t, a.n, b.n)
	fr := newFreezer(t, c.n.Port())
	_, err := a.n.Connect("127.0.0.1", fr.port(), false)
	require.NoError(t, err)
	waitFor(t, waitLimit, "overlay links", func() bool {
		return len(p2p.OverlayLinks(a.n)) == 2 && len(p2p.OverlayLinks(c.n)) == 1
	})
	require.NoError(t, b.n.Subscribe("big"))
	require.NoError(t, c.n.Subscribe("big"))
	fr.frozen.Store(true)
	require.NoError(t, a.n.Publish("big", []byte("wake"))) // the freezer stops at its next read
	data := make([]byte, 64<<10)
	const msgs = 400
	var toB *p2p.Peer
	for _, p := range a.n.All() {
		if p.ID() == b.n.ID() {
			toB = p
		}
	}
	require.NotNil(t, toB)
	for i := range msgs {
		copy(data, fmt.Sprintf("%08d", i))
		require.NoError(t, a.n.Publish("big", data))
		// Paced by the healthy peer: only the frozen one falls behind.
		waitFor(t, 30*time.Second, "publish at the healthy subscriber", func() bool { return b.count("big", string(data)) == 1 })
		if i%50 == 0 {
			require.NoError(t, toB.Send([]byte(fmt.Sprintf("app %d", i)), p2p.None))
		}
	}
	waitFor(t, 60*time.Second, "every publish at the healthy subscriber", func() bool {
		keys, _ := b.total()
		return keys == msgs+1
	})
	_, _, dropped, _ := p2p.OverlayStats(a.n)
	require.NotZero(t, dropped, "the frozen peer's overlay backlog is dropped at its bound")
	require.Zero(t, a.n.Counters().Dropped(), "no accepted application message is dropped")
	waitFor(t, 30*time.Second, "the application messages", func() bool { return b.direct.Load() == msgs/50 })
}
