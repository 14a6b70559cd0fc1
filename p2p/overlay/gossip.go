package overlay

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"time"
)

// GossipCapability tags the gossip frames on the native protocol.
const GossipCapability = "gossip/1"

// Delivery is one publish handed to a subscriber.
type Delivery struct {
	From   PeerID // the link it arrived on
	Topic  string
	Origin PeerID // the node that published it
	Data   []byte
	ID     MessageID
	Hops   int
}

// GossipConfig configures a Gossip engine; zero fields take the defaults.
type GossipConfig struct {
	Self    PeerID         // our node id (required)
	Deliver func(Delivery) // called for each publish on a subscribed topic, never under the engine lock

	MaxHops         int           // a message is not forwarded past this many hops (default 64)
	SeenSize        int           // message ids remembered (default 65536)
	SeenTTL         time.Duration // how long an id is remembered (default 2m)
	StoreBytes      int           // frames kept to answer GRAFTs (default 16 MiB)
	GraftTimeout    time.Duration // wait for a lazily announced message before grafting (default 1s)
	IHaveInterval   time.Duration // announcements to lazy links are batched this long (default 250ms; Tick must run at least this often)
	MaxMissing      int           // announced-but-missing ids tracked (default 4096)
	MaxBacklog      int           // per peer, ids whose eager push its full queue refused, resent on Tick (default 4096)
	OptimizeHops    int           // if > 0, graft a lazy link that announces a message this many hops sooner than the tree brought it (default off: with many origins it makes the tree oscillate)
	PruneShare      float64       // a duplicate prunes an eager link whose share of first copies, among the copies it brought lately, is below this (default 0.5)
	FramesPerSecond int           // a peer sending more is closed (default 10000)
	GraftsPerSecond int           // stored messages resent to one peer on GRAFT, at most (default 256)
}

func (c *GossipConfig) defaults() {
	if c.MaxHops <= 0 {
		c.MaxHops = 64
	}
	c.MaxHops = min(c.MaxHops, maxHopsWire)
	if c.SeenSize <= 0 {
		c.SeenSize = 1 << 16
	}
	if c.SeenTTL <= 0 {
		c.SeenTTL = 2 * time.Minute
	}
	if c.StoreBytes <= 0 {
		c.StoreBytes = 16 << 20
	}
	if c.GraftTimeout <= 0 {
		c.GraftTimeout = time.Second
	}
	if c.IHaveInterval <= 0 {
		c.IHaveInterval = 250 * time.Millisecond
	}
	if c.MaxMissing <= 0 {
		c.MaxMissing = 4096
	}
	if c.MaxBacklog <= 0 {
		c.MaxBacklog = 4096
	}
	if c.FramesPerSecond <= 0 {
		c.FramesPerSecond = 10000
	}
	if c.GraftsPerSecond <= 0 {
		c.GraftsPerSecond = 256
	}
	if c.PruneShare <= 0 {
		c.PruneShare = 0.5
	}
}

// GossipStats counts what the engine did; frames are counted when handed
// to the transport.
type GossipStats struct {
	Published, Delivered, Duplicates                        uint64
	SentGossip, SentIHave, SentGraft, SentPrune, SendFailed uint64
	Resent, BacklogDropped                                  uint64 // pushes made up for after a full queue; given up past MaxBacklog
	BytesSent                                               uint64
	Seen, Missing                                           int
}

// FramesSent is the total of frames handed to the transport.
func (s GossipStats) FramesSent() uint64 {
	return s.SentGossip + s.SentIHave + s.SentGraft + s.SentPrune
}

type gossipPeer struct {
	eager   bool
	firsts  float64    // copies it brought first, decayed (see judge)
	dups    float64    // copies it brought that we had already, decayed
	ihave   []announce // announcements waiting for the next Tick
	backlog []announce // pushes its full queue refused, resent (or announced) on Tick
	budget  budget
	grafts  budget // resends on its GRAFTs, so a GRAFT flood is not an amplifier
}

// judgeWindow is about how many recent copies judge weighs: older ones
// fade by 1/judgeWindow per copy.
const judgeWindow = 32

// judge records one copy the eager link brought (first or duplicate) and
// reports whether the link earns its place in the tree: whether it brought
// at least share of its recent copies first. The tree is shared by every
// origin, so a link that is some origins' path to us brings first copies
// and duplicates both; judging it by the share, not by any recent first
// copy, still prunes it when CPU load shuffles which link wins each race
// (any link then wins some), while a link that brings most of what it
// carries first stays. A fresh link's first duplicate prunes it, as in
// PlumTree; a tree link brings no duplicates at all.
func (p *gossipPeer) judge(first bool, share float64) bool {
	const keep = 1 - 1.0/judgeWindow
	p.firsts, p.dups = p.firsts*keep, p.dups*keep
	if first {
		p.firsts++
	} else {
		p.dups++
	}
	return p.firsts >= share*(p.firsts+p.dups)
}

