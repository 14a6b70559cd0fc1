package secure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder keeps a secure node's events for the test to wait on.
type recorder struct {
	BaseHandler
	mu        sync.Mutex
	connected int
	messages  []*Message
	rejected  []error
	answers   []*DiscoveryAnswer
}

func (r *recorder) InboundNodeConnected(*p2p.Peer)  { r.mu.Lock(); r.connected++; r.mu.Unlock() }
func (r *recorder) OutboundNodeConnected(*p2p.Peer) { r.mu.Lock(); r.connected++; r.mu.Unlock() }
func (r *recorder) NodeSecureMessage(_ *p2p.Peer, m *Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, m)
}
func (r *recorder) NodeMessageRejected(_ *p2p.Peer, _ p2p.Message, reason error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejected = append(r.rejected, reason)
}
func (r *recorder) NodeDiscoveryAnswer(_ *p2p.Peer, a *DiscoveryAnswer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, a)
}

func (r *recorder) snapshot() (msgs []*Message, rejected []error, answers []*DiscoveryAnswer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Message(nil), r.messages...), append([]error(nil), r.rejected...),
		append([]*DiscoveryAnswer(nil), r.answers...)
}

func (r *recorder) count() (msgs, rejected, answers int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.messages), len(r.rejected), len(r.answers)
}

// syncBuffer is a debug output that tests can read while nodes write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startNode(t *testing.T, key *Key, cfg Config) (*Node, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg.Host = "127.0.0.1"
	n, err := New(cfg, key, rec)
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(func() { _ = n.Stop() })
	return n, rec
}

func connect(t *testing.T, from, to *Node) *p2p.Peer {
	t.Helper()
	p, err := from.Connect("127.0.0.1", to.Port(), false)
	require.NoError(t, err)
	waitFor(t, "the connection to be seen on both sides", func() bool {
		for _, q := range to.P2P().Inbound() {
			if q.ID() == from.ID() {
				return true
			}
		}
		return false
	})
	return p
}

func peerOf(n *Node, id string) *p2p.Peer {
	for _, p := range n.P2P().All() {
		if p.ID() == id {
			return p
		}
	}
	return nil
}

func nodeByID(nodes []NodeInfo, id string) (NodeInfo, bool) {
	for _, ni := range nodes {
		if ni.ID == id {
			return ni, true
		}
	}
	return NodeInfo{}, false
}

// TestGoNodes runs three secure nodes, a -> b <- c, over loopback.
func TestGoNodes(t *testing.T) {
	a, ra := startNode(t, testKeys[0], Config{})
	b, rb := startNode(t, testKeys[1], Config{})
	c, rc := startNode(t, testKeys[2], Config{})
	connect(t, a, b)
	connect(t, c, b)

	// A signed message.
	require.NoError(t, a.SendMessage(map[string]any{"text": "héllo", "f": 1.0, "big": json1e70()}))
	waitFor(t, "b to get the message", func() bool { n, _, _ := rb.count(); return n == 1 })
	msgs, _, _ := rb.snapshot()
	assert.Equal(t, "message", msgs[0].Type)
	assert.Equal(t, a.ID(), msgs[0].ID)
	body := msgs[0].Fields["message"].(map[string]any)
	assert.Equal(t, "héllo", body["text"])
	assert.EqualValues(t, "1.0", body["f"])
	assert.EqualValues(t, "1180591620717411303424", body["big"])

	// Ping: latency stored in the peer's info.
	require.NoError(t, b.SendPing())
	for _, id := range []string{a.ID(), c.ID()} {
		waitFor(t, "the pong of "+id, func() bool {
			p := peerOf(b, id)
			if p == nil {
				return false
			}
			v, ok := p.Info("ping")
			lat, isFloat := v.(float64)
			return ok && isFloat && lat >= 0
		})
	}

	// Discovery from a: b answers, c answers through b.
	require.NoError(t, a.SendDiscovery())
	waitFor(t, "two discovery answers", func() bool { _, _, n := ra.count(); return n == 2 })
	_, _, answers := ra.snapshot()
	byID := map[string]*DiscoveryAnswer{}
	for _, ans := range answers {
		byID[ans.Message.ID] = ans
	}
	require.Contains(t, byID, b.ID())
	require.Contains(t, byID, c.ID())
	na, ok := nodeByID(byID[b.ID()].Nodes, a.ID())
	require.True(t, ok)
	assert.Equal(t, NodeInfo{ID: a.ID(), IP: "127.0.0.1", Port: a.Port(), Connection: "inbound"}, na)
	nc, ok := nodeByID(byID[b.ID()].Nodes, c.ID())
	require.True(t, ok)
	assert.Equal(t, c.Port(), nc.Port, "an inbound peer is listed with its own listening port")
	nb, ok := nodeByID(byID[c.ID()].Nodes, b.ID())
	require.True(t, ok)
	assert.Equal(t, NodeInfo{ID: b.ID(), IP: "127.0.0.1", Port: b.Port(), Connection: "outbound"}, nb)

	// A second discovery of the same origin is answered again.
	require.NoError(t, a.SendDiscovery())
	waitFor(t, "two more discovery answers", func() bool { _, _, n := ra.count(); return n == 4 })

	for name, r := range map[string]*recorder{"a": ra, "b": rb, "c": rc} {
		_, rejected, _ := r.snapshot()
		assert.Empty(t, rejected, name)
	}
}

