package p2p

import (
	"context"
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2pnode/p2pnode/p2p/native"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

type nodeState int

const (
	stateCreated nodeState = iota
	stateStarted
	stateStopping
)

// Node is a peer-to-peer node: it listens on TCP, dials other nodes, sends
// them messages and raises events, speaking the p2pnetwork wire format. All
// its methods are safe for concurrent use, including from its own event
// handler.
type Node struct {
	cfg     Config
	id      string
	host    string
	port    int
	ln      net.Listener
	handler Handler
	fn      HandlerFunc
	batch   BatchFunc // messages in batches (BatchHandler, SetBatchFunc); set before Start
	pull    *puller   // set for a node made by NewPolling
	debug   atomic.Bool
	maxIn   atomic.Int64
	outMu   sync.Mutex // serialises debug output

	// The native protocol: the identity, the TLS configurations made from
	// it, and the trust store.
	identity  ed25519.PrivateKey
	tlsServer *tls.Config
	tlsClient *tls.Config
	trust     *native.Trust
	caps      []string // what our hello announces (defaultCaps)

	mu       sync.Mutex
	state    nodeState
	inbound  []*Peer
	outbound []*Peer
	handles  map[uint64]*Peer
	// handleEpoch counts the handles taken out of handles (written under
	// mu): a peer found while it was e is still its handle's as long as it
	// is e (PeerByHandleEpoch).
	handleEpoch atomic.Uint64
	nextHandle  uint64
	dialing     map[string]bool
	reconnects  []*reconnectEntry
	shares      map[string]*addrShare // by IP address
	pendingHS   []*handshake          // inbound handshakes under way, oldest first
	reservedHS  int                   // greeted handshakes holding a slot in reserve

	ov             *nodeOverlay // discovery and gossip (overlay_node.go)
	events         *eventQueue
	wg             sync.WaitGroup // accept loop, handshakes, reconnect loop, peer readers
	ctx            context.Context
	cancel         context.CancelFunc
	dispatcherID   atomic.Int64
	dispatcherDone chan struct{}
	// msgEv is where the dispatcher makes each plaintext message event it
	// hands a handler; msgEvs, those it hands the batch function.
	msgEv    Event
	msgEvs   []Event
	stopOnce sync.Once
	done     chan struct{}
	stopErr  error

	stats        counterSet
	retired      sendCounts   // of the peers gone (n.mu)
	queuedTotal  atomic.Int64 // bytes queued to all peers, but for a sole peer's own (see addSoleLocked)
	live         int          // peers added and not retired (mu)
	sole         *Peer        // the peer that counts its queued bytes itself, if any (mu)
	pendingTotal atomic.Int64 // bytes of partial frames read from all peers
	roomMu       sync.Mutex
	room         chan struct{} // closed and replaced when queued bytes are freed
	roomWaiters  atomic.Int32
}

// New creates a node that delivers its events to h (nil ignores them) and
// binds its listening socket, so that Port is known before Start.
func New(cfg Config, h Handler) (*Node, error) {
	if h == nil {
		h = BaseHandler{}
	}
	return newNode(cfg, h, nil)
}

// NewWithCallback creates a node that delivers every event to fn, as the
// reference's callback style does.
func NewWithCallback(cfg Config, fn HandlerFunc) (*Node, error) {
	if fn == nil {
		return newNode(cfg, BaseHandler{}, nil)
	}
	return newNode(cfg, nil, fn)
}

func newNode(cfg Config, h Handler, fn HandlerFunc) (*Node, error) {
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, errorf(ErrInvalidArgument, "port %d out of range", cfg.Port)
	}
	if cfg.MaxConnections < 0 {
		return nil, errorf(ErrInvalidArgument, "max connections %d is negative", cfg.MaxConnections)
	}
	if len(cfg.ID) > MaxIDLength {
		return nil, errorf(ErrInvalidArgument, "id of %d bytes is over %d", len(cfg.ID), MaxIDLength)
	}
	if err := cfg.Limits.check(); err != nil {
		return nil, err
	}
	if err := cfg.checkEncryption(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var nat Node
	if err := nat.setupNative(cfg); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("p2p: listen on %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	n := &Node{
		identity: nat.identity, tlsServer: nat.tlsServer, tlsClient: nat.tlsClient, trust: nat.trust,
		cfg: cfg, host: cfg.Host, port: ln.Addr().(*net.TCPAddr).Port, ln: ln,
		handler: h, fn: fn,
		handles: make(map[uint64]*Peer), dialing: make(map[string]bool),
		shares: make(map[string]*addrShare), room: make(chan struct{}),
		events: newEventQueue(cfg.MaxPendingEvents), dispatcherDone: make(chan struct{}),
		done: make(chan struct{}),
	}
	if bh, ok := h.(BatchHandler); ok {
		n.batch = bh.NodeMessages
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.id = cfg.ID
	if n.id == "" {
		n.id = GenerateID(n.host, n.port)
	}
	n.ov = newNodeOverlay(n)
	n.debug.Store(cfg.Debug)
	n.maxIn.Store(int64(cfg.MaxConnections))
	n.debugf("node created on %s:%d", n.host, n.port)
	return n, nil
}

// MaxIDLength is the longest id a node may have: "<id>:<port>" must fit in
// the one 4096-byte read the reference makes of it.
const MaxIDLength = wire.MaxHandshake - len(":65535")

// GenerateID makes an id as the reference does: the hex SHA-512 of host,
// port and a random number from 1 to 99999999.
func GenerateID(host string, port int) string {
	sum := sha512.Sum512([]byte(host + strconv.Itoa(port) + strconv.Itoa(1+rand.IntN(99999999))))
	return hex.EncodeToString(sum[:])
}

// ID is the node's id.
func (n *Node) ID() string {
	if n == nil {
		return ""
	}
	return n.id
}

// Host is the host the node listens on, as configured.
func (n *Node) Host() string {
	if n == nil {
		return ""
	}
	return n.host
}

// Port is the port the node listens on (the one picked, for port 0).
func (n *Node) Port() int {
	if n == nil {
		return 0
	}
	return n.port
}

// String describes the node as the reference does.
func (n *Node) String() string {
	if n == nil {
		return "Node: <nil>"
	}
	return fmt.Sprintf("Node: %s:%d", n.host, n.port)
}

// SetDebug turns debug output on or off.
func (n *Node) SetDebug(on bool) {
	if n == nil {
		return
	}
	n.debug.Store(on)
}

// Debug reports whether debug output is on.
func (n *Node) Debug() bool {
	if n == nil {
		return false
	}
	return n.debug.Load()
}

// MaxConnections is the inbound limit; 0 means unlimited.
func (n *Node) MaxConnections() int {
	if n == nil {
		return 0
	}
	return int(n.maxIn.Load())
}

// SetMaxConnections changes the inbound limit for connections handshaken
// from now on; 0 means unlimited. Peers over a lowered limit stay until they
// go or are evicted (see Config.MaxConnections).
func (n *Node) SetMaxConnections(max int) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot set max connections")
	}
	if max < 0 {
		return errorf(ErrInvalidArgument, "max connections %d is negative", max)
	}
	n.maxIn.Store(int64(max))
	return nil
}

