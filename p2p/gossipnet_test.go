package p2p_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// gnode is one node of a test network, with the topic messages it got.
type gnode struct {
	n      *p2p.Node
	mu     sync.Mutex
	got    map[string]int // by topic "/" data
	hops   []int
	origin map[string]string
	at     map[string]time.Time
}

func (g *gnode) handle(ev *p2p.Event) bool {
	if ev.Type == p2p.EventTopicMessage {
		k := ev.Topic + "/" + string(ev.Message.Data)
		g.mu.Lock()
		g.got[k]++
		g.origin[k] = ev.Origin
		if _, ok := g.at[k]; !ok {
			g.at[k] = time.Now()
		}
		g.mu.Unlock()
	}
	return true
}

func (g *gnode) count(topic, data string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.got[topic+"/"+data]
}

func (g *gnode) originOf(topic, data string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.origin[topic+"/"+data]
}

func (g *gnode) total() (keys, copies int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.got {
		keys++
		copies += c
	}
	return keys, copies
}

// gnet is a network of native nodes on loopback.
type gnet struct {
	t     testing.TB
	cfg   p2p.Config
	nodes []*gnode
}

func newGnet(t testing.TB, cfg p2p.Config) *gnet {
	return &gnet{t: t, cfg: cfg}
}

// add starts a node; it is stopped at the end of the test unless stopped
// before.
func (w *gnet) add() *gnode {
	cfg := w.cfg
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.DebugOutput == nil {
		cfg.DebugOutput = io.Discard
	}
	g := &gnode{got: map[string]int{}, origin: map[string]string{}, at: map[string]time.Time{}}
	n, err := p2p.NewWithCallback(cfg, g.handle)
	require.NoError(w.t, err)
	require.NoError(w.t, n.Start())
	w.t.Cleanup(func() { _ = n.Stop() })
	g.n = n
	w.nodes = append(w.nodes, g)
	return g
}

// join connects g to the bootstrap at port and starts discovery.
func (w *gnet) join(g *gnode, port, k int) {
	_, err := g.n.Connect(g.n.Host(), port, false)
	require.NoError(w.t, err)
	require.NoError(w.t, g.n.Discover(k))
}

// remove stops g and takes it out of the network.
func (w *gnet) remove(g *gnode) {
	_ = g.n.Stop()
	for i, x := range w.nodes {
		if x == g {
			w.nodes = append(w.nodes[:i], w.nodes[i+1:]...)
			return
		}
	}
}

// converged reports whether every node has at least k overlay links and the
// overlay graph is one component.
func (w *gnet) converged(k int) bool {
	ids := map[string]int{}
	for i, g := range w.nodes {
		ids[g.n.ID()] = i
	}
	adj := make([][]int, len(w.nodes))
	for i, g := range w.nodes {
		links := p2p.OverlayLinks(g.n)
		if len(links) < k {
			return false
		}
		for _, id := range links {
			if j, ok := ids[id]; ok {
				adj[i] = append(adj[i], j)
			}
		}
	}
	return components(adj) == 1
}

func components(adj [][]int) int {
	seen := make([]bool, len(adj))
	c := 0
	for s := range adj {
		if seen[s] {
			continue
		}
		c++
		stack := []int{s}
		seen[s] = true
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, u := range adj[v] {
				if !seen[u] {
					seen[u] = true
					stack = append(stack, u)
				}
			}
		}
	}
	return c
}

// waitFor waits for cond for at most limit.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// publish publishes data on topic from g and waits until every subscriber
// in subs (but g) has it.
func (w *gnet) delivered(topic, data string, origin *gnode, subs []*gnode) bool {
	for _, s := range subs {
		if s != origin && s.count(topic, data) == 0 {
			return false
		}
	}
	return true
}

// buildNet starts size nodes that join through the first and discover k
// peers each, and waits until the overlay has converged.
func buildNet(t *testing.T, size, k int) *gnet {
	w := newGnet(t, p2p.Config{})
	boot := w.add()
	require.NoError(t, boot.n.Discover(k))
	for i := 1; i < size; i++ {
		w.join(w.add(), boot.n.Port(), k)
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("%d nodes with >= %d links, connected", size, k), func() bool { return w.converged(k) })
	return w
}

