package secure

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2pnode/p2pnode/p2p"
)

// Defaults of Config.
const (
	DefaultReplayWindow  = 5 * time.Minute
	DefaultMaxClockSkew  = time.Minute
	DefaultMaxPinnedKeys = 65536
)

// Bounds of the discovery routing table (origin id + timestamp -> peer).
const (
	routeTTL  = 10 * time.Minute
	maxRoutes = 65536
)

// KeyPolicy decides which public key a node accepts for a sender's _id.
type KeyPolicy int

const (
	// TrustOnFirstUse pins the first key seen for each node id (and the keys
	// of Config.TrustedKeys from the start) and rejects any other key for
	// that id. The default.
	TrustOnFirstUse KeyPolicy = iota
	// TrustedKeysOnly accepts only the ids and keys of Config.TrustedKeys
	// (and those added with Pin).
	TrustedKeysOnly
	// NoPinning accepts any key that verifies, as the reference does.
	NoPinning
)

// Config describes a secure node: the p2p node's configuration and the
// checks made on received messages. The zero value of each field means its
// default.
type Config struct {
	p2p.Config

	// KeyPolicy: TrustOnFirstUse (default), TrustedKeysOnly or NoPinning.
	KeyPolicy KeyPolicy
	// TrustedKeys pins these keys for these node ids from the start.
	TrustedKeys map[string]*rsa.PublicKey
	// MinKeyBits is the smallest RSA key accepted in a message; 0 means
	// MinKeyBits (2048).
	MinKeyBits int
	// MaxPinnedKeys bounds the keys pinned on first use; beyond it messages
	// from new ids are rejected (ErrUntrustedKey). 0 means
	// DefaultMaxPinnedKeys.
	MaxPinnedKeys int
	// ReplayWindow is how old a message's _timestamp may be; a message id
	// is remembered at least this long (plus MaxClockSkew) to reject a
	// replay. 0 means DefaultReplayWindow; a negative value turns the
	// timestamp and replay checks off.
	ReplayWindow time.Duration
	// MaxClockSkew is how far ahead of our clock a _timestamp may be. 0 means
	// DefaultMaxClockSkew.
	MaxClockSkew time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler receives a secure node's events, one at a time and in order, on
// the node's event goroutine (see p2p.Handler). Embed BaseHandler and
// override what you need. Received messages arrive only through
// NodeSecureMessage (verified) or NodeMessageRejected; ping, pong and
// discovery are handled by the node, unless delegated (see Delegate).
type Handler interface {
	OutboundNodeConnected(p *p2p.Peer)
	InboundNodeConnected(p *p2p.Peer)
	OutboundNodeDisconnected(p *p2p.Peer)
	InboundNodeDisconnected(p *p2p.Peer)
	NodeDisconnectWithOutboundNode(p *p2p.Peer)
	NodeRequestToStop()
	NodeReconnectionError(host string, port, trials int) bool

	// NodeSecureMessage is a message that passed every check and is not
	// ping, pong, discovery or discovery_answer: _type "message" (see
	// SendMessage) or the application's own types; and those four types
	// too when they are delegated (see Delegate).
	NodeSecureMessage(p *p2p.Peer, m *Message)
	// NodeMessageRejected is a message that failed a check; reason is a
	// *Rejection (with the _id the message claims) and wraps one of
	// ErrMalformed, ErrBadSignature, ErrBadHash, ErrBadMessageID,
	// ErrKeyMismatch, ErrUntrustedKey, ErrWeakKey, ErrReplay, ErrStale,
	// ErrFuture. The connection stays up.
	NodeMessageRejected(p *p2p.Peer, m p2p.Message, reason error)
	// NodeDiscoveryAnswer is an answer to this node's SendDiscovery, from a
	// neighbour or relayed from further away (a.Message.ID says who).
	NodeDiscoveryAnswer(p *p2p.Peer, a *DiscoveryAnswer)
}

// BaseHandler ignores every event (and keeps reconnecting). Embed it.
type BaseHandler struct{ p2p.BaseHandler }

func (BaseHandler) NodeSecureMessage(*p2p.Peer, *Message)             {}
func (BaseHandler) NodeMessageRejected(*p2p.Peer, p2p.Message, error) {}
func (BaseHandler) NodeDiscoveryAnswer(*p2p.Peer, *DiscoveryAnswer)   {}

// DiscoveryAnswer is a discovery_answer addressed to this node.
type DiscoveryAnswer struct {
	// Message is the verified answer; Message.ID is the node that answered.
	Message *Message
	// Nodes are the answering node's peers.
	Nodes []NodeInfo
}

// NodeInfo is one entry of a discovery answer.
type NodeInfo struct {
	ID   string
	IP   string
	Port int
	// Connection is "inbound" (the peer dialled the answering node) or
	// "outbound".
	Connection string
}

// Node is a p2p.Node whose messages are signed and checked as the
// reference's SecureNode does, with key pinning and replay detection. Its
// methods are safe for concurrent use, including from its handler.
type Node struct {
	node     *p2p.Node
	key      *Key
	h        Handler
	cfg      Config
	now      func() time.Time
	debugOut io.Writer

	mu     sync.Mutex
	pins   map[string]*rsa.PublicKey
	seen   replaySet
	routes map[string]route
	outMu  sync.Mutex

	delegate atomic.Uint32 // Delegate
}

type route struct {
	peer *p2p.Peer
	at   time.Time
}

// ErrNoKey is returned by Start and by every signing call of a node that has
// no key yet (see SetKey).
var ErrNoKey = errors.New("secure: the node has no key (generate or load one first)")

// New creates a secure node signing with key and delivering its events to
// h (nil ignores them). The underlying p2p node binds its port now, as
// p2p.New does; call Start to run it. key may be nil when it is set with
// SetKey before Start, as the reference's key_pair_generate and key_pair_load
// do after its constructor.
func New(cfg Config, key *Key, h Handler) (*Node, error) {
	if h == nil {
		h = BaseHandler{}
	}
	if cfg.MinKeyBits <= 0 {
		cfg.MinKeyBits = MinKeyBits
	}
	if cfg.MaxPinnedKeys <= 0 {
		cfg.MaxPinnedKeys = DefaultMaxPinnedKeys
	}
	if cfg.ReplayWindow == 0 {
		cfg.ReplayWindow = DefaultReplayWindow
	}
	if cfg.MaxClockSkew <= 0 {
		cfg.MaxClockSkew = DefaultMaxClockSkew
	}
	n := &Node{key: key, h: h, cfg: cfg, now: cfg.Now,
		pins: make(map[string]*rsa.PublicKey, len(cfg.TrustedKeys)+1), routes: make(map[string]route)}
	if n.now == nil {
		n.now = time.Now
	}
	n.seen.period = cfg.ReplayWindow + cfg.MaxClockSkew
	for id, pub := range cfg.TrustedKeys {
		if pub == nil {
			return nil, fmt.Errorf("secure: trusted key for %q is nil", id)
		}
		n.pins[id] = pub
	}
	var err error
	if n.node, err = p2p.New(cfg.Config, inner{n}); err != nil {
		return nil, fmt.Errorf("secure: %w", err)
	}
	if key != nil {
		// Nobody else may sign as us.
		n.pins[n.node.ID()] = key.PublicKey()
	}
	n.debugOut = n.node.Config().DebugOutput
	return n, nil
}

// P2P returns the underlying node, for what this type does not wrap (its
// lists of peers, limits, counters, raw sends).
func (n *Node) P2P() *p2p.Node { return n.node }

// Key returns the node's key pair, nil when it has none.
func (n *Node) Key() *Key {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.key
}

// SetKey replaces the node's key pair; the node's own id is pinned to the
// new public key. Messages already signed keep their signature.
func (n *Node) SetKey(key *Key) error {
	if key == nil {
		return fmt.Errorf("secure: SetKey: %w", p2p.ErrInvalidArgument)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.key = key
	n.pins[n.node.ID()] = key.PublicKey()
	return nil
}

// ID is the node's id.
func (n *Node) ID() string { return n.node.ID() }

// Port is the node's listening port.
func (n *Node) Port() int { return n.node.Port() }

// Start starts the node (see p2p.Node.Start). It fails with ErrNoKey when
// the node has no key.
func (n *Node) Start() error {
	if n.Key() == nil {
		return ErrNoKey
	}
	return n.node.Start()
}

// Stop stops the node (see p2p.Node.Stop).
func (n *Node) Stop() error { return n.node.Stop() }

// Connect dials another node (see p2p.Node.Connect).
func (n *Node) Connect(host string, port int, reconnect bool) (*p2p.Peer, error) {
	return n.node.Connect(host, port, reconnect)
}

// CreateMessage signs data as the reference's create_message does (see
// Sign), with this node's id, key, message counters and clock.
func (n *Node) CreateMessage(data map[string]any) ([]byte, error) {
	key := n.Key()
	if key == nil {
		return nil, ErrNoKey
	}
	return Sign(key, n.node.ID(), data, n.node.MessagesSent(), n.node.MessagesReceived(), n.timestamp())
}

// SendToNode signs data and sends it to p.
func (n *Node) SendToNode(p *p2p.Peer, data map[string]any) error {
	payload, err := n.CreateMessage(data)
	if err != nil {
		return err
	}
	return n.node.SendToNode(p, payload, p2p.None)
}

// SendToNodes signs data and sends it to every peer but those in exclude.
func (n *Node) SendToNodes(data map[string]any, exclude []*p2p.Peer) error {
	payload, err := n.CreateMessage(data)
	if err != nil {
		return err
	}
	return n.node.SendToNodes(payload, exclude, p2p.None)
}

// SendMessage sends {"_type": "message", "message": message}, signed, to
// every peer, as the reference's send_message.
func (n *Node) SendMessage(message any) error {
	return n.SendToNodes(map[string]any{FieldType: "message", "message": message}, nil)
}

// SendPing sends a ping to every peer. Each answers with a pong, and the
// latency in seconds (float64) is then stored as the peer's info "ping".
func (n *Node) SendPing() error {
	return n.SendToNodes(map[string]any{FieldType: "ping", "timestamp": n.timestamp(), "id": n.node.ID()}, nil)
}

// SendDiscovery asks the network for its connections: every node reached
// answers with its list of peers, which arrives as NodeDiscoveryAnswer.
func (n *Node) SendDiscovery() error {
	return n.SendToNodes(map[string]any{FieldType: "discovery", "id": n.node.ID(), "timestamp": n.timestamp()}, nil)
}

// Check verifies a received payload and applies the node's policy: key
// size, the replay window, the key pinned for the sender's id (pinning a
// new one on first use) and replay of its _message_id (which it then
// remembers). The node calls it for every received message.
//
// A rejection is a *Rejection: its Err wraps the reason (test with
// errors.Is) and ClaimedID is the _id the message claims.
func (n *Node) Check(payload []byte) (*Message, error) {
	m, err := verify(payload)
	if err == nil {
		err = n.admit(m)
	}
	if err != nil {
		r := &Rejection{Err: err}
		if m != nil {
			r.ClaimedID = m.ID
		}
		return nil, r
	}
	return m, nil
}

// Rejection is why a received message was refused, as Check returns it and
// Handler.NodeMessageRejected gets it.
type Rejection struct {
	// ClaimedID is the _id the message claims, unverified; "" when it has
	// none (or is not a JSON object).
	ClaimedID string
	// Err wraps one of ErrMalformed, ErrBadSignature, ... (see Handler).
	Err error
}

func (r *Rejection) Error() string { return r.Err.Error() }

// reasons are the reasons for a rejection in the order of their codes.
var reasons = [...]error{ErrMalformed, ErrBadSignature, ErrBadHash, ErrBadMessageID, ErrKeyMismatch,
	ErrUntrustedKey, ErrWeakKey, ErrReplay, ErrStale, ErrFuture}

// ReasonCode numbers the reason a rejection wraps, as the C ABI's p2p_reject
// does: 1 ErrMalformed, 2 ErrBadSignature, 3 ErrBadHash, 4 ErrBadMessageID,
// 5 ErrKeyMismatch, 6 ErrUntrustedKey, 7 ErrWeakKey, 8 ErrReplay, 9 ErrStale,
// 10 ErrFuture; 0 for nil, and 1 for an error that wraps none of them.
func ReasonCode(err error) int {
	if err == nil {
		return 0
	}
	for i, reason := range reasons {
		if errors.Is(err, reason) {
			return i + 1
		}
	}
	return 1
}
func (r *Rejection) Unwrap() error { return r.Err }

// admit applies the node's policy to a message whose signature and hashes
// hold.
func (n *Node) admit(m *Message) error {
	if bits := m.PublicKey.N.BitLen(); bits < n.cfg.MinKeyBits {
		return fmt.Errorf("%w: %d bits, at least %d needed", ErrWeakKey, bits, n.cfg.MinKeyBits)
	}
	now := n.now()
	if n.cfg.ReplayWindow > 0 {
		age := toSeconds(now) - m.Timestamp
		if age > n.cfg.ReplayWindow.Seconds() {
			return fmt.Errorf("%w: sent %.3f s ago, window %v", ErrStale, age, n.cfg.ReplayWindow)
		}
		if -age > n.cfg.MaxClockSkew.Seconds() {
			return fmt.Errorf("%w: %.3f s ahead, allowed %v", ErrFuture, -age, n.cfg.MaxClockSkew)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	pinNew := false
	if n.cfg.KeyPolicy != NoPinning {
		pinned, ok := n.pins[m.ID]
		switch {
		case ok && !pinned.Equal(m.PublicKey):
			return fmt.Errorf("%w: %.16s…", ErrKeyMismatch, m.ID)
		case !ok && n.cfg.KeyPolicy == TrustedKeysOnly:
			return fmt.Errorf("%w: %.16s…", ErrUntrustedKey, m.ID)
		case !ok && len(n.pins) >= n.cfg.MaxPinnedKeys:
			return fmt.Errorf("%w: %d keys pinned already", ErrUntrustedKey, len(n.pins))
		}
		pinNew = !ok
	}
	if n.cfg.ReplayWindow > 0 && n.seen.check(m.MessageID, now) {
		return fmt.Errorf("%w: %.16s…", ErrReplay, m.MessageID)
	}
	if pinNew {
		n.pins[m.ID] = m.PublicKey
	}
	return nil
}

// Pin sets the key accepted for a node id (under any policy but
// NoPinning); a nil key unpins it.
func (n *Node) Pin(id string, pub *rsa.PublicKey) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if pub == nil {
		delete(n.pins, id)
		return
	}
	n.pins[id] = pub
}

// Unpin forgets the key of a node id; under TrustOnFirstUse the next key
// seen for it is pinned.
func (n *Node) Unpin(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.pins, id)
}

// PinnedKey returns the key pinned for a node id.
func (n *Node) PinnedKey(id string) (*rsa.PublicKey, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	k, ok := n.pins[id]
	return k, ok
}

func (n *Node) timestamp() float64 { return toSeconds(n.now()) }

func toSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func (n *Node) debugf(format string, args ...any) {
	if !n.node.Debug() {
		return
	}
	line := fmt.Sprintf("DEBUG (%s): %s\n", n.node.ID(), fmt.Sprintf(format, args...))
	n.outMu.Lock()
	defer n.outMu.Unlock()
	_, _ = io.WriteString(n.debugOut, line)
}

// onMessage runs on the event goroutine for every received message.
func (n *Node) onMessage(p *p2p.Peer, raw p2p.Message) {
	if raw.Kind != p2p.KindJSON {
		n.reject(p, raw, fmt.Errorf("%w: a %v payload, not JSON", ErrMalformed, raw.Kind))
		return
	}
	m, err := n.Check(raw.Data)
	if err != nil {
		n.reject(p, raw, err)
		return
	}
	d := Delegate(n.delegate.Load())
	switch {
	case m.Type == "ping" && d&DelegatePing == 0:
		err = n.ReceivedPing(p, m)
	case m.Type == "pong" && d&DelegatePong == 0:
		err = n.ReceivedPong(p, m)
	case m.Type == "discovery" && d&DelegateDiscovery == 0:
		err = n.ReceivedDiscovery(p, m)
	case m.Type == "discovery_answer" && d&DelegateDiscoveryAnswer == 0:
		err = n.ReceivedDiscoveryAnswer(p, m)
	default:
		n.h.NodeSecureMessage(p, m)
	}
	if err != nil {
		n.reject(p, raw, &Rejection{ClaimedID: m.ID, Err: err})
	}
}

// reject hands a refused message to the handler, its reason a *Rejection.
func (n *Node) reject(p *p2p.Peer, raw p2p.Message, reason error) {
	var r *Rejection
	if !errors.As(reason, &r) {
		r = &Rejection{Err: reason}
	}
	n.debugf("rejected a message from %s: %v", p.ID(), r)
	n.h.NodeMessageRejected(p, raw, r)
}

// Delegate names the verified message types a node hands to its handler's
// NodeSecureMessage instead of handling them itself: the application then
// does what the reference's received_ping, received_pong,
// received_discovery or received_discovery_answer (which a p2psecure
// subclass overrides) would do, calling the node's own handling
// (ReceivedPing, SendPong, ...) for the steps it keeps.
type Delegate uint32

const (
	DelegatePing            Delegate = 1 << iota // "ping": see ReceivedPing
	DelegatePong                                 // "pong": see ReceivedPong
	DelegateDiscovery                            // "discovery": see ReceivedDiscovery
	DelegateDiscoveryAnswer                      // "discovery_answer": see ReceivedDiscoveryAnswer
	delegateAll             = DelegatePing | DelegatePong | DelegateDiscovery | DelegateDiscoveryAnswer
)

// SetDelegate sets which message types go to the handler (0, the default:
// none; the node handles ping, pong and discovery). Any time; it applies
// to messages checked from then on. Unknown bits are an error.
func (n *Node) SetDelegate(d Delegate) error {
	if d&^delegateAll != 0 {
		return fmt.Errorf("secure: unknown delegate bits %#x: %w", uint32(d&^delegateAll), p2p.ErrInvalidArgument)
	}
	n.delegate.Store(uint32(d))
	return nil
}

// Delegated returns what SetDelegate set.
func (n *Node) Delegated() Delegate { return Delegate(n.delegate.Load()) }

// ReceivedPing is the node's handling of a ping from p (the reference's
// received_ping): SendPong(p, the ping's timestamp).
func (n *Node) ReceivedPing(p *p2p.Peer, m *Message) error {
	return n.SendPong(p, m.Fields["timestamp"])
}

// SendPong answers a ping whose timestamp was timestamp (a number, sent
// back as it came) with a pong to p, as the reference's send_pong. A
// failure to send is only logged (the peer may have gone); a timestamp that
// is not a number is ErrMalformed.
func (n *Node) SendPong(p *p2p.Peer, timestamp any) error {
	if _, isNum := number(timestamp); !isNum {
		return fmt.Errorf("%w: ping without a numeric timestamp", ErrMalformed)
	}
	err := n.SendToNode(p, map[string]any{FieldType: "pong", "timestamp": timestamp,
		"timestamp_node": n.timestamp(), "id": n.node.ID()})
	if err != nil {
		n.debugf("could not answer a ping of %s: %v", p.ID(), err)
	}
	return nil
}

// ReceivedPong is the node's handling of a pong (the reference's
// received_pong): the latency, now minus the pong's timestamp in seconds,
// becomes p's info "ping".
func (n *Node) ReceivedPong(p *p2p.Peer, m *Message) error {
	ts, ok := number(m.Fields["timestamp"])
	if !ok {
		return fmt.Errorf("%w: pong without a numeric timestamp", ErrMalformed)
	}
	latency := n.timestamp() - ts
	p.SetInfo("ping", latency)
	n.debugf("pong from %s: latency %.6f s", p.ID(), latency)
	return nil
}

// discoveryFields reads the id and timestamp of a discovery or its answer,
// and the key of its route.
func discoveryFields(m *Message) (origin string, ts any, key string, err error) {
	origin, ok := m.Fields["id"].(string)
	ts = m.Fields["timestamp"]
	if _, isNum := number(ts); !ok || !isNum {
		return "", nil, "", fmt.Errorf("%w: %s without a string id and a numeric timestamp", ErrMalformed, m.Type)
	}
	c, err := Canonical(ts)
	if err != nil {
		return "", nil, "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return origin, ts, origin + "\x00" + string(c), nil
}

// ReceivedDiscovery is the node's handling of a discovery from p (the
// reference's received_discovery): the first time it is seen, the node
// records that it came from p, answers p (SendDiscoveryAnswer) and
// forwards it to its other peers; a repeat, or our own discovery coming
// back, is dropped. Unlike the reference, which drops every later
// discovery of the same origin, a discovery is known by its origin and its
// timestamp, so an origin can discover again.
func (n *Node) ReceivedDiscovery(p *p2p.Peer, m *Message) error {
	fresh, err := n.routeDiscovery(p, m)
	if err != nil || !fresh {
		return err
	}
	if err := n.SendDiscoveryAnswer(p, m); err != nil {
		return err
	}
	n.forwardDiscovery(p, m)
	return nil
}

// RouteDiscovery is ReceivedDiscovery without the answer: it records and
// forwards a discovery seen for the first time and reports whether it was
// (false for a repeat, our own, or a full routing table), for an
// application that answers by itself.
func (n *Node) RouteDiscovery(p *p2p.Peer, m *Message) (bool, error) {
	fresh, err := n.routeDiscovery(p, m)
	if err != nil || !fresh {
		return false, err
	}
	n.forwardDiscovery(p, m)
	return true, nil
}

func (n *Node) routeDiscovery(p *p2p.Peer, m *Message) (bool, error) {
	origin, _, key, err := discoveryFields(m)
	if err != nil {
		return false, err
	}
	if origin == n.node.ID() {
		n.debugf("discovery: our own came back through %s", p.ID())
		return false, nil
	}
	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, seen := n.routes[key]; seen {
		n.debugf("discovery: already seen the discovery of %s", origin)
		return false, nil
	}
	n.pruneRoutes(now)
	if len(n.routes) >= maxRoutes {
		n.debugf("discovery: routing table full, dropped the discovery of %s", origin)
		return false, nil
	}
	n.routes[key] = route{peer: p, at: now}
	return true, nil
}

func (n *Node) forwardDiscovery(p *p2p.Peer, m *Message) {
	if err := n.SendToNodes(map[string]any{FieldType: "discovery", "id": m.Fields["id"], "timestamp": m.Fields["timestamp"]},
		[]*p2p.Peer{p}); err != nil {
		n.debugf("discovery: could not forward: %v", err)
	}
}

// SendDiscoveryAnswer sends p this node's answer to the discovery m (its
// id and timestamp; the reference's send_discovery_answer): its peers'
// ids, addresses and listening ports (for inbound peers too, which the
// reference gets wrong), inbound peers first. A failure to send is only
// logged.
func (n *Node) SendDiscoveryAnswer(p *p2p.Peer, m *Message) error {
	origin, ts, _, err := discoveryFields(m)
	if err != nil {
		return err
	}
	if err := n.SendToNode(p, map[string]any{"id": origin, FieldType: "discovery_answer",
		"timestamp": ts, "nodes": n.nodeList()}); err != nil {
		n.debugf("discovery: could not answer %s: %v", p.ID(), err)
	}
	return nil
}

// nodeList is this node's answer to a discovery.
func (n *Node) nodeList() []any {
	var list []any
	for _, q := range n.node.All() {
		list = append(list, map[string]any{"id": q.ID(), "ip": q.Host(), "port": q.Port(),
			"connection": q.Direction().String()})
	}
	if list == nil {
		list = []any{}
	}
	return list
}

// ReceivedDiscoveryAnswer is the node's handling of a discovery answer
// (the reference's received_discovery_answer): an answer to our own
// discovery goes to the handler's NodeDiscoveryAnswer (on the calling
// goroutine: call it from the handler), any other is relayed (see
// RelayDiscoveryAnswer).
func (n *Node) ReceivedDiscoveryAnswer(p *p2p.Peer, m *Message) error {
	origin, _, _, err := discoveryFields(m)
	if err != nil {
		return err
	}
	nodes, err := parseNodes(m.Fields["nodes"])
	if err != nil {
		return err
	}
	if origin == n.node.ID() {
		n.h.NodeDiscoveryAnswer(p, &DiscoveryAnswer{Message: m, Nodes: nodes})
		return nil
	}
	if _, err := n.RelayDiscoveryAnswer(m); err != nil {
		return err
	}
	return nil
}

// RelayDiscoveryAnswer passes an answer to a discovery this node forwarded
// back, unchanged (so that the origin can check who answered; the
// reference replaces it by its own list), to the peer the discovery came
// from, and reports whether there was one (false: not a discovery we
// relayed, or our own). A failure to send is only logged.
func (n *Node) RelayDiscoveryAnswer(m *Message) (bool, error) {
	origin, _, key, err := discoveryFields(m)
	if err != nil {
		return false, err
	}
	if origin == n.node.ID() {
		return false, nil
	}
	n.mu.Lock()
	r, ok := n.routes[key]
	n.mu.Unlock()
	if !ok {
		n.debugf("discovery: answer from %s for %s, which we did not relay", m.ID, origin)
		return false, nil
	}
	if err := n.node.SendToNode(r.peer, m.Payload, p2p.None); err != nil {
		n.debugf("discovery: could not relay an answer to %s: %v", r.peer.ID(), err)
	}
	return true, nil
}

func parseNodes(v any) ([]NodeInfo, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: discovery_answer without a list of nodes", ErrMalformed)
	}
	nodes := make([]NodeInfo, 0, len(list))
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: discovery_answer node %d is not an object", ErrMalformed, i)
		}
		var ni NodeInfo
		ni.ID, _ = obj["id"].(string)
		ni.IP, _ = obj["ip"].(string)
		ni.Connection, _ = obj["connection"].(string)
		// A port is an int; a p2pnetwork node may hold it as a string.
		var portText string
		switch x := obj["port"].(type) {
		case json.Number:
			portText = string(x)
		case string:
			portText = x
		}
		port, err := strconv.Atoi(portText)
		if err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("%w: discovery_answer node %d has port %v", ErrMalformed, i, obj["port"])
		}
		ni.Port = port
		nodes = append(nodes, ni)
	}
	return nodes, nil
}