// Config returns the node's configuration with defaults filled in.
func (n *Node) Config() Config {
	if n == nil {
		return Config{}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cfg
}

// Limits returns the node's limits with defaults filled in.
func (n *Node) Limits() Limits {
	if n == nil {
		return Limits{}
	}
	return n.Config().Limits
}

// SetLimits replaces the limits of a node that has not been started (zero
// fields take their defaults). Once started, a node's limits are fixed.
func (n *Node) SetLimits(l Limits) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot set limits")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state != stateCreated {
		return errorf(ErrAlreadyStarted, "limits are fixed once the node is started")
	}
	if err := l.check(); err != nil {
		return err
	}
	n.cfg.Limits = l.withDefaults()
	n.events = newEventQueue(n.cfg.MaxPendingEvents)
	if n.pull != nil {
		n.pull.setMax(n.cfg.MaxPendingEvents)
	}
	return nil
}

// MessagesSent counts messages accepted for peers (a broadcast counts once
// per peer): Counters().Accepted. Not all of them need have been written;
// see Counters.
func (n *Node) MessagesSent() uint64 {
	if n == nil {
		return 0
	}
	return n.Counters().Accepted
}

// MessagesReceived counts frames received from peers.
func (n *Node) MessagesReceived() uint64 {
	if n == nil {
		return 0
	}
	return n.stats.received.Load()
}

