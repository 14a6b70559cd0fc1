package p2p

import (
	"github.com/p2pnode/p2pnode/p2p/overlay"
)

// KnownPeer is an address the node learnt through peer exchange.
type KnownPeer struct {
	ID   string
	Host string
	Port int
}

// Discover makes the node keep at least targetPeers connections with other
// p2pnode nodes: it learns addresses from its native peers (peer exchange,
// "pex/1"), dials until it has targetPeers links, replaces the links it
// loses, redirects inbound links above its high water mark (2K+2) to
// others instead of becoming a hub, and prunes above it. The peers it is
// connected to when it is called are its seeds: one bootstrap peer is
// enough to join. p2pnetwork and plaintext peers take no part.
func (n *Node) Discover(targetPeers int) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot discover")
	}
	if targetPeers < 1 {
		return errorf(ErrInvalidArgument, "target of %d peers", targetPeers)
	}
	if err := n.checkStarted(); err != nil {
		return err
	}
	o := n.ov
	o.mu.Lock()
	var seeds []overlay.Addr
	for _, p := range o.peers {
		if p.dir == Outbound {
			seeds = append(seeds, overlay.Addr{Host: p.host, Port: uint16(p.port)})
		}
	}
	d := o.disc
	o.mu.Unlock()
	d.Discover(targetPeers, seeds...)
	return nil
}

// KnownPeers lists the addresses the node knows: its native peers and,
// once Discover runs, what they told it.
func (n *Node) KnownPeers() []KnownPeer {
	if n == nil {
		return nil
	}
	var out []KnownPeer
	for _, r := range n.ov.discovery().KnownPeers() {
		out = append(out, KnownPeer{ID: string(r.ID), Host: r.Addr.Host, Port: int(r.Addr.Port)})
	}
	return out
}

// Subscribe makes the node raise EventTopicMessage (TopicHandler's
// NodeTopicMessage) for every publish on topic in the connected network.
// Every native node relays every topic whether or not it subscribes.
func (n *Node) Subscribe(topic string) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot subscribe")
	}
	if err := n.ov.gossip.Subscribe(topic); err != nil {
		return errorf(ErrInvalidArgument, "%v", err)
	}
	return nil
}

// Unsubscribe stops the topic's events; the node still relays it.
func (n *Node) Unsubscribe(topic string) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot unsubscribe")
	}
	if topic == "" || len(topic) > overlay.MaxTopicLen {
		return errorf(ErrInvalidArgument, "topic of %d bytes", len(topic))
	}
	n.ov.gossip.Unsubscribe(topic)
	return nil
}

// Publish sends data to every subscriber of topic in the connected network
// of native nodes, each exactly once and never to this node (gossip/1:
// eager push along a tree, lazy announcements on the other links).
func (n *Node) Publish(topic string, data []byte) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot publish")
	}
	if err := n.checkStarted(); err != nil {
		return err
	}
	if _, err := n.ov.gossip.Publish(topic, data); err != nil {
		return errorf(ErrInvalidArgument, "%v", err)
	}
	return nil
}
