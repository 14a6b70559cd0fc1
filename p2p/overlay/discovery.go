package overlay

import (
	"math/rand/v2"
	"sync"
	"time"
)

// DiscoveryCapability tags the peer-exchange frames on the native protocol.
const DiscoveryCapability = "pex/1"

// DiscoveryConfig configures a Discovery engine; zero fields take the
// documented defaults.
type DiscoveryConfig struct {
	Self  PeerID // our node id (required)
	Low   int    // low water mark; Discover(K) raises it to K (default 4)
	High  int    // high water mark: inbound links above it are redirected (default 2*Low+2)
	Known int    // address book size (default 512)

	AskInterval     time.Duration // ask a peer for addresses while below target (default 2s)
	ExploreInterval time.Duration // try one new address while below High (default 30s)
	DialTimeout     time.Duration // a dial with no LinkUp by then failed (default 10s)
	RetryBase       time.Duration // first back-off after a failed dial (default 1s)
	RetryMax        time.Duration // longest back-off (default 60s)
	MaxDials        int           // dials in flight (default 4)
	FramesPerSecond int           // a peer sending more is closed (default 100)
	DegreeRate      int           // degree announcements per second at most; the rest wait for Tick (default 10)
	Seed            uint64        // random choices; 0 picks one
}

func (c *DiscoveryConfig) defaults() {
	if c.Low <= 0 {
		c.Low = 4
	}
	if c.High <= c.Low {
		c.High = 2*c.Low + 2
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AskInterval, 2*time.Second)
	def(&c.ExploreInterval, 30*time.Second)
	def(&c.DialTimeout, 10*time.Second)
	def(&c.RetryBase, time.Second)
	def(&c.RetryMax, 60*time.Second)
	if c.Known <= 0 {
		c.Known = 512
	}
	if c.MaxDials <= 0 {
		c.MaxDials = 4
	}
	if c.FramesPerSecond <= 0 {
		c.FramesPerSecond = 100
	}
	if c.DegreeRate <= 0 {
		c.DegreeRate = 10
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
}

// pexLink is what Discovery keeps per link.
type pexLink struct {
	info   LinkInfo
	degree int // as the peer last told it; -1 until it does
	since  time.Time
	asked  bool // we asked it for addresses and wait for its PEERS
	budget budget
}

// seed is a bootstrap address: never evicted, retried with back-off.
type seed struct {
	addr     Addr
	failures int
	nextTry  time.Time
}

// Discovery is the peer-exchange and connection-management engine: it
// learns addresses from its peers, dials until it has at least the target
// number of links, replaces lost links, and keeps its degree between the
// water marks without ever pruning a peer's only link.
type Discovery struct {
	mu      sync.Mutex
	cfg     DiscoveryConfig
	tr      Transport
	clock   Clock
	rng     *rand.Rand
	links   map[PeerID]*pexLink
	known   *knownTable
	seeds   []*seed
	pending map[Addr]time.Time // dials in flight, by deadline
	target  int                // 0 until Discover
	lastAsk time.Time
	lastExp time.Time
	// Degree announcements are rate limited: a hub that takes hundreds of
	// links in a second would otherwise send each of its peers one DEGREE
	// frame per join, over their FramesPerSecond budget, and be cut by all
	// of them. Below the rate a change is announced at once: a stale degree
	// lets several peers prune the same node in one window.
	degreeSince time.Time // start of the current one-second window
	degreeSent  int       // announcements in that window
	degreeDirty bool      // a change waits for the next window
}

// NewDiscovery returns an engine that answers peer-exchange requests from
// the start (a bootstrap need never call Discover); it dials, asks, prunes
// and redirects only after Discover.
func NewDiscovery(cfg DiscoveryConfig, tr Transport, clock Clock) *Discovery {
	cfg.defaults()
	return &Discovery{
		cfg: cfg, tr: tr, clock: clock,
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		links:   make(map[PeerID]*pexLink),
		known:   newKnownTable(cfg.Known),
		pending: make(map[Addr]time.Time),
	}
}

// Capability returns DiscoveryCapability.
func (d *Discovery) Capability() string { return DiscoveryCapability }

// Discover makes the engine keep at least target links (raising the low
// water mark to target), joining through the seed addresses when it knows
// no one else.
func (d *Discovery) Discover(target int, seeds ...Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.target = max(target, 1)
	if d.cfg.Low < d.target {
		d.cfg.Low = d.target
	}
	if d.cfg.High <= d.cfg.Low {
		d.cfg.High = 2*d.cfg.Low + 2
	}
	for _, a := range seeds {
		d.seeds = append(d.seeds, &seed{addr: a})
	}
	d.maintain(d.clock.Now())
}

// KnownPeers lists the address book.
func (d *Discovery) KnownPeers() []PeerRecord {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.known.list()
}

// Degree returns the number of links.
func (d *Discovery) Degree() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.links)
}