func json1e70() any {
	v, _ := Parse([]byte("1180591620717411303424"))
	return v
}

// TestRejectedMessages sends bad messages over a real connection: each is
// rejected with its reason and a debug line, and the connection stays up.
func TestRejectedMessages(t *testing.T) {
	debug := &syncBuffer{}
	a, _ := startNode(t, testKeys[0], Config{})
	b, rb := startNode(t, testKeys[1], Config{Config: p2p.Config{Debug: true, DebugOutput: debug}})
	toB := connect(t, a, b)
	raw := func(payload []byte) { require.NoError(t, a.P2P().SendToNode(toB, payload, p2p.None)) }

	good, err := a.CreateMessage(map[string]any{"_type": "message", "message": "first"})
	require.NoError(t, err)
	tampered := bytes.Replace(good, []byte(`"first"`), []byte(`"forged"`), 1)
	impostor, err := Sign(testKeys[3], a.ID(), map[string]any{"_type": "message", "message": "x"}, 0, 0, a.timestamp())
	require.NoError(t, err)
	badPing, err := a.CreateMessage(map[string]any{"_type": "ping"})
	require.NoError(t, err)
	badAnswer, err := a.CreateMessage(map[string]any{"_type": "discovery_answer", "id": b.ID(), "timestamp": 1.5, "nodes": "none"})
	require.NoError(t, err)

	raw(p2p.Text("plain text"))
	raw([]byte{0xff, 0xfe})
	raw([]byte(`{"a": 1}`))
	raw([]byte(`[1, 2]`))
	raw(tampered)
	raw(good)
	raw(good) // a replay
	raw(impostor)
	raw(badPing)
	raw(badAnswer)
	require.NoError(t, a.SendMessage("still connected"))

	waitFor(t, "the last message", func() bool { n, _, _ := rb.count(); return n == 2 })
	msgs, rejected, _ := rb.snapshot()
	assert.Equal(t, "first", msgs[0].Fields["message"])
	assert.Equal(t, "still connected", msgs[1].Fields["message"])
	want := []error{ErrMalformed, ErrMalformed, ErrMalformed, ErrMalformed, ErrBadSignature, ErrReplay,
		ErrKeyMismatch, ErrMalformed, ErrMalformed}
	require.Len(t, rejected, len(want))
	for i, w := range want {
		assert.True(t, errors.Is(rejected[i], w), "rejection %d: %v, want %v", i, rejected[i], w)
	}
	assert.Len(t, b.P2P().All(), 1, "the connection stays up")
	assert.Contains(t, debug.String(), "rejected a message from "+a.ID())
}

func TestNewErrors(t *testing.T) {
	_, err := New(Config{Config: p2p.Config{Port: -1}}, testKeys[0], nil)
	assert.ErrorIs(t, err, p2p.ErrInvalidArgument)
}

