package p2p

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2pnode/p2pnode/p2p/native"
	"github.com/p2pnode/p2pnode/p2p/overlay"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// overlayCaps are the extension protocols every native node announces: it
// relays gossip whether or not it subscribes, and answers peer-exchange
// requests whether or not it calls Discover (which adds the dialing,
// pruning and redirecting).
var overlayCaps = []string{overlay.DiscoveryCapability, overlay.GossipCapability}

// overlayTick drives the engines' timers; Gossip needs it at least every
// IHaveInterval (250 ms).
const overlayTick = 100 * time.Millisecond

// nodeOverlay carries the overlay engines on a node's native links: it is
// their Transport, hands them the extension frames of their capability,
// tells them about links, and turns deliveries into EventTopicMessage on
// the node's one event queue.
type nodeOverlay struct {
	n      *Node
	gossip *overlay.Gossip

	mu    sync.Mutex
	disc  *overlay.Discovery       // answers ASKs from the start; manages links after Discover
	peers map[overlay.PeerID]*Peer // the one native link per peer id the engines see

	stats struct {
		sent, sentBytes, dropped, received atomic.Uint64
		hops                               [256]atomic.Uint64 // deliveries by hop count
	}
}

func newNodeOverlay(n *Node) *nodeOverlay {
	o := &nodeOverlay{n: n, peers: make(map[overlay.PeerID]*Peer)}
	o.disc = overlay.NewDiscovery(overlay.DiscoveryConfig{Self: overlay.PeerID(n.id)},
		capTransport{o, overlay.DiscoveryCapability}, overlay.SystemClock{})
	o.gossip = overlay.NewGossip(overlay.GossipConfig{Self: overlay.PeerID(n.id), Deliver: o.deliver},
		capTransport{o, overlay.GossipCapability}, overlay.SystemClock{})
	return o
}

// discovery returns the Discovery engine.
func (o *nodeOverlay) discovery() *overlay.Discovery {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.disc
}

// run drives the engines' timers until the node stops.
func (o *nodeOverlay) run() {
	defer o.n.wg.Done()
	t := time.NewTicker(overlayTick)
	defer t.Stop()
	for {
		select {
		case <-o.n.ctx.Done():
			return
		case <-t.C:
			o.disc.Tick()
			o.gossip.Tick()
		}
	}
}

func linkInfo(p *Peer) overlay.LinkInfo {
	return overlay.LinkInfo{ID: overlay.PeerID(p.id), Host: p.host, Port: uint16(p.port), Inbound: p.dir == Inbound}
}

// linkUp shows a new native link to the engines that the peer announced:
// Discovery first (it may redirect the link), then Gossip. A second link
// with an id the engines know already stays an application link.
func (o *nodeOverlay) linkUp(p *Peer) {
	pex, gsp := slices.Contains(p.caps, overlay.DiscoveryCapability), slices.Contains(p.caps, overlay.GossipCapability)
	if !pex && !gsp {
		return
	}
	id := overlay.PeerID(p.id)
	o.mu.Lock()
	if _, dup := o.peers[id]; dup {
		o.mu.Unlock()
		return
	}
	o.peers[id] = p
	d := o.disc
	o.mu.Unlock()
	info := linkInfo(p)
	if pex && !d.Admit(info) {
		return // redirected: it is being closed
	}
	if gsp {
		o.gossip.LinkUp(info)
	}
}

// linkDown tells the engines a link is gone, and shows them another native
// link to the same peer if there is one.
func (o *nodeOverlay) linkDown(p *Peer) {
	id := overlay.PeerID(p.id)
	o.mu.Lock()
	if o.peers[id] != p {
		o.mu.Unlock()
		return
	}
	delete(o.peers, id)
	d := o.disc
	o.mu.Unlock()
	d.LinkDown(id)
	o.gossip.LinkDown(id)
	for _, q := range o.n.All() {
		if q != p && q.native && q.id == p.id {
			o.linkUp(q)
			return
		}
	}
}

// readExt reads an extension frame and hands its payload to its engine. A
// frame that does not parse costs the peer its connection; the body is
// fresh, as the engines may keep it (Gossip stores frames for GRAFTs).
func (p *Peer) readExt(br io.Reader, h native.Header) error {
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(br, body); err != nil {
		return err
	}
	name, payload, err := native.SplitExt(body)
	if err != nil {
		p.receiveErrors(1)
		return fmt.Errorf("%s: %w", p.id, err)
	}
	o := p.node.ov
	o.stats.received.Add(1)
	id := overlay.PeerID(p.id)
	o.mu.Lock()
	ours, d := o.peers[id] == p, o.disc
	o.mu.Unlock()
	if !ours {
		return nil // a second link to a peer the engines know through another
	}
	switch name {
	case overlay.DiscoveryCapability:
		d.Frame(id, payload)
	case overlay.GossipCapability:
		o.gossip.Frame(id, payload)
	}
	return nil
}

// deliver turns a delivery into EventTopicMessage. It runs on the reader of
// the link the message came on, outside the engine's lock, and waits for
// room in the event queue as message events do.
func (o *nodeOverlay) deliver(d overlay.Delivery) {
	o.mu.Lock()
	p := o.peers[d.From]
	o.mu.Unlock()
	o.stats.hops[min(max(d.Hops, 0), 255)].Add(1)
	n := o.n
	cancel := n.ctx.Done()
	if p != nil {
		cancel = p.closed
	}
	evp := evPool.Get().(*[]Event)
	*evp = append((*evp)[:0], Event{Type: EventTopicMessage, Node: n, Peer: p, Topic: d.Topic, Origin: string(d.Origin),
		Message: Message{Kind: wire.Classify(d.Data), Data: d.Data, Compression: None}})
	if !n.events.pushMessages(evp, cancel) {
		recycleEvents(evp)
	}
}

// capTransport is the Transport of one engine: its frames travel as
// extension frames tagged with its capability.
type capTransport struct {
	o   *nodeOverlay
	cap string
}

func (t capTransport) peer(id overlay.PeerID) *Peer {
	t.o.mu.Lock()
	defer t.o.mu.Unlock()
	return t.o.peers[id]
}

// Send queues the frame for the peer without waiting (see enqueueOverlay).
func (t capTransport) Send(id overlay.PeerID, frame []byte) error {
	p := t.peer(id)
	if p == nil {
		return overlay.ErrNoLink
	}
	return p.enqueueOverlay(native.AppendExt(make([]byte, 0, native.ExtSize(t.cap, len(frame))), t.cap, frame))
}

// Dial connects in a goroutine the node owns; a failure is reported to
// Discovery, a success by the link coming up.
func (t capTransport) Dial(a overlay.Addr) error {
	n := t.o.n
	if n.ctx.Err() != nil {
		return ErrStopped
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if _, err := n.Connect(a.Host, int(a.Port), false); err != nil {
			n.debugf("overlay dial to %s:%d failed: %v", a.Host, a.Port, err)
			t.o.disc.DialFailed(a)
		}
	}()
	return nil
}

// Close flushes what is queued for the peer (a redirect's addresses), then
// closes the link.
func (t capTransport) Close(id overlay.PeerID) {
	if p := t.peer(id); p != nil {
		p.closeGracefully()
	}
}