// ReceiveErrors counts received frames that could not be decoded, and
// frames over the size limit.
func (n *Node) ReceiveErrors() uint64 {
	if n == nil {
		return 0
	}
	return n.stats.receiveErrors.Load()
}

// Counters are the node's figures so far: the sums over every peer it has
// had, and its connection management (see Counters).
func (n *Node) Counters() Counters {
	if n == nil {
		return Counters{}
	}
	n.mu.Lock()
	sc := n.retired
	for _, p := range n.handles {
		if !p.retired {
			p.wmu.Lock()
			sc.add(&p.sc)
			p.wmu.Unlock()
		}
	}
	n.mu.Unlock()
	var c Counters
	sc.into(&c)
	n.stats.into(&c)
	return c
}

// retireLocked adds p's send counts to the node's own, once p can count no
// more: its writer has ended, or never started (anything still queued is
// then dropped with the link). n.mu is held.
func (n *Node) retireLocked(p *Peer) {
	if p.retired {
		return
	}
	p.retired = true
	n.live--
	p.wmu.Lock()
	p.closing = true
	p.dropQueuedLocked(DropLinkLost)
	if n.sole == p {
		// Whatever its writer still holds goes into the totals, and the
		// node lets go of the peer.
		p.publishLocked()
		n.sole = nil
	}
	n.retired.add(&p.sc)
	p.wmu.Unlock()
}

// Inbound lists the peers that connected to this node.
func (n *Node) Inbound() []*Peer {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Peer(nil), n.inbound...)
}

// Outbound lists the peers this node connected to.
func (n *Node) Outbound() []*Peer {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Peer(nil), n.outbound...)
}

// All lists inbound peers, then outbound peers.
func (n *Node) All() []*Peer {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append(append(make([]*Peer, 0, len(n.inbound)+len(n.outbound)), n.inbound...), n.outbound...)
}

// PeerByHandle finds a peer by its Handle, until its disconnected event has
// been delivered (polled: see Poll).
func (n *Node) PeerByHandle(h uint64) (*Peer, bool) {
	if n == nil {
		return nil, false
	}
	n.mu.Lock()
	p, ok := n.handles[h]
	n.mu.Unlock()
	if !ok && n.pull != nil {
		p, ok = n.pull.parkedPeer(h)
	}
	return p, ok
}

// PeerByHandleEpoch is PeerByHandle for callers that cache what they
// found: it also returns the node's handle epoch at the time of the
// lookup, and cacheable, true when the peer came from the node's live
// handles. As long as HandleEpoch still returns that epoch, the handle is
// still that peer's, without a lookup. A peer whose handle a poller still
// holds (a parked disconnected event) is not cacheable.
func (n *Node) PeerByHandleEpoch(h uint64) (p *Peer, epoch uint64, cacheable, ok bool) {
	if n == nil {
		return nil, 0, false, false
	}
	n.mu.Lock()
	p, ok = n.handles[h]
	epoch = n.handleEpoch.Load()
	n.mu.Unlock()
	if ok {
		return p, epoch, true, true
	}
	if n.pull != nil {
		p, ok = n.pull.parkedPeer(h)
	}
	return p, epoch, false, ok
}

// HandleEpoch counts the handles the node has released so far (see
// PeerByHandleEpoch): one atomic load.
func (n *Node) HandleEpoch() uint64 {
	if n == nil {
		return 0
	}
	return n.handleEpoch.Load()
}

// releaseHandleLocked takes p's handle out of the node's live handles.
// n.mu is held.
func (n *Node) releaseHandleLocked(p *Peer) {
	if _, ok := n.handles[p.handle]; ok {
		delete(n.handles, p.handle)
		n.handleEpoch.Add(1)
	}
}