// A node made without a key (as the reference's constructor) refuses to start
// or sign until it gets one, and then pins its own id to it.
func TestKeyLater(t *testing.T) {
	n, err := New(Config{Config: p2p.Config{Host: "127.0.0.1"}}, nil, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Stop() })
	assert.Nil(t, n.Key())
	assert.ErrorIs(t, n.Start(), ErrNoKey)
	_, err = n.CreateMessage(map[string]any{"a": 1})
	assert.ErrorIs(t, err, ErrNoKey)
	assert.ErrorIs(t, n.SetKey(nil), p2p.ErrInvalidArgument)
	_, pinned := n.PinnedKey(n.ID())
	assert.False(t, pinned)

	require.NoError(t, n.SetKey(testKeys[1]))
	pub, pinned := n.PinnedKey(n.ID())
	require.True(t, pinned)
	assert.True(t, pub.Equal(testKeys[1].PublicKey()))
	require.NoError(t, n.Start())
	b, rec := startNode(t, testKeys[2], Config{})
	_, err = n.Connect("127.0.0.1", b.Port(), false)
	require.NoError(t, err)
	require.NoError(t, n.SendMessage("late key"))
	waitFor(t, "the message", func() bool { m, _, _ := rec.count(); return m == 1 })
	msgs, _, _ := rec.snapshot()
	assert.True(t, msgs[0].PublicKey.Equal(testKeys[1].PublicKey()))

	// A new key replaces the old one for what is signed from then on; b has
	// pinned the first and rejects the second.
	require.NoError(t, n.SetKey(testKeys[3]))
	require.NoError(t, n.SendMessage("new key"))
	waitFor(t, "the rejection", func() bool { _, r, _ := rec.count(); return r == 1 })
	_, rejected, _ := rec.snapshot()
	assert.ErrorIs(t, rejected[0], ErrKeyMismatch)
	var r *Rejection
	require.ErrorAs(t, rejected[0], &r)
	assert.Equal(t, n.ID(), r.ClaimedID, "the rejection names the _id the message claims")
}

// Every rejection is a *Rejection with the _id the message claims, when it
// claims one.
func TestRejectionClaimedID(t *testing.T) {
	n, err := New(Config{Config: p2p.Config{Host: "127.0.0.1"}}, testKeys[0], nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Stop() })
	signed, err := Sign(testKeys[1], "claimed-id", map[string]any{"a": json.Number("1")}, 0, 0, n.timestamp())
	require.NoError(t, err)
	tampered := bytes.Replace(signed, []byte(`"a": 1`), []byte(`"a": 2`), 1)
	for _, c := range []struct {
		payload string
		claimed string
		reason  error
	}{
		{"not json", "", ErrMalformed},
		{`{"_id": "x"}`, "x", ErrMalformed},
		{`{"_id": 7}`, "", ErrMalformed},
		{string(tampered), "claimed-id", ErrBadSignature},
	} {
		_, err := n.Check([]byte(c.payload))
		var r *Rejection
		require.ErrorAs(t, err, &r, c.payload)
		assert.Equal(t, c.claimed, r.ClaimedID, c.payload)
		assert.ErrorIs(t, err, c.reason, c.payload)
		assert.Equal(t, r.Err.Error(), err.Error())
	}
	_, err = n.Check(signed)
	assert.NoError(t, err)
	_, err = n.Check(signed)
	var r *Rejection
	require.ErrorAs(t, err, &r)
	assert.Equal(t, "claimed-id", r.ClaimedID)
	assert.ErrorIs(t, err, ErrReplay)
}

func TestReasonCode(t *testing.T) {
	assert.Equal(t, 0, ReasonCode(nil))
	assert.Equal(t, 1, ReasonCode(errors.New("something else")))
	for i, reason := range []error{ErrMalformed, ErrBadSignature, ErrBadHash, ErrBadMessageID,
		ErrKeyMismatch, ErrUntrustedKey, ErrWeakKey, ErrReplay, ErrStale, ErrFuture} {
		assert.Equal(t, i+1, ReasonCode(&Rejection{ClaimedID: "x", Err: fmt.Errorf("%w: detail", reason)}), reason)
	}
}

// delegating hands every delegated message to the node's own handling, step
// by step, as a binding's default hooks do, and records their types.
type delegating struct {
	recorder
	node  *Node
	mu2   sync.Mutex
	types []string
	errs  []error
}

func (d *delegating) NodeSecureMessage(p *p2p.Peer, m *Message) {
	d.mu2.Lock()
	d.types = append(d.types, m.Type)
	d.mu2.Unlock()
	// What the binding does: it gets the message as JSON and hands it back.
	back, err := ParseMessage(m.Payload)
	if err != nil {
		d.fail(err)
		return
	}
	switch m.Type {
	case "ping":
		d.fail(d.node.SendPong(p, back.Fields["timestamp"]))
	case "pong":
		d.fail(d.node.ReceivedPong(p, back))
	case "discovery":
		fresh, err := d.node.RouteDiscovery(p, back)
		d.fail(err)
		if fresh {
			d.fail(d.node.SendDiscoveryAnswer(p, back))
		}
	case "discovery_answer":
		_, err := d.node.RelayDiscoveryAnswer(back)
		d.fail(err)
	default:
		d.recorder.NodeSecureMessage(p, m)
	}
}