func TestGossipSmallNetwork(t *testing.T) {
	t.Parallel()
	const size, k = 16, 4 // K below 4 keeps the engine's default marks, 4 and 10
	w := buildNet(t, size, k)
	boot := w.nodes[0]
	// The bootstrap is no hub: it redirects above its high water mark, and
	// prunes down to it.
	require.LessOrEqual(t, len(p2p.OverlayLinks(boot.n)), 2*k+2)
	require.NotEmpty(t, boot.n.KnownPeers())

	// Twelve subscribers, four that only relay.
	subs, relays := w.nodes[:12], w.nodes[12:]
	for _, g := range subs {
		require.NoError(t, g.n.Subscribe("chat"))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const msgs = 20
	for i := range msgs {
		origin := w.nodes[rng.IntN(len(w.nodes))]
		data := fmt.Sprintf("hello %d", i)
		require.NoError(t, origin.n.Publish("chat", []byte(data)))
		waitFor(t, 20*time.Second, "delivery of "+data, func() bool { return w.delivered("chat", data, origin, subs) })
		require.Zero(t, origin.count("chat", data), "the origin never gets its own publish")
		for _, s := range subs {
			if s != origin {
				require.Equal(t, origin.n.ID(), s.originOf("chat", data))
			}
		}
	}
	for _, r := range relays {
		keys, _ := r.total()
		require.Zero(t, keys, "a node that did not subscribe gets nothing")
		require.GreaterOrEqual(t, p2p.OverlaySeen(r.n), msgs/2, "but relays")
	}

	// Unsubscribe stops delivery (the node still relays).
	quit := subs[3]
	require.NoError(t, quit.n.Subscribe("other"))
	require.NoError(t, quit.n.Unsubscribe("chat"))
	seen := p2p.OverlaySeen(quit.n)
	origin := subs[0]
	require.NoError(t, origin.n.Publish("chat", []byte("after")))
	require.NoError(t, origin.n.Publish("other", []byte("marker")))
	waitFor(t, 20*time.Second, "delivery after the unsubscribe", func() bool {
		return w.delivered("chat", "after", origin, append(append([]*gnode{}, subs[:3]...), subs[4:]...)) &&
			quit.count("other", "marker") == 1 && p2p.OverlaySeen(quit.n) >= seen+2
	})
	require.Zero(t, quit.count("chat", "after"))

	// Exactly once, everywhere.
	for _, g := range w.nodes {
		g.mu.Lock()
		for key, c := range g.got {
			require.Equal(t, 1, c, "%s delivered %d times", key, c)
		}
		g.mu.Unlock()
	}

	// The bootstrap goes: the rest stays connected and keeps delivering.
	w.remove(boot)
	waitFor(t, 60*time.Second, "connected without the bootstrap", func() bool { return w.converged(1) })
	subs = w.nodes[:11]
	origin = w.nodes[len(w.nodes)-1]
	require.NoError(t, origin.n.Publish("chat", []byte("no bootstrap")))
	waitFor(t, 20*time.Second, "delivery without the bootstrap", func() bool {
		return w.delivered("chat", "no bootstrap", origin, subs[:2]) && w.delivered("chat", "no bootstrap", origin, subs[3:])
	})
}

// A p2pnetwork 1.2 node attached to the network sees only the messages sent
// to it directly: no gossip, no peer exchange, and it stays connected.
func TestGossipInvisibleToP2PNetwork(t *testing.T) {
	t.Parallel()
	w := buildNet(t, 6, 2)
	hub := w.nodes[1]
	ref := startRefNode(t, "", 0)
	ref.do(t, map[string]any{"cmd": "connect", "port": hub.n.Port()}, "connect")
	var refPeer *p2p.Peer
	waitFor(t, waitLimit, "the 1.2 peer", func() bool {
		for _, p := range hub.n.Inbound() {
			if p.ID() == ref.id {
				refPeer = p
			}
		}
		return refPeer != nil
	})
	require.False(t, refPeer.Encrypted())
	for _, g := range w.nodes {
		require.NoError(t, g.n.Subscribe("t"))
	}
	for i, g := range w.nodes {
		data := fmt.Sprintf("gossip %d", i)
		require.NoError(t, g.n.Publish("t", []byte(data)))
		waitFor(t, 20*time.Second, "delivery of "+data, func() bool { return w.delivered("t", data, g, w.nodes) })
	}
	require.NoError(t, refPeer.Send([]byte("direct"), p2p.None))
	ref.requireReceived(t, []byte("direct"))
	require.Empty(t, ref.find(isNodeEv("node_message")), "1.2 got only its direct message")
	require.Contains(t, hub.n.Inbound(), refPeer, "1.2 stays connected")
	for _, kp := range hub.n.KnownPeers() {
		require.NotEqual(t, ref.id, kp.ID)
	}
}

// Nodes leave and join while others publish: the nodes there all along get
// every publish exactly once, and the newcomers get what follows their
// joining.
func TestGossipChurn(t *testing.T) {
	t.Parallel()
	const size, k = 12, 3
	w := buildNet(t, size, k)
	for _, g := range w.nodes {
		require.NoError(t, g.n.Subscribe("c"))
	}
	stayers := append([]*gnode{}, w.nodes[:8]...)
	leavers := w.nodes[8:]
	port := stayers[0].n.Port()
	var joiners []*gnode
	const msgs = 30
	for i := range msgs {
		origin := stayers[i%len(stayers)]
		require.NoError(t, origin.n.Publish("c", []byte(fmt.Sprintf("m%d", i))))
		switch {
		case i%6 == 2 && len(leavers) > 0:
			w.remove(leavers[0])
			leavers = leavers[1:]
		case i%6 == 5:
			g := w.add()
			require.NoError(t, g.n.Subscribe("c"))
			w.join(g, port, k)
			joiners = append(joiners, g)
		}
	}
	for i := range msgs {
		data := fmt.Sprintf("m%d", i)
		origin := stayers[i%len(stayers)]
		waitFor(t, 30*time.Second, "delivery of "+data, func() bool { return w.delivered("c", data, origin, stayers) })
	}
	waitFor(t, 60*time.Second, "the network after churn", func() bool { return w.converged(1) })
	require.NoError(t, stayers[1].n.Publish("c", []byte("final")))
	waitFor(t, 30*time.Second, "the final delivery", func() bool { return w.delivered("c", "final", stayers[1], w.nodes) })
	for _, g := range w.nodes {
		g.mu.Lock()
		for key, c := range g.got {
			require.Equal(t, 1, c, "%s delivered %d times", key, c)
		}
		g.mu.Unlock()
	}
	require.NotEmpty(t, joiners)
}