// SetBatchFunc makes the node hand its messages (EventMessage) to fn in
// batches, as a BatchHandler's NodeMessages gets them (see there), in
// place of its handler or HandlerFunc, which keeps every other event.
// nil gives messages back to the handler. Before Start:
// ErrAlreadyStarted after.
func (n *Node) SetBatchFunc(fn BatchFunc) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot set a batch function")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state != stateCreated {
		return errorf(ErrAlreadyStarted, "the batch function is set before Start")
	}
	n.batch = fn
	return nil
}

// Start begins accepting connections, delivering events and reconnecting.
func (n *Node) Start() error {
	if n == nil {
		return errorf(ErrNilNode, "cannot start")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch n.state {
	case stateStarted:
		return ErrAlreadyStarted
	case stateStopping:
		return ErrStopped
	}
	n.state = stateStarted
	go n.dispatch()
	n.wg.Add(3)
	go n.acceptLoop()
	go n.reconnectLoop()
	go n.ov.run()
	n.debugf("node started")
	return nil
}

// Stop raises node_request_to_stop, closes every peer after flushing what
// was queued for it (for at most Limits.StopTimeout), and returns when every
// goroutine of the node is gone. Messages accepted but not written by then
// are dropped: Stop returns an *UndeliveredError (errors.Is(err,
// ErrUndelivered)) saying how many, and the counters and disconnected events
// say for which peers. It is idempotent. Called from the node's own event
// handler it starts the shutdown and returns at once; Wait elsewhere for the
// end.
func (n *Node) Stop() error {
	if n == nil {
		return errorf(ErrNilNode, "cannot stop")
	}
	n.RequestStop()
	if n.inDispatcher() {
		return nil
	}
	<-n.done
	return n.stopErr
}

// RequestStop starts stopping the node, as Stop does, and returns at once;
// Wait or Done tell when it has stopped.
func (n *Node) RequestStop() {
	if n == nil {
		return
	}
	if n.pull != nil {
		n.pull.stop()
	}
	n.stopOnce.Do(func() { go n.shutdown() })
}

// Wait blocks until the node has stopped.
func (n *Node) Wait() error {
	if n == nil {
		return errorf(ErrNilNode, "cannot wait")
	}
	if n.inDispatcher() {
		return ErrHandlerInProgress
	}
	<-n.done
	return nil
}

// Done is closed once the node has stopped (at once for a nil node).
func (n *Node) Done() <-chan struct{} {
	if n == nil {
		// A node that never ran has nothing to wait for.
		c := make(chan struct{})
		close(c)
		return c
	}
	return n.done
}

func (n *Node) shutdown() {
	n.mu.Lock()
	started := n.state == stateStarted
	n.state = stateStopping
	n.mu.Unlock()
	if started {
		n.raise(Event{Type: EventRequestToStop, Node: n})
	}
	before := n.Counters()
	n.cancel()
	_ = n.ln.Close()
	for _, p := range n.All() {
		p.closeGracefully()
	}
	n.wg.Wait()
	n.events.close()
	if started {
		<-n.dispatcherDone
	}
	after := n.Counters()
	if lost := after.Dropped() - before.Dropped(); lost > 0 {
		n.stopErr = &UndeliveredError{Messages: lost, Bytes: after.DroppedBytes - before.DroppedBytes}
		n.debugf("node stopped: %v", n.stopErr)
	} else {
		n.debugf("node stopped")
	}
	close(n.done)
}

// checkStarted returns why the node cannot act now, or nil.
func (n *Node) checkStarted() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch n.state {
	case stateCreated:
		return ErrNotStarted
	case stateStopping:
		return ErrStopped
	}
	return nil
}