// LinkUp records a new link; see Admit.
func (d *Discovery) LinkUp(info LinkInfo) { d.Admit(info) }

// Admit records a new link and reports whether it is kept. An inbound link
// above the high water mark is redirected: it gets addresses to try and is
// closed, and Admit returns false, so the owner should call Admit before
// telling the other engines (they need never see that link).
func (d *Discovery) Admit(info LinkInfo) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	if info.ID == d.cfg.Self {
		d.tr.Close(info.ID)
		return false
	}
	if !info.Inbound {
		delete(d.pending, Addr{info.Host, info.Port})
		for _, s := range d.seeds {
			if s.addr == (Addr{info.Host, info.Port}) {
				s.failures, s.nextTry = 0, time.Time{}
			}
		}
	}
	if _, dup := d.links[info.ID]; dup {
		return true
	}
	if info.Port != 0 {
		d.known.add(PeerRecord{ID: info.ID, Addr: Addr{info.Host, info.Port}}, true, now)
	}
	if d.target > 0 && info.Inbound && len(d.links) >= d.cfg.High { // redirecting is Discover's, answering ASKs is not
		d.send(info.ID, pexMsg{typ: pexPeers, redirect: true, peers: d.sample(MaxPeerList/2, info.ID)})
		d.tr.Close(info.ID)
		return false
	}
	d.links[info.ID] = &pexLink{info: info, degree: -1, since: now}
	d.degreeChanged(now, info.ID)
	if d.target > 0 && len(d.links) < d.target*2 {
		d.ask(info.ID)
	}
	return true
}

// LinkDown forgets a link; Tick replaces it if the degree fell below target.
func (d *Discovery) LinkDown(peer PeerID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.links[peer]; !ok {
		return
	}
	delete(d.links, peer)
	d.degreeChanged(d.clock.Now(), "")
}

// DialFailed reports that a Dial did not produce a link.
func (d *Discovery) DialFailed(addr Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dialFailed(addr, d.clock.Now())
}

func (d *Discovery) dialFailed(addr Addr, now time.Time) {
	delete(d.pending, addr)
	d.known.failed(addr, now, d.cfg.RetryBase, d.cfg.RetryMax)
	for _, s := range d.seeds {
		if s.addr == addr {
			s.failures++
			s.nextTry = now.Add(backoff(s.failures, d.cfg.RetryBase, d.cfg.RetryMax))
		}
	}
}

// Frame handles one peer-exchange frame. A malformed frame or a flood costs
// the sender its link.
func (d *Discovery) Frame(peer PeerID, frame []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.links[peer]
	if !ok {
		return
	}
	now := d.clock.Now()
	m, err := decodePex(frame)
	if err != nil || !l.budget.spend(now, time.Second, d.cfg.FramesPerSecond) {
		d.tr.Close(peer)
		return
	}
	switch m.typ {
	case pexDegree:
		l.degree = m.degree
	case pexAsk:
		d.send(peer, pexMsg{typ: pexPeers, peers: d.sample(m.want, peer)})
	case pexPeers:
		if !l.asked && !m.redirect {
			return // unsolicited lists are ignored, so no one can fill our book at will
		}
		l.asked = false
		for _, p := range m.peers {
			if p.ID != d.cfg.Self {
				d.known.add(p, false, now)
			}
		}
	}
}

// Tick expires dials, dials toward the target, asks for addresses,
// explores, and prunes above the high water mark.
func (d *Discovery) Tick() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.maintain(d.clock.Now())
}

func (d *Discovery) maintain(now time.Time) {
	if d.degreeDirty && now.Sub(d.degreeSince) >= time.Second {
		d.degreeChanged(now, "")
	}
	for a, deadline := range d.pending {
		if now.After(deadline) {
			d.dialFailed(a, now)
		}
	}
	if d.target == 0 {
		return
	}
	deg := len(d.links)
	if deg < d.target {
		for n := d.target - deg - len(d.pending); n > 0 && len(d.pending) < d.cfg.MaxDials; n-- {
			if !d.dialOne(now, deg == 0) {
				break
			}
		}
	}
	if deg > 0 && (deg < d.target && now.Sub(d.lastAsk) >= d.cfg.AskInterval ||
		now.Sub(d.lastAsk) >= d.cfg.ExploreInterval) {
		d.lastAsk = now
		d.ask(d.randomLink())
	}
	if deg >= d.target && deg < d.cfg.High && len(d.pending) == 0 &&
		now.Sub(d.lastExp) >= d.cfg.ExploreInterval {
		d.lastExp = now
		d.dialOne(now, d.rng.IntN(8) == 0)
	}
	if deg > d.cfg.High {
		d.pruneOne(now)
	}
}