func (d *delegating) fail(err error) {
	if err != nil {
		d.mu2.Lock()
		d.errs = append(d.errs, err)
		d.mu2.Unlock()
	}
}

func (d *delegating) seen(typ string) int {
	d.mu2.Lock()
	defer d.mu2.Unlock()
	n := 0
	for _, t := range d.types {
		if t == typ {
			n++
		}
	}
	return n
}

// TestDelegate: a node that delegates ping, pong and discovery gets them
// as NodeSecureMessage, and its handler's composition of the node's own
// steps behaves as the node does: a -> b <- c with b delegating.
func TestDelegate(t *testing.T) {
	a, ra := startNode(t, testKeys[0], Config{})
	d := &delegating{}
	b, err := New(Config{Config: p2p.Config{Host: "127.0.0.1"}}, testKeys[1], d)
	require.NoError(t, err)
	d.node = b
	assert.Error(t, b.SetDelegate(1<<7), "unknown bits")
	require.NoError(t, b.SetDelegate(DelegatePing|DelegatePong|DelegateDiscovery|DelegateDiscoveryAnswer))
	assert.Equal(t, DelegatePing|DelegatePong|DelegateDiscovery|DelegateDiscoveryAnswer, b.Delegated())
	require.NoError(t, b.Start())
	t.Cleanup(func() { _ = b.Stop() })
	c, _ := startNode(t, testKeys[2], Config{})
	connect(t, a, b)
	connect(t, c, b)

	require.NoError(t, a.SendPing())
	waitFor(t, "b's pong at a", func() bool {
		v, ok := peerOf(a, b.ID()).Info("ping")
		_, isFloat := v.(float64)
		return ok && isFloat
	})
	assert.Equal(t, 1, d.seen("ping"))
	require.NoError(t, b.SendPing())
	waitFor(t, "pongs at b", func() bool { return d.seen("pong") == 2 })
	waitFor(t, "the latency of a at b", func() bool { _, ok := peerOf(b, a.ID()).Info("ping"); return ok })

	require.NoError(t, a.SendDiscovery())
	waitFor(t, "answers of b and c at a", func() bool { _, _, n := ra.count(); return n == 2 })
	_, _, answers := ra.snapshot()
	ids := map[string]bool{}
	for _, ans := range answers {
		ids[ans.Message.ID] = true
	}
	assert.Equal(t, map[string]bool{b.ID(): true, c.ID(): true}, ids)
	assert.Equal(t, 1, d.seen("discovery"))
	assert.Equal(t, 1, d.seen("discovery_answer"), "c's answer, relayed by b's handler")

	// A message that is not delegated still arrives as a message.
	require.NoError(t, a.SendMessage("hi"))
	waitFor(t, "the message at b", func() bool { n, _, _ := d.recorder.count(); return n == 1 })

	// Without delegation b handles a ping itself again.
	require.NoError(t, b.SetDelegate(0))
	peerOf(a, b.ID()).SetInfo("ping", nil)
	require.NoError(t, a.SendPing())
	waitFor(t, "b's second pong", func() bool { v, _ := peerOf(a, b.ID()).Info("ping"); return v != nil })
	assert.Equal(t, 1, d.seen("ping"))
	d.mu2.Lock()
	assert.Empty(t, d.errs)
	d.mu2.Unlock()
}

func TestParseMessage(t *testing.T) {
	payload, err := Sign(testKeys[0], "me", map[string]any{FieldType: "ping", "timestamp": 1.5}, 1, 2, 100.25)
	require.NoError(t, err)
	m, err := ParseMessage(payload)
	require.NoError(t, err)
	assert.Equal(t, "ping", m.Type)
	assert.Equal(t, "me", m.ID)
	assert.Equal(t, 100.25, m.Timestamp)
	assert.Len(t, m.MessageID, 128)
	assert.Nil(t, m.PublicKey)
	_, err = ParseMessage([]byte("[1]"))
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = ParseMessage([]byte("{"))
	assert.ErrorIs(t, err, ErrMalformed)
	// Missing fields are simply empty.
	m, err = ParseMessage([]byte(`{"_type": 3}`))
	require.NoError(t, err)
	assert.Equal(t, "", m.Type)
}