// Connect dials host:port and runs the handshake. With reconnect, the node
// re-dials the peer whenever the connection is lost, asking the handler
// (NodeReconnectionError) before each attempt. Connecting to oneself, or to a
// peer one is already connected with, fails as in the reference.
func (n *Node) Connect(host string, port int, reconnect bool) (*Peer, error) {
	if n == nil {
		return nil, errorf(ErrNilNode, "cannot connect to %q port %d", host, port)
	}
	if host == "" || port <= 0 || port > 65535 {
		return nil, errorf(ErrInvalidArgument, "cannot connect to %q port %d", host, port)
	}
	if err := n.checkStarted(); err != nil {
		return nil, err
	}
	if host == n.host && port == n.port {
		return nil, errorf(ErrSelfConnect, "%s:%d is this node", host, port)
	}
	key := net.JoinHostPort(host, strconv.Itoa(port))
	n.mu.Lock()
	for _, p := range n.outbound {
		if p.host == host && p.port == port {
			n.mu.Unlock()
			return p, errorf(ErrAlreadyConnected, "%s (%s)", key, p.id)
		}
	}
	if n.dialing[key] {
		n.mu.Unlock()
		return nil, errorf(ErrAlreadyConnected, "a connection to %s is being made", key)
	}
	n.dialing[key] = true
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.dialing, key)
		n.mu.Unlock()
	}()
	n.debugf("connecting to %s", key)
	p, err := n.dial(host, port, key)
	if err != nil {
		n.debugf("could not connect with %s: %v", key, err)
		return p, err // p is the existing peer for ErrAlreadyConnected
	}
	if reconnect {
		n.addReconnect(host, port)
	}
	return p, nil
}

func (n *Node) dial(host string, port int, key string) (*Peer, error) {
	d := net.Dialer{Timeout: n.cfg.DialTimeout}
	began := time.Now()
	conn, err := d.DialContext(n.ctx, "tcp", key)
	if err != nil {
		return nil, fmt.Errorf("p2p: connect to %s: %w", key, err)
	}
	connectTime := time.Since(began)
	_ = conn.SetDeadline(time.Now().Add(n.cfg.HandshakeTimeout))
	// Stop must not wait out the handshake timeout of a silent peer.
	stop := context.AfterFunc(n.ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if n.cfg.Encryption != EncryptionOff {
		greeted, err := n.awaitGreeting(conn, key, connectTime)
		if err != nil {
			conn.Close()
			return nil, err
		}
		if greeted {
			return n.dialNative(conn, host, port, key, stop)
		}
	}
	if _, err := conn.Write(wire.Hello(n.id, n.port)); err != nil {
		conn.Close()
		return nil, errorf(ErrHandshake, "send id to %s: %v", key, err)
	}
	buf := make([]byte, wire.MaxHandshake)
	r, err := conn.Read(buf)
	if r == 0 {
		conn.Close()
		if n.ctx.Err() != nil {
			return nil, errorf(ErrStopped, "connect to %s", key)
		}
		// A full node hangs up without reading our hello, which shows as EOF
		// or as a reset (whose error differs by platform); only silence is
		// a failed handshake.
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, errorf(ErrHandshake, "no id from %s within %v", key, n.cfg.HandshakeTimeout)
		}
		return nil, errorf(ErrRefused, "%s (its connection limit may be reached)", key)
	}
	if !stop() {
		conn.Close()
		return nil, errorf(ErrStopped, "connect to %s", key)
	}
	_ = conn.SetDeadline(time.Time{})
	id, rest := wire.SplitReply(buf[:r])
	if id == n.id {
		_, _ = conn.Write([]byte(wire.Closing))
		conn.Close()
		return nil, errorf(ErrSelfConnect, "%s answered with this node's id", key)
	}
	if err := n.plainAllowed(id); err != nil {
		// Our hello went out and its reply came: a reset is what a
		// p2pnetwork peer notices, and it keeps accepting others.
		resetClose(conn)
		return nil, fmt.Errorf("%w: %s: %w", ErrHandshake, key, err)
	}
	remoteIP := hostOf(conn.RemoteAddr())
	n.mu.Lock()
	if n.state != stateStarted {
		n.mu.Unlock()
		conn.Close()
		return nil, ErrStopped
	}
	for _, q := range n.inbound {
		if q.id == id && (q.host == host || q.host == remoteIP) && !q.native {
			n.mu.Unlock()
			_, _ = conn.Write([]byte(wire.Closing))
			conn.Close()
			return q, errorf(ErrAlreadyConnected, "%s (%s) is connected with us already", key, id)
		}
	}
	p := newPeer(n, conn, id, host, port, Outbound)
	p.share = n.shareLocked(remoteIP)
	n.add(p)
	n.activate(p, rest)
	n.mu.Unlock()
	return p, nil
}

