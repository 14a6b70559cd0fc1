package overlay

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// delivery log of a simulated run: per message, who got it, when, in how many hops.
type pubRecord struct {
	origin PeerID
	at     time.Time
	got    map[PeerID]int // deliveries per node (must end at 1)
	times  []time.Duration
}

type simRun struct {
	t     *testing.T
	net   *simNet
	topic string
	pubs  map[MessageID]*pubRecord
	hops  []int
	subs  map[PeerID]bool
	order []MessageID
}

func newSimRun(t *testing.T, n int, seed uint64, k int) *simRun {
	s := newSimNet(seed)
	s.discCfg = DiscoveryConfig{ExploreInterval: 5 * time.Second}
	r := &simRun{t: t, net: s, topic: "chat", pubs: map[MessageID]*pubRecord{}, subs: map[PeerID]bool{}}
	s.onDeliver = func(nd *simNode, d Delivery) {
		p, ok := r.pubs[d.ID]
		if !ok {
			t.Errorf("%s delivered unknown message", nd.id)
			return
		}
		p.got[nd.id]++
		p.times = append(p.times, s.now.Sub(p.at))
		r.hops = append(r.hops, d.Hops)
		if d.Origin != p.origin || d.Topic != r.topic {
			t.Errorf("%s: delivery carries origin %s topic %q, want %s %q", nd.id, d.Origin, d.Topic, p.origin, r.topic)
		}
	}
	boot := s.addNode(0)
	boot.disc.Discover(k)
	for i := 1; i < n; i++ {
		i := i
		s.at(time.Duration(i)*10*time.Millisecond, func() {
			nd := s.addNode(i)
			nd.disc.Discover(k, boot.addr)
		})
	}
	return r
}

// subscribeAll subscribes every up node except one in five (those relay only).
func (r *simRun) subscribeAll() {
	for id, nd := range r.net.nodes {
		if nd.up && id[len(id)-1]%5 != 0 {
			if err := nd.gs.Subscribe(r.topic); err != nil {
				r.t.Fatal(err)
			}
			r.subs[id] = true
		}
	}
}

func (r *simRun) converge(k int, within time.Duration) {
	r.t.Helper()
	ok := r.net.runUntil(r.net.now.Add(within), func() bool {
		lo, _, _ := r.net.degrees()
		return lo >= k && r.net.connected()
	})
	lo, hi, mean := r.net.degrees()
	if !ok {
		r.t.Fatalf("no convergence within %v: degree min %d max %d mean %.1f connected %v", within, lo, hi, mean, r.net.connected())
	}
}

func (r *simRun) publish(origin *simNode, payload string) {
	id, err := origin.gs.Publish(r.topic, []byte(payload))
	if err != nil {
		r.t.Fatal(err)
	}
	r.pubs[id] = &pubRecord{origin: origin.id, at: r.net.now, got: map[PeerID]int{}}
	r.order = append(r.order, id)
}

// randomUp picks a random up node with at least one link: a publish from a
// node with no link reaches no one, since gossip does not store and forward.
func (r *simRun) randomUp() *simNode {
	ids := make([]PeerID, 0, len(r.net.nodes))
	for id, nd := range r.net.nodes {
		if nd.up && nd.disc.Degree() > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return r.net.nodes[ids[r.net.rng.IntN(len(ids))]]
}

// check asserts exactly-once delivery to every subscriber that was up for
// the whole run (those in want), and never to the origin.
func (r *simRun) check(ids []MessageID, want func(PeerID) bool) {
	r.t.Helper()
	for _, id := range ids {
		p := r.pubs[id]
		if p.got[p.origin] != 0 {
			r.t.Errorf("origin %s got its own message", p.origin)
		}
		missing := 0
		for s := range r.subs {
			if s == p.origin || !want(s) {
				continue
			}
			switch n := p.got[s]; {
			case n == 0:
				missing++
			case n > 1:
				r.t.Errorf("%s got a message %d times", s, n)
			}
		}
		if missing > 0 {
			r.t.Errorf("message from %s missed %d subscribers", p.origin, missing)
		}
	}
}

func pct(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// report logs the delivery figures of the run.
func (r *simRun) report(framesBefore uint64, deliveredBefore uint64) string {
	var t50, t99, t100 []time.Duration
	for _, id := range r.order {
		p := r.pubs[id]
		if len(p.times) == 0 {
			continue
		}
		s := slices.Clone(p.times)
		slices.Sort(s)
		t50 = append(t50, s[len(s)/2])
		t99 = append(t99, s[min(len(s)-1, len(s)*99/100)])
		t100 = append(t100, s[len(s)-1])
	}
	h := slices.Clone(r.hops)
	slices.Sort(h)
	var st GossipStats
	for _, nd := range r.net.nodes {
		s := nd.gs.Stats()
		st.SentGossip += s.SentGossip
		st.SentIHave += s.SentIHave
		st.SentGraft += s.SentGraft
		st.SentPrune += s.SentPrune
		st.Duplicates += s.Duplicates
		st.Delivered += s.Delivered
	}
	per := func(v uint64) float64 { return float64(v) / float64(st.Delivered-deliveredBefore) }
	return fmt.Sprintf("time to 50%%/99%%/100%% of subscribers (median over publishes): %v / %v / %v (worst 100%%: %v); hops p50 %d p99 %d; "+
		"frames sent per delivery %.2f (GOSSIP %.2f, IHAVE %.2f, GRAFT %.3f, PRUNE %.3f; whole run incl. tree warm-up); duplicates received per delivery %.2f",
		pct(t50, .5), pct(t99, .5), pct(t100, .5), pct(t100, 1), h[len(h)/2], h[len(h)*99/100],
		per(st.FramesSent()-framesBefore), per(st.SentGossip), per(st.SentIHave), per(st.SentGraft), per(st.SentPrune), per(st.Duplicates))
}

func (r *simRun) gossipTotals() (frames, delivered uint64) {
	for _, nd := range r.net.nodes {
		st := nd.gs.Stats()
		frames += st.FramesSent()
		delivered += st.Delivered
	}
	return
}

const scaleNodes, scaleK = 1000, 4

// TestSimulated1000 builds 1,000 nodes from one bootstrap, checks discovery
// converges (every node >= K links, one component), then 100 publishes from
// random origins reach every subscriber exactly once and never the origin.
// The figures are printed, not asserted.
func TestSimulated1000(t *testing.T) {
	n := scaleNodes
	if testing.Short() {
		n = 200
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := newSimRun(t, n, 1, scaleK)
	r.converge(scaleK, 120*time.Second)
	lo, hi, mean := r.net.degrees()
	boot := r.net.nodes["node-0000"].disc.Degree()
	t.Logf("converged at %v simulated: degree min %d max %d mean %.2f, bootstrap degree %d",
		r.net.now.Sub(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)), lo, hi, mean, boot)
	r.subscribeAll()
	f0, d0 := r.gossipTotals()
	for i := 0; i < 100; i++ {
		r.publish(r.randomUp(), fmt.Sprintf("message %d", i))
		r.net.runFor(100 * time.Millisecond)
	}
	r.net.runFor(20 * time.Second)
	r.check(r.order, func(PeerID) bool { return true })
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d nodes, %d subscribers, 100 publishes: %s; heap per node %.1f KiB (engines + simulator)",
		n, len(r.subs), r.report(f0, d0), float64(after.HeapAlloc-before.HeapAlloc)/float64(n)/1024)
	runtime.KeepAlive(r)
}