type announce struct {
	id   MessageID
	hops int
}

type missingMsg struct {
	announcers []PeerID
	tried      int
	deadline   time.Time
}

const maxAnnouncers = 8

// Gossip is topic publish/subscribe over the whole overlay in the PlumTree
// style: a message is pushed eagerly along a spanning tree and announced
// lazily (IHAVE) on the other links; a duplicate prunes its link out of the
// tree, a message announced but not received in time is grafted in. Every
// node relays; only subscribers get Deliver, each message once, never its
// origin.
type Gossip struct {
	mu      sync.Mutex
	cfg     GossipConfig
	tr      Transport
	clock   Clock
	peers   map[PeerID]*gossipPeer
	subs    map[string]bool
	seen    *seenCache
	missing map[MessageID]*missingMsg
	nonce   [16]byte
	counter uint64
	stats   GossipStats
	flushed time.Time  // last IHAVE batch
	out     []Delivery // collected under the lock, delivered after it
}

// NewGossip returns a Gossip engine.
func NewGossip(cfg GossipConfig, tr Transport, clock Clock) *Gossip {
	cfg.defaults()
	g := &Gossip{
		cfg: cfg, tr: tr, clock: clock,
		peers:   make(map[PeerID]*gossipPeer),
		subs:    make(map[string]bool),
		seen:    newSeenCache(cfg.SeenSize, cfg.SeenTTL, cfg.StoreBytes),
		missing: make(map[MessageID]*missingMsg),
	}
	_, _ = rand.Read(g.nonce[:])
	return g
}

// Capability returns GossipCapability.
func (g *Gossip) Capability() string { return GossipCapability }

// Subscribe makes Deliver receive the topic's messages.
func (g *Gossip) Subscribe(topic string) error {
	if topic == "" || len(topic) > MaxTopicLen {
		return fmt.Errorf("overlay: subscribe: topic length %d not in 1..%d", len(topic), MaxTopicLen)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.subs[topic] = true
	return nil
}

// Unsubscribe stops deliveries of the topic; the node still relays it.
func (g *Gossip) Unsubscribe(topic string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.subs, topic)
}

// Publish sends data to every subscriber of topic in the connected network
// (not to this node) and returns the message id.
func (g *Gossip) Publish(topic string, data []byte) (MessageID, error) {
	if topic == "" || len(topic) > MaxTopicLen {
		return MessageID{}, fmt.Errorf("overlay: publish: topic length %d not in 1..%d", len(topic), MaxTopicLen)
	}
	if len(data) > MaxData {
		return MessageID{}, fmt.Errorf("overlay: publish: %d bytes over the limit of %d", len(data), MaxData)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.counter++
	h := sha256.New()
	h.Write(g.nonce[:])
	h.Write([]byte(g.cfg.Self))
	h.Write(binary.BigEndian.AppendUint64(nil, g.counter))
	var id MessageID
	copy(id[:], h.Sum(nil))
	m := gossipMsg{typ: gsGossip, id: id, topic: topic, origin: g.cfg.Self, data: append([]byte(nil), data...)}
	frame := encodeGossip(m)
	g.seen.add(id, frame, 0, "", g.clock.Now())
	g.stats.Published++
	g.relay(m, "", frame)
	return id, nil
}

// Stats returns the counters.
func (g *Gossip) Stats() GossipStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats
	s.Seen, s.Missing = g.seen.len(), len(g.missing)
	return s
}

// LinkUp adds the peer to the eager set, as PlumTree starts every link.
func (g *Gossip) LinkUp(info LinkInfo) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.peers[info.ID]; !ok && info.ID != g.cfg.Self {
		p := &gossipPeer{eager: true}
		g.peers[info.ID] = p
		g.announceRecent(p, g.clock.Now())
	}
}

// Catch-up on a new link: the messages of the last catchUpWindow that we
// still hold a frame of are announced to it (at most catchUpMax). A publish
// made while a node's links were still coming up (one end had shown the
// link to its engine, the other not yet) then costs that node a GRAFT, not
// the message; a node that has the message ignores the announcement.
const (
	catchUpWindow = 10 * time.Second
	catchUpMax    = 1024
)