// dialOne dials a random known address that is not linked, pending or
// backing off; the seeds are the fallback (or the choice when useSeed).
func (d *Discovery) dialOne(now time.Time, useSeed bool) bool {
	var cands []Addr
	for id, k := range d.known.byID {
		if _, linked := d.links[id]; linked {
			continue
		}
		if _, p := d.pending[k.rec.Addr]; p || now.Before(k.nextTry) {
			continue
		}
		cands = append(cands, k.rec.Addr)
	}
	if len(cands) == 0 || useSeed {
		for _, s := range d.seeds {
			if _, p := d.pending[s.addr]; !p && !now.Before(s.nextTry) && !d.linkedTo(s.addr) {
				cands = append(cands, s.addr)
			}
		}
	}
	if len(cands) == 0 {
		return false
	}
	a := cands[d.rng.IntN(len(cands))]
	d.pending[a] = now.Add(d.cfg.DialTimeout)
	if err := d.tr.Dial(a); err != nil {
		d.dialFailed(a, now)
	}
	return true
}

func (d *Discovery) linkedTo(a Addr) bool {
	id, ok := d.known.byAddr[a]
	if !ok {
		return false
	}
	_, linked := d.links[id]
	return linked
}

// pruneOne closes the least useful link: the peer with the most links of
// its own, and only one that keeps at least the low mark without us, so a
// peer for which we are the only link is never cut off.
func (d *Discovery) pruneOne(now time.Time) {
	var victim *pexLink
	for _, l := range d.links {
		if l.degree <= d.cfg.Low || now.Sub(l.since) < d.cfg.AskInterval {
			continue
		}
		if victim == nil || l.degree > victim.degree ||
			(l.degree == victim.degree && l.info.ID < victim.info.ID) {
			victim = l
		}
	}
	if victim != nil {
		d.tr.Close(victim.info.ID)
	}
}

func (d *Discovery) randomLink() PeerID {
	i, n := 0, d.rng.IntN(len(d.links))
	for id := range d.links {
		if i == n {
			return id
		}
		i++
	}
	return ""
}

func (d *Discovery) ask(peer PeerID) {
	if l, ok := d.links[peer]; ok {
		l.asked = true
		d.send(peer, pexMsg{typ: pexAsk, want: MaxPeerList})
	}
}

// degreeChanged tells every link the new degree, unless DegreeRate
// announcements went out in the last second: then Tick sends the latest
// when the window ends, and only a newcomer is told now (it must not wait
// to learn whether we are worth pruning).
func (d *Discovery) degreeChanged(now time.Time, newcomer PeerID) {
	if now.Sub(d.degreeSince) >= time.Second {
		d.degreeSince, d.degreeSent = now, 0
	}
	if d.degreeSent >= d.cfg.DegreeRate {
		d.degreeDirty = true
		if newcomer != "" {
			d.send(newcomer, pexMsg{typ: pexDegree, degree: len(d.links)})
		}
		return
	}
	d.degreeSent++
	d.degreeDirty = false
	f := encodePex(pexMsg{typ: pexDegree, degree: len(d.links)})
	for id := range d.links {
		_ = d.tr.Send(id, f) // a full queue drops it; the next change resends
	}
}

func (d *Discovery) send(peer PeerID, m pexMsg) { _ = d.tr.Send(peer, encodePex(m)) }

// sample returns up to n addresses for peer (never its own): linked peers
// first, since they are alive, then the rest of the book, in random order.
func (d *Discovery) sample(n int, peer PeerID) []PeerRecord {
	var linked, rest []PeerRecord
	for id, k := range d.known.byID {
		if id == peer {
			continue
		}
		if _, ok := d.links[id]; ok {
			linked = append(linked, k.rec)
		} else if k.failures == 0 {
			rest = append(rest, k.rec)
		}
	}
	d.rng.Shuffle(len(linked), func(i, j int) { linked[i], linked[j] = linked[j], linked[i] })
	d.rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	out := append(linked, rest...)
	return out[:min(n, len(out))]
}
