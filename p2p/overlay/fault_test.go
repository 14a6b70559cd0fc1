package overlay

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestChurnDuringPublishing stops and starts nodes while publishing: every
// subscriber up for the whole run gets every message exactly once, and no
// node ever gets one twice.
func TestChurnDuringPublishing(t *testing.T) {
	const n = 200
	r := newSimRun(t, n, 2, scaleK)
	r.converge(scaleK, 60*time.Second)
	r.subscribeAll()
	churned := map[PeerID]bool{}
	next := n
	for i := 0; i < 60; i++ {
		r.publish(r.randomUp(), fmt.Sprintf("m%d", i))
		if i%3 == 0 {
			victim := r.randomUp()
			if victim.id != "node-0000" {
				churned[victim.id] = true
				r.net.stop(victim)
			}
			nd := r.net.addNode(next)
			next++
			churned[nd.id] = true
			nd.disc.Discover(scaleK, Addr{"10.0.0.1", 1000})
			_ = nd.gs.Subscribe(r.topic)
		}
		r.net.runFor(200 * time.Millisecond)
	}
	r.net.runFor(20 * time.Second)
	r.check(r.order, func(id PeerID) bool { return !churned[id] })
	for _, p := range r.pubs {
		for id, c := range p.got {
			if c > 1 {
				t.Errorf("%s got a message %d times", id, c)
			}
		}
	}
	lo, _, _ := r.net.degrees()
	if lo < scaleK || !r.net.connected() {
		r.converge(scaleK, 60*time.Second)
	}
	t.Logf("%d nodes churned; %s", len(churned), r.measure(r.order, GossipStats{}, r.totals()))
}

// TestPartitionHeals cuts every link between two halves, lets each half
// live on its own, heals, and expects discovery to join the halves again so
// that new publishes reach every subscriber.
func TestPartitionHeals(t *testing.T) {
	const n = 200
	r := newSimRun(t, n, 3, scaleK)
	r.converge(scaleK, 60*time.Second)
	r.subscribeAll()
	left := func(id PeerID) bool { return strings.Compare(string(id), fmt.Sprintf("node-%04d", n/2)) < 0 }
	r.net.partition(left)
	r.net.runFor(30 * time.Second)
	if r.net.connected() {
		t.Fatal("the partition left the halves connected")
	}
	// Each half still works on its own.
	origin := r.net.nodes["node-0001"]
	r.publish(origin, "during the partition")
	r.net.runFor(10 * time.Second)
	r.check(r.order, left)

	r.net.heal()
	healedAt := r.net.now
	if !r.net.runUntil(r.net.now.Add(5*time.Minute), r.net.connected) {
		t.Fatal("the halves did not find each other within 5 simulated minutes")
	}
	t.Logf("reconnected %v after healing", r.net.now.Sub(healedAt))
	r.converge(scaleK, time.Minute)
	t.Logf("after healing: %v", r.publishBatch(20, 100*time.Millisecond, func(PeerID) bool { return true }))
}

// TestBootstrapGone stops the bootstrap after convergence: the network stays
// connected and publishes still reach everyone.
func TestBootstrapGone(t *testing.T) {
	r := newSimRun(t, 200, 4, scaleK)
	r.converge(scaleK, 60*time.Second)
	r.subscribeAll()
	boot := r.net.nodes["node-0000"]
	r.net.stop(boot)
	delete(r.subs, boot.id)
	r.converge(scaleK, time.Minute)
	t.Logf("without the bootstrap: %v", r.publishBatch(20, 100*time.Millisecond, func(PeerID) bool { return true }))
}