// add gives p its handle and puts it in the node's lists. p.share holds a
// reference already. n.mu is held.
func (n *Node) add(p *Peer) {
	n.nextHandle++
	p.handle = n.nextHandle
	n.handles[p.handle] = p
	n.addSoleLocked(p)
	if p.dir == Outbound {
		n.outbound = append(n.outbound, p)
	} else {
		n.inbound = append(n.inbound, p)
		p.share.inbound++
	}
}

// unlistLocked takes p off the node's lists, if it is still there. n.mu is
// held.
func (n *Node) unlistLocked(p *Peer) {
	if p.dir == Outbound {
		n.outbound = removePeer(n.outbound, p)
		return
	}
	before := len(n.inbound)
	if n.inbound = removePeer(n.inbound, p); len(n.inbound) < before {
		p.share.inbound--
	}
}

// activate raises p's connected event and starts its goroutines. n.mu is
// held; the peer was added and the node is running.
func (n *Node) activate(p *Peer, initial []byte) {
	n.announce(p)
	n.start(p, initial)
}

// announce raises p's connected event. n.mu is held.
func (n *Node) announce(p *Peer) {
	typ := EventInboundConnected
	if p.dir == Outbound {
		typ = EventOutboundConnected
	}
	n.debugf("%v: %s %s:%d", typ, p.id, p.host, p.port)
	n.events.push(Event{Type: typ, Node: n, Peer: p}, nil)
}

// start starts p's goroutines. n.mu is held.
func (n *Node) start(p *Peer, initial []byte) {
	n.wg.Add(1)
	go p.writeLoop()
	if p.native {
		n.ov.linkUp(p)
		n.wg.Add(1)
		go p.heartbeat()
		go p.nativeReadLoop()
		return
	}
	go p.readLoop(initial)
}

