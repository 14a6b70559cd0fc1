package overlay

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"time"
)

// simNet is a deterministic discrete-event network: one goroutine, a virtual
// clock, per-link FIFO delivery with latency and a bounded queue per
// direction, dials that take a round trip, and partitions.
type simNet struct {
	now    time.Time
	events eventQueue
	seq    uint64
	rng    *rand.Rand
	nodes  map[PeerID]*simNode
	byAddr map[Addr]*simNode
	links  map[[2]PeerID]*simLink // key: sorted pair
	cut    func(a, b PeerID) bool
	tick   time.Duration
	qcap   int
	jitter time.Duration // extra delay per frame, uniform in [0, jitter): a busy CPU's varying latency

	discCfg   DiscoveryConfig
	gossipCfg GossipConfig
	onDeliver func(n *simNode, d Delivery)
}

type simLink struct {
	queued  map[PeerID]int       // frames in flight toward each end
	lastAt  map[PeerID]time.Time // FIFO per direction
	latency time.Duration
}

type simNode struct {
	net  *simNet
	id   PeerID
	addr Addr
	up   bool
	disc *Discovery
	gs   *Gossip
	gen  int // bumps on restart, so stale ticks die
}

type simEvent struct {
	at  time.Time
	seq uint64
	fn  func()
}

type eventQueue []*simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at.Before(q[j].at) || q[i].at.Equal(q[j].at) && q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func newSimNet(seed uint64) *simNet {
	return &simNet{
		now:    time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC),
		rng:    rand.New(rand.NewPCG(seed, seed+1)),
		nodes:  make(map[PeerID]*simNode),
		byAddr: make(map[Addr]*simNode),
		links:  make(map[[2]PeerID]*simLink),
		tick:   100 * time.Millisecond,
		qcap:   256,
	}
}

func (s *simNet) Now() time.Time { return s.now }

func (s *simNet) at(d time.Duration, fn func()) {
	s.seq++
	heap.Push(&s.events, &simEvent{at: s.now.Add(d), seq: s.seq, fn: fn})
}

// runFor processes events for d of virtual time.
func (s *simNet) runFor(d time.Duration) { s.runUntil(s.now.Add(d), nil) }

// runUntil processes events until end or until cond (checked every tick) holds.
func (s *simNet) runUntil(end time.Time, cond func() bool) bool {
	next := s.now
	for len(s.events) > 0 && !s.events[0].at.After(end) {
		e := heap.Pop(&s.events).(*simEvent)
		s.now = e.at
		e.fn()
		if cond != nil && !s.now.Before(next) {
			next = s.now.Add(s.tick)
			if cond() {
				return true
			}
		}
	}
	s.now = end
	return cond != nil && cond()
}

func pairKey(a, b PeerID) [2]PeerID {
	if a > b {
		a, b = b, a
	}
	return [2]PeerID{a, b}
}

// addNode creates and starts a node listening on port 1000+i.
func (s *simNet) addNode(i int) *simNode {
	n := &simNode{net: s, id: PeerID(fmt.Sprintf("node-%04d", i)), addr: Addr{"10.0.0.1", uint16(1000 + i)}}
	s.nodes[n.id] = n
	s.byAddr[n.addr] = n
	s.start(n)
	return n
}

func (s *simNet) start(n *simNode) {
	n.up = true
	n.gen++
	dc := s.discCfg
	dc.Self, dc.Seed = n.id, s.rng.Uint64()
	n.disc = NewDiscovery(dc, simTransport{n, DiscoveryCapability}, s)
	gc := s.gossipCfg
	gc.Self = n.id
	gc.Deliver = func(d Delivery) {
		if s.onDeliver != nil {
			s.onDeliver(n, d)
		}
	}
	n.gs = NewGossip(gc, simTransport{n, GossipCapability}, s)
	gen := n.gen
	var tick func()
	tick = func() {
		if !n.up || n.gen != gen {
			return
		}
		n.disc.Tick()
		n.gs.Tick()
		s.at(s.tick, tick)
	}
	s.at(time.Duration(s.rng.Int64N(int64(s.tick))), tick)
}

// stop takes a node off the network: its links go down at both ends.
func (s *simNet) stop(n *simNode) {
	n.up = false
	for k := range s.links {
		if k[0] == n.id || k[1] == n.id {
			s.dropLink(k)
		}
	}
}

func (s *simNet) dropLink(k [2]PeerID) {
	if _, ok := s.links[k]; !ok {
		return
	}
	delete(s.links, k)
	for i, id := range k {
		if n := s.nodes[id]; n.up {
			other := k[1-i]
			n.disc.LinkDown(other)
			n.gs.LinkDown(other)
		}
	}
}