func (g *Gossip) announceRecent(p *gossipPeer, now time.Time) {
	c := g.seen
	for i := len(c.queue) - 1; i >= c.frameHead && len(p.ihave) < catchUpMax; i-- {
		e := c.queue[i]
		if e == nil || now.Sub(e.at) > catchUpWindow {
			break
		}
		if e.frame != nil {
			p.ihave = append(p.ihave, announce{e.id, e.hops})
		}
	}
}

// LinkDown forgets the peer; messages it announced are grafted from others.
func (g *Gossip) LinkDown(peer PeerID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.peers, peer)
}

// Frame handles one gossip frame. A malformed frame or a flood costs the
// sender its link.
func (g *Gossip) Frame(peer PeerID, frame []byte) {
	g.mu.Lock()
	p, ok := g.peers[peer]
	if !ok {
		g.mu.Unlock()
		return
	}
	now := g.clock.Now()
	m, err := decodeGossip(frame)
	if err != nil || !p.budget.spend(now, time.Second, g.cfg.FramesPerSecond) {
		g.tr.Close(peer)
		g.mu.Unlock()
		return
	}
	switch m.typ {
	case gsGossip:
		g.onGossip(peer, p, m, frame, now)
	case gsIHave:
		for i, id := range m.ids {
			g.onIHave(peer, id, m.idHops[i], now)
		}
	case gsGraft:
		p.eager = true
		for _, id := range m.ids {
			if f := g.seen.frame(id); f != nil && p.grafts.spend(now, time.Second, g.cfg.GraftsPerSecond) {
				if len(p.backlog) > 0 || !g.send(peer, f, &g.stats.SentGossip) {
					g.postpone(p, announce{id: id, hops: g.seen.get(id).hops})
				}
			}
		}
	case gsPrune:
		p.eager = false
	}
	out := g.out
	g.out = nil
	g.mu.Unlock()
	for _, d := range out {
		g.cfg.Deliver(d)
	}
}

func (g *Gossip) onGossip(from PeerID, p *gossipPeer, m gossipMsg, frame []byte, now time.Time) {
	if g.seen.has(m.id) || m.origin == g.cfg.Self {
		g.stats.Duplicates++
		if p.eager && !p.judge(false, g.cfg.PruneShare) {
			p.eager, p.firsts, p.dups = false, 0, 0
			g.send(from, encodeGossip(gossipMsg{typ: gsPrune}), &g.stats.SentPrune)
		}
		return
	}
	// What is stored is the frame as we forward it (one hop more), so a
	// GRAFT or a backlog resend carries the right hop count.
	m.hops++
	out := encodeGossip(m)
	g.seen.add(m.id, out, m.hops, from, now)
	delete(g.missing, m.id)
	if p.eager {
		p.judge(true, g.cfg.PruneShare)
	}
	p.eager = true
	if g.subs[m.topic] && g.cfg.Deliver != nil {
		g.stats.Delivered++
		g.out = append(g.out, Delivery{From: from, Topic: m.topic, Origin: m.origin, Data: m.data, ID: m.id, Hops: m.hops})
	}
	if m.hops < g.cfg.MaxHops {
		g.relay(m, from, out)
	}
}

// relay pushes m (encoded as frame) to the eager peers and queues an IHAVE
// for the lazy ones. A push that a full queue refuses goes to the peer's
// backlog, so a burst larger than the queue loses nothing.
func (g *Gossip) relay(m gossipMsg, from PeerID, frame []byte) {
	for id, p := range g.peers {
		if id == from {
			continue
		}
		if p.eager {
			if len(p.backlog) > 0 || !g.send(id, frame, &g.stats.SentGossip) {
				g.postpone(p, announce{m.id, m.hops})
			}
		} else if len(p.ihave) < 4*MaxIDs {
			p.ihave = append(p.ihave, announce{m.id, m.hops})
		}
	}
}

// postpone records a push the peer's queue refused (or that must wait behind
// earlier refused ones, so the backlog drains in order). Past MaxBacklog the
// oldest is given up: memory stays bounded, and the peer may still graft it
// from another announcer.
func (g *Gossip) postpone(p *gossipPeer, a announce) {
	if len(p.backlog) >= g.cfg.MaxBacklog {
		p.backlog = p.backlog[1:]
		g.stats.BacklogDropped++
	}
	p.backlog = append(p.backlog, a)
}