func (n *Node) acceptLoop() {
	defer n.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		conn, err := n.ln.Accept()
		if err != nil {
			select {
			case <-n.ctx.Done():
				return
			default:
			}
			// Out of file descriptors and the like: wait, then go on serving.
			n.debugf("accept: %v", err)
			select {
			case <-time.After(backoff):
			case <-n.ctx.Done():
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		n.mu.Lock()
		if n.state != stateStarted {
			n.mu.Unlock()
			conn.Close()
			continue
		}
		// MaxConnections counts handshaken peers. A native listener greets
		// first, so the slot a greeting promises is reserved here, in the
		// order connections arrive, not in the order their goroutines run.
		h := n.admitLocked(conn)
		room := n.cfg.Encryption == EncryptionOff || n.reserveLocked(h)
		n.wg.Add(1)
		n.mu.Unlock()
		go n.acceptHandshake(h, room)
	}
}

// acceptHandshake runs the handshake of an inbound connection; room is
// false when a greeting node found no slot to reserve for it.
func (n *Node) acceptHandshake(h *handshake, room bool) {
	defer n.wg.Done()
	conn := h.conn
	var p *Peer
	defer func() {
		n.mu.Lock()
		n.releaseLocked(h)
		if !h.evicted {
			n.unlistHandshakeLocked(h)
		}
		if p == nil {
			n.unshareLocked(h.share)
		}
		n.mu.Unlock()
		if p == nil {
			conn.Close()
		}
	}()
	_ = conn.SetDeadline(time.Now().Add(n.cfg.HandshakeTimeout))
	// Stop must not wait out the handshake timeout of a silent peer.
	stop := context.AfterFunc(n.ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	greeted := n.cfg.Encryption != EncryptionOff
	if greeted {
		// A full node closes without a word, as the reference does; with
		// the greeting sent, a p2pnetwork dialer would take itself for
		// connected.
		if !room {
			n.stats.rejected.Add(1)
			n.debugf("new connection from %v is closed: the maximum of %d inbound connections is reached and no peer has been idle for %v",
				conn.RemoteAddr(), n.maxIn.Load(), n.cfg.IdleEviction)
			return
		}
		// Our listener speaks first: that is how a native dialer tells us
		// from a p2pnetwork peer, which never does (see p2p/native/doc.go).
		if _, err := conn.Write([]byte(n.id)); err != nil {
			n.debugf("greeting %v failed: %v", conn.RemoteAddr(), err)
			return
		}
	}
	buf := make([]byte, wire.MaxHandshake)
	r, err := conn.Read(buf)
	if r == 0 {
		n.debugf("inbound connection from %v sent no id: %v", conn.RemoteAddr(), err)
		return
	}
	if greeted {
		kind, rest, err := readFirst(conn, buf, r)
		switch kind {
		case native.FirstNative:
			p = n.acceptNative(h, rest, stop)
			return
		case native.FirstPlain:
		default:
			n.debugf("inbound connection from %v sent neither a hello nor the native magic: %v", conn.RemoteAddr(), err)
			return
		}
		if n.cfg.Encryption == EncryptionRequired {
			n.debugf("inbound connection from %v is refused: it speaks plaintext and encryption is required", conn.RemoteAddr())
			resetClose(conn)
			return
		}
	}
	remote, _ := conn.RemoteAddr().(*net.TCPAddr)
	sourcePort := 0
	if remote != nil {
		sourcePort = remote.Port
	}
	hello := buf[:r]
	var initial []byte
	if greeted {
		// The dialer had our id before we read its hello, so its first
		// messages may have come with it.
		hello, initial = splitGluedHello(hello)
	}
	id, port := wire.ParseHello(hello, sourcePort)
	if id == n.id {
		// We dialled ourselves: the dialling side sees its own id and gives up.
		if !greeted {
			_, _ = conn.Write([]byte(n.id))
		}
		return
	}
	if greeted {
		if err := n.plainAllowed(id); err != nil {
			n.debugf("inbound connection from %v is refused: %v", conn.RemoteAddr(), err)
			resetClose(conn)
			return
		}
	}
	// The peer is listed before our id goes out, so that once the dialler's
	// Connect returns, this node knows the peer too. Sends queue up until the
	// writer starts, after the id.
	n.mu.Lock()
	if n.state != stateStarted || h.evicted {
		n.mu.Unlock()
		return
	}
	n.unlistHandshakeLocked(h)
	h.evicted = true // off the lists: the deferred cleanup leaves them alone
	n.releaseLocked(h)
	if !n.slotLocked() {
		n.mu.Unlock()
		n.stats.rejected.Add(1)
		n.debugf("new connection from %v is closed: the maximum of %d inbound connections is reached and no peer has been idle for %v",
			conn.RemoteAddr(), n.maxIn.Load(), n.cfg.IdleEviction)
		return
	}
	q := newPeer(n, conn, id, hostOf(conn.RemoteAddr()), port, Inbound)
	q.share = h.share
	n.add(q)
	p = q
	n.mu.Unlock()
	if !greeted {
		_, err = conn.Write([]byte(n.id))
	}
	stop()
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		n.debugf("handshake with %v ended: %v", conn.RemoteAddr(), err)
		n.unlistLocked(p)
		n.retireLocked(p)
		n.releaseHandleLocked(p)
		p = nil // the deferred cleanup drops the share and closes
		return
	}
	// Activated even when the node began stopping meanwhile: the peer was
	// listed, so sends may have been accepted for it, and the shutdown
	// flushes them and closes it like every other peer.
	_ = conn.SetDeadline(time.Time{})
	p.lastFrame.Store(time.Now().UnixNano())
	n.activate(p, initial)
}

// peerGone runs when a peer's reader has ended: the peer leaves the lists
// and its disconnected event is raised. Its handle lives until the dispatcher
// has delivered that event.
func (n *Node) peerGone(p *Peer) {
	n.mu.Lock()
	n.unlistLocked(p)
	n.retireLocked(p)
	n.unshareLocked(p.share)
	n.mu.Unlock()
	if p.native {
		n.ov.linkDown(p)
	}
	typ := EventInboundDisconnected
	if p.dir == Outbound {
		typ = EventOutboundDisconnected
	}
	c := p.Counters()
	if d := c.Dropped(); d > 0 {
		n.debugf("%v: %s (%d accepted message(s) not written: %d overflow, %d link lost, %d stop)",
			typ, p.id, d, c.DroppedOverflow, c.DroppedLinkLost, c.DroppedStop)
	} else {
		n.debugf("%v: %s", typ, p.id)
	}
	n.events.push(Event{Type: typ, Node: n, Peer: p, Counters: &c}, nil)
}

func removePeer(list []*Peer, p *Peer) []*Peer {
	for i, q := range list {
		if q == p {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// connected reports whether p is still in the node's lists.
func (n *Node) connected(p *Peer) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range [][]*Peer{n.inbound, n.outbound} {
		for _, q := range l {
			if q == p {
				return true
			}
		}
	}
	return false
}

// Disconnect closes the connection with p after flushing what was queued
// for it, for at most StopTimeout; what is not written by then is dropped
// and counted (Counters.DroppedStop, and the disconnected event's Counters).
// For an outbound peer node_disconnect_with_outbound_node is raised first,
// and the peer is no longer reconnected.
func (n *Node) Disconnect(p *Peer) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot disconnect")
	}
	if p == nil || p.node != n || !n.connected(p) {
		return errorf(ErrUnknownPeer, "cannot disconnect")
	}
	if p.dir == Outbound {
		n.removeReconnect(p.host, p.port)
		n.raise(Event{Type: EventDisconnectWithOutbound, Node: n, Peer: p})
	}
	p.closeGracefully()
	return nil
}

// encode makes the frame for payload, enforcing the frame size limit.
func (n *Node) encode(payload []byte, c Compression) ([]byte, error) {
	frame, err := wire.AppendFrame(make([]byte, 0, len(payload)+1), payload, c)
	if err != nil {
		return nil, errorf(ErrInvalidArgument, "%v", err)
	}
	if len(frame)-1 > n.cfg.MaxFrameSize {
		return nil, errorf(ErrMessageTooLarge, "%d bytes on the wire, limit %d", len(frame)-1, n.cfg.MaxFrameSize)
	}
	return frame, nil
}

// encodeFor makes the frame for payload in p's framing.
func (n *Node) encodeFor(p *Peer, payload []byte, c Compression) ([]byte, error) {
	if p.native {
		return n.encodeNative(payload, c)
	}
	return n.encode(payload, c)
}

// SendToNode sends payload to p, compressed with c.
func (n *Node) SendToNode(p *Peer, payload []byte, c Compression) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot send")
	}
	if p == nil || p.node != n {
		return errorf(ErrUnknownPeer, "cannot send")
	}
	return p.Send(payload, c)
}

