package overlay

import (
	"testing"
	"time"
)

// A burst of publishes far larger than every link's queue (8 frames here)
// still reaches every subscriber exactly once: what a full queue refuses on
// an eager link waits in that peer's backlog and is resent as the queue
// drains, on the tree and on the links the tree later grafts.
func TestBurstPastQueueDeliversAll(t *testing.T) {
	r := newSimRun(t, 30, 7, 3)
	r.converge(3, 60*time.Second)
	r.subscribeAll()
	r.publishBatch(20, 100*time.Millisecond, func(PeerID) bool { return true }) // a tree to burst along
	r.net.qcap = 8
	before := r.totals()
	origin := r.randomUp()
	first := len(r.order)
	for i := 0; i < 300; i++ { // all at one instant, from one origin, and from others
		o := origin
		if i%3 == 2 {
			o = r.randomUp()
		}
		r.publish(o, "burst")
	}
	r.net.runFor(60 * time.Second)
	r.check(r.order[first:], func(PeerID) bool { return true })
	var resent, dropped, failed uint64
	for _, nd := range r.net.nodes {
		s := nd.gs.Stats()
		resent, dropped, failed = resent+s.Resent, dropped+s.BacklogDropped, failed+s.SendFailed
	}
	after := r.totals()
	t.Logf("300 publishes, %d deliveries; sends refused %d, pushes resent from backlogs %d, given up %d; GRAFTs %d",
		after.Delivered-before.Delivered, failed, resent, dropped, after.SentGraft-before.SentGraft)
	if failed == 0 {
		t.Fatal("the burst never filled a queue: the test proves nothing")
	}
}