// pruneRoutes drops routes older than routeTTL once the table is large.
// n.mu is held.
func (n *Node) pruneRoutes(now time.Time) {
	if len(n.routes) < 1024 {
		return
	}
	for k, r := range n.routes {
		if now.Sub(r.at) > routeTTL {
			delete(n.routes, k)
		}
	}
}

// replaySet remembers message ids for at least period, in two generations
// that rotate every period.
type replaySet struct {
	period    time.Duration
	since     time.Time
	cur, prev map[string]struct{}
}

// check reports whether id was seen, and remembers it.
func (r *replaySet) check(id string, now time.Time) bool {
	if r.cur == nil {
		r.cur, r.since = make(map[string]struct{}), now
	}
	switch elapsed := now.Sub(r.since); {
	case elapsed >= 2*r.period:
		r.prev, r.cur, r.since = nil, make(map[string]struct{}), now
	case elapsed >= r.period:
		r.prev, r.cur, r.since = r.cur, make(map[string]struct{}), now
	}
	if _, ok := r.cur[id]; ok {
		return true
	}
	if _, ok := r.prev[id]; ok {
		return true
	}
	r.cur[id] = struct{}{}
	return false
}

// inner is the p2p handler of a secure node.
type inner struct{ n *Node }

func (i inner) OutboundNodeConnected(p *p2p.Peer)    { i.n.h.OutboundNodeConnected(p) }
func (i inner) InboundNodeConnected(p *p2p.Peer)     { i.n.h.InboundNodeConnected(p) }
func (i inner) OutboundNodeDisconnected(p *p2p.Peer) { i.n.h.OutboundNodeDisconnected(p) }
func (i inner) InboundNodeDisconnected(p *p2p.Peer)  { i.n.h.InboundNodeDisconnected(p) }
func (i inner) NodeMessage(p *p2p.Peer, m p2p.Message) {
	i.n.onMessage(p, m)
}
func (i inner) NodeDisconnectWithOutboundNode(p *p2p.Peer) { i.n.h.NodeDisconnectWithOutboundNode(p) }
func (i inner) NodeRequestToStop()                         { i.n.h.NodeRequestToStop() }
func (i inner) NodeReconnectionError(host string, port, trials int) bool {
	return i.n.h.NodeReconnectionError(host, port, trials)
}
