package overlay

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// goNet runs engines the way a real node will: each direction of a link is
// a bounded queue drained by its own goroutine, each node ticks on its own
// goroutine, on the real clock. Everything stops with stop().
type goNet struct {
	mu     sync.Mutex
	nodes  map[PeerID]*goNode
	byAddr map[Addr]*goNode
	links  map[[2]PeerID]*goLink
	wg     sync.WaitGroup
	done   chan struct{}
}

type goNode struct {
	id   PeerID
	addr Addr
	disc *Discovery
	gs   *Gossip
}

type goFrame struct {
	cap   string
	frame []byte
}

type goLink struct {
	q    map[PeerID]chan goFrame // toward each end
	gone chan struct{}
	once sync.Once
}

func newGoNet() *goNet {
	return &goNet{nodes: map[PeerID]*goNode{}, byAddr: map[Addr]*goNode{}, links: map[[2]PeerID]*goLink{}, done: make(chan struct{})}
}

func (n *goNet) stop() {
	close(n.done)
	n.mu.Lock()
	for _, l := range n.links {
		l.once.Do(func() { close(l.gone) })
	}
	n.mu.Unlock()
	n.wg.Wait()
}

func (n *goNet) goroutine(f func()) {
	n.wg.Add(1)
	go func() { defer n.wg.Done(); f() }()
}

func (n *goNet) add(i int, deliver func(*goNode, Delivery)) *goNode {
	nd := &goNode{id: PeerID(fmt.Sprintf("g%03d", i)), addr: Addr{"127.0.0.1", uint16(2000 + i)}}
	nd.disc = NewDiscovery(DiscoveryConfig{Self: nd.id, AskInterval: 50 * time.Millisecond, ExploreInterval: time.Second}, goTransport{n, nd, DiscoveryCapability}, SystemClock{})
	nd.gs = NewGossip(GossipConfig{Self: nd.id, GraftTimeout: 100 * time.Millisecond, Deliver: func(d Delivery) { deliver(nd, d) }}, goTransport{n, nd, GossipCapability}, SystemClock{})
	n.mu.Lock()
	n.nodes[nd.id], n.byAddr[nd.addr] = nd, nd
	n.mu.Unlock()
	n.goroutine(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-n.done:
				return
			case <-t.C:
				nd.disc.Tick()
				nd.gs.Tick()
			}
		}
	})
	return nd
}

type goTransport struct {
	n   *goNet
	nd  *goNode
	cap string
}

func (t goTransport) Send(peer PeerID, frame []byte) error {
	t.n.mu.Lock()
	l, ok := t.n.links[pairKey(t.nd.id, peer)]
	t.n.mu.Unlock()
	if !ok {
		return ErrNoLink
	}
	select {
	case l.q[peer] <- goFrame{t.cap, append([]byte(nil), frame...)}:
		return nil
	default:
		return ErrQueueFull
	}
}

func (t goTransport) Dial(a Addr) error {
	n, from := t.n, t.nd
	n.goroutine(func() {
		n.mu.Lock()
		to, ok := n.byAddr[a]
		k := pairKey(from.id, "")
		if ok {
			k = pairKey(from.id, to.id)
		}
		_, dup := n.links[k]
		select {
		case <-n.done: // stopping: no new link, so no drain goroutine stop() cannot end
			n.mu.Unlock()
			return
		default:
		}
		if !ok || to == from || dup {
			n.mu.Unlock()
			from.disc.DialFailed(a)
			return
		}
		l := &goLink{q: map[PeerID]chan goFrame{from.id: make(chan goFrame, 64), to.id: make(chan goFrame, 64)}, gone: make(chan struct{})}
		n.links[k] = l
		n.mu.Unlock()
		for _, end := range []*goNode{from, to} {
			end, peer := end, from
			if end == from {
				peer = to
			}
			n.goroutine(func() { n.drain(l, end, peer.id) })
		}
		out := LinkInfo{ID: to.id, Host: a.Host, Port: a.Port}
		in := LinkInfo{ID: from.id, Host: from.addr.Host, Port: from.addr.Port, Inbound: true}
		if from.disc.Admit(out) && to.disc.Admit(in) {
			from.gs.LinkUp(out)
			to.gs.LinkUp(in)
		}
	})
	return nil
}

// drain delivers the frames queued toward end until the link goes.
func (n *goNet) drain(l *goLink, end *goNode, from PeerID) {
	for {
		select {
		case <-l.gone:
			return
		case f := <-l.q[end.id]:
			if f.cap == DiscoveryCapability {
				end.disc.Frame(from, f.frame)
			} else {
				end.gs.Frame(from, f.frame)
			}
		}
	}
}

func (t goTransport) Close(peer PeerID) {
	n, k := t.n, pairKey(t.nd.id, peer)
	n.goroutine(func() {
		n.mu.Lock()
		l, ok := n.links[k]
		delete(n.links, k)
		n.mu.Unlock()
		if !ok {
			return
		}
		l.once.Do(func() { close(l.gone) })
		for i, id := range k {
			nd := n.nodes[id]
			nd.disc.LinkDown(k[1-i])
			nd.gs.LinkDown(k[1-i])
		}
	})
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConcurrentEngines runs 30 nodes on goroutines and the real clock
// (so -race sees the engines called from many goroutines at once): they
// find each other from one bootstrap and every publish reaches every
// subscriber exactly once.
func TestConcurrentEngines(t *testing.T) {
	n := newGoNet()
	defer n.stop()
	const size, k = 30, 3
	var mu sync.Mutex
	got := map[MessageID]map[PeerID]int{}
	var delivered atomic.Int64
	deliver := func(nd *goNode, d Delivery) {
		mu.Lock()
		defer mu.Unlock()
		if got[d.ID] == nil {
			got[d.ID] = map[PeerID]int{}
		}
		got[d.ID][nd.id]++
		delivered.Add(1)
	}
	var nodes []*goNode
	for i := 0; i < size; i++ {
		nd := n.add(i, deliver)
		require.NoError(t, nd.gs.Subscribe("t"))
		nodes = append(nodes, nd)
	}
	nodes[0].disc.Discover(k)
	for _, nd := range nodes[1:] {
		nd.disc.Discover(k, nodes[0].addr)
	}
	waitFor(t, 20*time.Second, "every node to reach K links", func() bool {
		for _, nd := range nodes {
			if nd.disc.Degree() < k {
				return false
			}
		}
		return true
	})
	origins := map[MessageID]PeerID{}
	for i := 0; i < 20; i++ {
		o := nodes[(i*7)%size]
		id, err := o.gs.Publish("t", []byte(fmt.Sprint("m", i)))
		require.NoError(t, err)
		mu.Lock()
		origins[id] = o.id
		mu.Unlock()
	}
	waitFor(t, 20*time.Second, "every delivery", func() bool { return delivered.Load() >= 20*(size-1) })
	mu.Lock()
	defer mu.Unlock()
	for id, o := range origins {
		require.Zero(t, got[id][o], "the origin never gets its message")
		require.Len(t, got[id], size-1)
		for p, c := range got[id] {
			require.Equal(t, 1, c, "%s got a message %d times", p, c)
		}
	}
}