// partition cuts every link between the halves and makes dials across fail.
func (s *simNet) partition(side func(PeerID) bool) {
	s.cut = func(a, b PeerID) bool { return side(a) != side(b) }
	for k := range s.links {
		if s.cut(k[0], k[1]) {
			s.dropLink(k)
		}
	}
}

func (s *simNet) heal() { s.cut = nil }

func (s *simNet) linked(a, b PeerID) bool { _, ok := s.links[pairKey(a, b)]; return ok }

func (s *simNet) latency() time.Duration {
	return 5*time.Millisecond + time.Duration(s.rng.Int64N(int64(20*time.Millisecond)))
}

// simTransport is one node's Transport for one capability.
type simTransport struct {
	n   *simNode
	cap string
}

func (t simTransport) Send(peer PeerID, frame []byte) error {
	s := t.n.net
	l, ok := s.links[pairKey(t.n.id, peer)]
	if !ok {
		return ErrNoLink
	}
	if l.queued[peer] >= s.qcap {
		return ErrQueueFull
	}
	l.queued[peer]++
	at := s.now.Add(l.latency)
	if s.jitter > 0 {
		at = at.Add(time.Duration(s.rng.Int64N(int64(s.jitter))))
	}
	if l.lastAt[peer].After(at) {
		at = l.lastAt[peer]
	}
	l.lastAt[peer] = at
	from, frame := t.n.id, append([]byte(nil), frame...)
	s.at(at.Sub(s.now), func() {
		if s.links[pairKey(from, peer)] != l {
			return
		}
		l.queued[peer]--
		dst := s.nodes[peer]
		if t.cap == DiscoveryCapability {
			dst.disc.Frame(from, frame)
		} else {
			dst.gs.Frame(from, frame)
		}
	})
	return nil
}

func (t simTransport) Dial(addr Addr) error {
	s, from := t.n.net, t.n
	gen := from.gen
	s.at(2*s.latency(), func() {
		if !from.up || from.gen != gen {
			return
		}
		to, ok := s.byAddr[addr]
		if !ok || !to.up || to == from || (s.cut != nil && s.cut(from.id, to.id)) || s.linked(from.id, to.id) {
			from.disc.DialFailed(addr)
			return
		}
		k := pairKey(from.id, to.id)
		s.links[k] = &simLink{queued: map[PeerID]int{}, lastAt: map[PeerID]time.Time{}, latency: s.latency()}
		out := LinkInfo{ID: to.id, Host: addr.Host, Port: addr.Port}
		in := LinkInfo{ID: from.id, Host: from.addr.Host, Port: from.addr.Port, Inbound: true}
		// As a node will: Discovery admits first, so a redirected link
		// never reaches the gossip engines.
		if from.disc.Admit(out) && to.disc.Admit(in) {
			from.gs.LinkUp(out)
			to.gs.LinkUp(in)
		}
	})
	return nil
}

func (t simTransport) Close(peer PeerID) {
	// Like a graceful close, frames already queued toward the peer arrive first.
	s, k := t.n.net, pairKey(t.n.id, peer)
	var after time.Duration
	if l, ok := s.links[k]; ok && l.lastAt[peer].After(s.now) {
		after = l.lastAt[peer].Sub(s.now) + time.Nanosecond
	}
	s.at(after, func() {
		if s.links[k] != nil {
			s.dropLink(k)
		}
	})
}

// connected reports whether the up nodes form one component.
func (s *simNet) connected() bool {
	adj := make(map[PeerID][]PeerID)
	var start PeerID
	up := 0
	for id, n := range s.nodes {
		if n.up {
			up++
			start = id
		}
	}
	for k := range s.links {
		adj[k[0]] = append(adj[k[0]], k[1])
		adj[k[1]] = append(adj[k[1]], k[0])
	}
	seen := map[PeerID]bool{start: true}
	stack := []PeerID{start}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, w := range adj[v] {
			if !seen[w] {
				seen[w] = true
				stack = append(stack, w)
			}
		}
	}
	return len(seen) == up
}

// minDegree is the smallest link count among up nodes.
func (s *simNet) degrees() (lo, hi int, mean float64) {
	deg := make(map[PeerID]int)
	for k := range s.links {
		deg[k[0]]++
		deg[k[1]]++
	}
	lo, n, sum := 1<<30, 0, 0
	for id, nd := range s.nodes {
		if nd.up {
			d := deg[id]
			lo, hi, n, sum = min(lo, d), max(hi, d), n+1, sum+d
		}
	}
	return lo, hi, float64(sum) / float64(n)
}