// SendToNodes sends payload to every peer but those in exclude. A payload
// that travels raw is copied into each queue; a frame that must be built
// (compressed) is built once per framing. It never waits for room in a full queue, whatever the
// overflow policy says for single sends (OverflowDropOldest still makes
// room, OverflowDisconnect still disconnects): peers that could not take
// it are named in the error, which wraps ErrQueueFull or ErrPeerClosed; the
// others have it queued.
func (n *Node) SendToNodes(payload []byte, exclude []*Peer, c Compression) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot send")
	}
	if c == None && !wire.NeedsCompressedPath(payload) {
		return n.broadcastRaw(payload, exclude)
	}
	// Each framing is encoded once; the plaintext one first, so that a
	// message over the limit is refused even with no peer.
	plain, err := n.encode(payload, c)
	if err != nil {
		return err
	}
	var nat []byte
	var errs []error
	for _, p := range n.All() {
		if containsPeer(exclude, p) {
			continue
		}
		frame := &plain
		if p.native {
			frame = &nat
		}
		if *frame == nil {
			f, err := n.encodeFor(p, payload, c)
			if err != nil {
				return err
			}
			*frame = f
		}
		if err := p.enqueue(*frame); err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrors(errs)
}

// broadcastRaw is SendToNodes for a payload that travels raw in either
// framing: it is copied into each peer's queue as it is, as a single send's
// is, without a frame built for it first (which cost an allocation and a
// copy per call, and most of a broadcast's time at one peer).
func (n *Node) broadcastRaw(payload []byte, exclude []*Peer) error {
	if len(payload) > n.cfg.MaxFrameSize {
		return errorf(ErrMessageTooLarge, "%d bytes on the wire, limit %d", len(payload), n.cfg.MaxFrameSize)
	}
	var errs []error
	for _, p := range n.All() {
		if containsPeer(exclude, p) {
			continue
		}
		one := [1][]byte{payload}
		if _, err := p.enqueueItems(one[:], false, false, false); err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrors(errs)
}

func containsPeer(list []*Peer, p *Peer) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}