// drainBacklog resends, in order, the pushes each peer's queue refused,
// until its queue refuses again. A peer that has turned lazy meanwhile, or
// a message whose frame left the store, gets an IHAVE instead, so the peer
// can graft it (from us or from another announcer).
func (g *Gossip) drainBacklog() {
	for id, p := range g.peers {
		n := 0
		for _, a := range p.backlog {
			f := g.seen.frame(a.id)
			if !p.eager || f == nil {
				if len(p.ihave) < 4*MaxIDs {
					p.ihave = append(p.ihave, a)
				}
				n++
				continue
			}
			if !g.send(id, f, &g.stats.SentGossip) {
				break
			}
			g.stats.Resent++
			n++
		}
		p.backlog = p.backlog[n:]
		if len(p.backlog) == 0 {
			p.backlog = nil
		}
	}
}

func (g *Gossip) onIHave(from PeerID, id MessageID, hops int, now time.Time) {
	if e := g.seen.get(id); e != nil {
		g.optimize(from, e, hops)
		return
	}
	mm, ok := g.missing[id]
	if !ok {
		if len(g.missing) >= g.cfg.MaxMissing {
			return
		}
		mm = &missingMsg{deadline: now.Add(g.cfg.GraftTimeout)}
		g.missing[id] = mm
	}
	if len(mm.announcers) < maxAnnouncers {
		mm.announcers = append(mm.announcers, from)
	}
}

// optimize is PlumTree's tree repair: when a lazy link announces a message
// it got in markedly fewer hops than the copy the tree brought us, that
// link joins the tree (an empty GRAFT) and the old parent leaves it (PRUNE),
// so paths stay short even though the tree was grown by other origins.
func (g *Gossip) optimize(from PeerID, e *seenEntry, hops int) {
	if g.cfg.OptimizeHops <= 0 || e.from == "" || e.from == from || hops+1+g.cfg.OptimizeHops > e.hops {
		return
	}
	p, ok := g.peers[from]
	if !ok {
		return
	}
	p.eager = true
	g.send(from, encodeGossip(gossipMsg{typ: gsGraft}), &g.stats.SentGraft)
	if _, ok := g.peers[e.from]; ok {
		g.send(e.from, encodeGossip(gossipMsg{typ: gsPrune}), &g.stats.SentPrune)
	}
	e.from, e.hops = from, hops+1
}

// Tick sends the queued IHAVEs, grafts messages announced but not received
// in time (one announcer after another), and expires the seen-cache.
func (g *Gossip) Tick() {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	g.drainBacklog()
	if now.Sub(g.flushed) >= g.cfg.IHaveInterval {
		g.flushed = now
		g.flushIHave()
	}
	g.graftMissing(now)
	g.seen.expire(now)
}

// flushIHave sends each lazy link the announcements queued for it.
func (g *Gossip) flushIHave() {
	for id, p := range g.peers {
		for len(p.ihave) > 0 {
			n := min(len(p.ihave), MaxIDs)
			m := gossipMsg{typ: gsIHave}
			for _, a := range p.ihave[:n] {
				m.ids = append(m.ids, a.id)
				m.idHops = append(m.idHops, a.hops)
			}
			if !g.send(id, encodeGossip(m), &g.stats.SentIHave) {
				break // a full queue: the rest waits for the next flush (bounded at append)
			}
			p.ihave = p.ihave[n:]
		}
		if len(p.ihave) == 0 {
			p.ihave = nil
		}
	}
}

// graftMissing asks for messages announced but not received in time.
func (g *Gossip) graftMissing(now time.Time) {
	for id, mm := range g.missing {
		if now.Before(mm.deadline) {
			continue
		}
		for mm.tried < len(mm.announcers) {
			peer := mm.announcers[mm.tried]
			p, ok := g.peers[peer]
			if !ok {
				mm.tried++
				continue
			}
			if !g.send(peer, encodeGossip(gossipMsg{typ: gsGraft, ids: []MessageID{id}}), &g.stats.SentGraft) {
				mm.deadline = now // its queue is full: the same announcer next Tick, not a lost try
				break
			}
			mm.tried++
			p.eager = true
			mm.deadline = now.Add(g.cfg.GraftTimeout)
			break
		}
		if now.After(mm.deadline) || mm.tried >= len(mm.announcers) && !now.Before(mm.deadline) {
			delete(g.missing, id)
		}
	}
}

// send hands one frame to the transport and reports whether it took it.
func (g *Gossip) send(peer PeerID, frame []byte, counter *uint64) bool {
	if err := g.tr.Send(peer, frame); err != nil {
		g.stats.SendFailed++ // a slow peer's frames wait or are repaired, never hold up the others
		return false
	}
	*counter++
	g.stats.BytesSent += uint64(len(frame))
	return true
}
