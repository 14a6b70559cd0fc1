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
	hops   []int
}

type simRun struct {
	t     testing.TB
	net   *simNet
	topic string
	pubs  map[MessageID]*pubRecord
	subs  map[PeerID]bool
	order []MessageID
}

func newSimRun(t testing.TB, n int, seed uint64, k int) *simRun {
	s := newSimNet(seed)
	s.discCfg = DiscoveryConfig{} // the defaults
	r := &simRun{t: t, net: s, topic: "chat", pubs: map[MessageID]*pubRecord{}, subs: map[PeerID]bool{}}
	s.onDeliver = func(nd *simNode, d Delivery) {
		p, ok := r.pubs[d.ID]
		if !ok {
			t.Errorf("%s delivered unknown message", nd.id)
			return
		}
		p.got[nd.id]++
		p.times = append(p.times, s.now.Sub(p.at))
		p.hops = append(p.hops, d.Hops)
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

// totals sums the gossip counters of every node, up or down.
func (r *simRun) totals() GossipStats {
	var st GossipStats
	for _, nd := range r.net.nodes {
		s := nd.gs.Stats()
		st.SentGossip += s.SentGossip
		st.SentIHave += s.SentIHave
		st.SentGraft += s.SentGraft
		st.SentPrune += s.SentPrune
		st.Duplicates += s.Duplicates
		st.Delivered += s.Delivered
		st.BytesSent += s.BytesSent
	}
	return st
}

// figures are the delivery measurements of a set of publishes.
type figures struct {
	t50, t99, t100, worst             time.Duration
	hops50, hops99                    int
	framesPerDelivery                 float64
	gossip, ihave, graft, prune, dups float64
	bytesPerDelivery                  float64
}

// measure computes the figures of the publishes ids, with the counters
// taken before (b) and after (a) them.
func (r *simRun) measure(ids []MessageID, b, a GossipStats) figures {
	var t50, t99, t100, hops []time.Duration
	for _, id := range ids {
		p := r.pubs[id]
		if len(p.times) == 0 {
			continue
		}
		s := slices.Clone(p.times)
		slices.Sort(s)
		t50 = append(t50, s[len(s)/2])
		t99 = append(t99, s[min(len(s)-1, len(s)*99/100)])
		t100 = append(t100, s[len(s)-1])
		for _, h := range p.hops {
			hops = append(hops, time.Duration(h))
		}
	}
	del := float64(a.Delivered - b.Delivered)
	per := func(x, y uint64) float64 { return float64(x-y) / del }
	return figures{
		t50: pct(t50, .5), t99: pct(t99, .5), t100: pct(t100, .5), worst: pct(t100, 1),
		hops50: int(pct(hops, .5)), hops99: int(pct(hops, .99)),
		framesPerDelivery: per(a.FramesSent(), b.FramesSent()),
		gossip:            per(a.SentGossip, b.SentGossip), ihave: per(a.SentIHave, b.SentIHave),
		graft: per(a.SentGraft, b.SentGraft), prune: per(a.SentPrune, b.SentPrune),
		dups: per(a.Duplicates, b.Duplicates), bytesPerDelivery: per(a.BytesSent, b.BytesSent),
	}
}

func (f figures) String() string {
	return fmt.Sprintf("time to 50%%/99%%/100%% of subscribers (median over publishes) %v / %v / %v, slowest publish to 100%% %v; "+
		"hops p50 %d p99 %d; per delivery: %.2f frames (GOSSIP %.2f IHAVE %.2f GRAFT %.3f PRUNE %.3f), %.0f bytes, %.2f duplicates received",
		f.t50.Round(time.Millisecond), f.t99.Round(time.Millisecond), f.t100.Round(time.Millisecond), f.worst.Round(time.Millisecond),
		f.hops50, f.hops99, f.framesPerDelivery, f.gossip, f.ihave, f.graft, f.prune, f.bytesPerDelivery, f.dups)
}

// publishBatch publishes count messages from random origins, one every
// gap, lets them settle, checks exactly-once delivery, and measures.
func (r *simRun) publishBatch(count int, gap time.Duration, want func(PeerID) bool) figures {
	r.t.Helper()
	before, first := r.totals(), len(r.order)
	for i := 0; i < count; i++ {
		r.publish(r.randomUp(), fmt.Sprintf("message %d", first+i))
		r.net.runFor(gap)
	}
	r.net.runFor(20 * time.Second)
	ids := r.order[first:]
	r.check(ids, want)
	return r.measure(ids, before, r.totals())
}

const scaleNodes, scaleK = 1000, 4

// TestSimulated1000 builds 1,000 nodes from one bootstrap, checks discovery
// converges (every node >= K links, one component), then 100 publishes from
// random origins reach every subscriber exactly once and never the origin.
// The figures are printed, not asserted.
func TestSimulated1000(t *testing.T) { simulate1000(t, 0) }

// TestSimulated1000UnderLoad is the same run with up to 50 ms of extra
// delay per frame, as when CPU is short: which link brings a message first
// varies, and the tree must form all the same.
func TestSimulated1000UnderLoad(t *testing.T) { simulate1000(t, 50*time.Millisecond) }

func simulate1000(t *testing.T, jitter time.Duration) {
	n := scaleNodes
	if testing.Short() {
		n = 200
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := newSimRun(t, n, 1, scaleK)
	r.net.jitter = jitter
	r.converge(scaleK, 120*time.Second)
	lo, hi, mean := r.net.degrees()
	boot := r.net.nodes["node-0000"].disc.Degree()
	t.Logf("converged at %v simulated: degree min %d max %d mean %.2f, bootstrap degree %d",
		r.net.now.Sub(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)), lo, hi, mean, boot)
	r.subscribeAll()
	all := func(PeerID) bool { return true }
	cold := r.publishBatch(100, 100*time.Millisecond, all)
	warm := r.publishBatch(100, 100*time.Millisecond, all)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d nodes, %d subscribers (one node in five relays only)", n, len(r.subs))
	t.Logf("first 100 publishes (tree forming): %v", cold)
	t.Logf("next 100 publishes (tree formed):   %v", warm)
	t.Logf("heap per node %.1f KiB (engines and simulator, after 200 publishes)", float64(after.HeapAlloc-before.HeapAlloc)/float64(n)/1024)
	runtime.KeepAlive(r)
}
