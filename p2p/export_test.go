package p2p

import (
	"slices"

	"github.com/p2pnode/p2pnode/p2p/overlay"
)

// OverlayStats exposes the overlay's frame counters to the tests and the
// benchmark: extension frames written, dropped at a full overlay queue,
// and received.
func OverlayStats(n *Node) (sent, sentBytes, dropped, received uint64) {
	s := &n.ov.stats
	return s.sent.Load(), s.sentBytes.Load(), s.dropped.Load(), s.received.Load()
}

// OverlaySeen is the number of message ids the node's gossip engine holds.
func OverlaySeen(n *Node) int { return n.ov.gossip.Stats().Seen }

// OverlayLinks lists the ids of the peers the engines see, but those
// being closed (redirected or pruned).
func OverlayLinks(n *Node) []string {
	n.ov.mu.Lock()
	peers := make([]*Peer, 0, len(n.ov.peers))
	for _, p := range n.ov.peers {
		peers = append(peers, p)
	}
	n.ov.mu.Unlock()
	out := make([]string, 0, len(peers))
	for _, p := range peers {
		p.wmu.Lock()
		closing := p.closing
		p.wmu.Unlock()
		if !closing {
			out = append(out, p.id)
		}
	}
	return out
}

// OverlayHops adds the node's deliveries by hop count to into.
func OverlayHops(n *Node, into []uint64) {
	for i := range into {
		if i < len(n.ov.stats.hops) {
			into[i] += n.ov.stats.hops[i].Load()
		}
	}
}

// OverlayGossipStats is the node's gossip engine's counters.
func OverlayGossipStats(n *Node) overlay.GossipStats { return n.ov.gossip.Stats() }

// NativeByeSent reports whether our TLS close_notify went to a native peer
// (closeNative).
func NativeByeSent(p *Peer) bool { return p.byeSent.Load() }

// WithoutCapability makes n's hellos leave out capability, as an earlier
// version of ours did (before Start).
func WithoutCapability(n *Node, capability string) {
	n.caps = slices.DeleteFunc(slices.Clone(defaultCaps), func(c string) bool { return c == capability })
}

// NativeSealed reports whether p's frames travel in sealed records rather
// than TLS's.
func NativeSealed(p *Peer) bool {
	_, ok := p.conn.(*sealedConn)
	return ok
}

// QueuedShared is what the node's shared totals of queued bytes hold, the
// node's and that of the address of p, with a sole peer's own count added
// in (see addSoleLocked).
func QueuedShared(n *Node, p *Peer) (node, addr int64) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return n.queuedTotal.Load() + int64(p.unpub), p.share.queued.Load() + int64(p.unpub)
}

// QueuedTotal is the node's shared total of queued bytes alone.
func QueuedTotal(n *Node) int64 { return n.queuedTotal.Load() }

// LentSends is how many of the peer's sends lent their payload to the
// writer instead of copying it (sendLent).
func LentSends(p *Peer) int {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.lentSends
}

// Writing reports whether the peer's writer has taken all that was queued
// and is writing it.
func Writing(p *Peer) bool {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.inflight > 0 && len(p.segs) == 0 && p.lent == nil
}
