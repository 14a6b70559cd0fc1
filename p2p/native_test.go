package p2p_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// nativeCfg is a node config that waits long enough for the greeting on a
// loaded machine: a slow link only downgrades to plaintext, which these
// tests would take for a failure.
func nativeCfg(mode p2p.Encryption) p2p.Config {
	cfg := p2p.Config{Encryption: mode}
	cfg.NegotiationWait = waitLimit / 4
	return cfg
}

func TestNativePreferredPairIsEncrypted(t *testing.T) {
	ra, rb := &recorder{}, &recorder{}
	a := startNode(t, nativeCfg(p2p.EncryptionPreferred), ra)
	b := startNode(t, nativeCfg(p2p.EncryptionPreferred), rb)
	out, in := pair(t, a, b)
	assert.True(t, out.Encrypted())
	assert.True(t, in.Encrypted())
	assert.Equal(t, []byte(b.PublicKey()), []byte(out.PeerKey()))
	assert.Equal(t, []byte(a.PublicKey()), []byte(in.PeerKey()))
	assert.Equal(t, b.ID(), out.ID())
	assert.Equal(t, a.Port(), in.Port())

	big := bytes.Repeat([]byte("0123456789"), 300_000)
	payloads := [][]byte{[]byte(`{"a": 1}`), []byte("text"), {0xff, 0x04, 0x02}, {}, {0x02}, big}
	for _, pl := range payloads {
		require.NoError(t, out.Send(pl, p2p.None))
	}
	require.NoError(t, out.Send([]byte("zipped"), wire.CompressionZlib))
	require.NoError(t, out.Send([]byte("lz"), wire.CompressionLzma))
	require.NoError(t, out.Send([]byte("bz"), wire.CompressionBzip2))
	eventually(t, "messages", func() bool { return len(rb.messages()) == len(payloads)+3 })
	got := rb.messages()
	for i, pl := range payloads {
		assert.Equal(t, wire.Classify(pl), got[i].Kind)
		assert.Equal(t, pl, got[i].Data, "message %d", i)
	}
	assert.Equal(t, "zipped", string(got[len(payloads)].Data))
	assert.Equal(t, wire.CompressionZlib, got[len(payloads)].Compression)
	assert.Equal(t, "lz", string(got[len(payloads)+1].Data))
	assert.Equal(t, "bz", string(got[len(payloads)+2].Data))

	require.NoError(t, b.SendToNodes([]byte("back"), nil, p2p.None))
	eventually(t, "reply", func() bool { return len(ra.messages()) == 1 })
	assert.Equal(t, "back", string(ra.messages()[0].Data))
}

func TestNativeSniffingProxySeesNoPlaintext(t *testing.T) {
	rb := &recorder{}
	a := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
	b := startNode(t, nativeCfg(p2p.EncryptionPreferred), rb)
	px := newProxy(t, b.Port())
	out, err := a.Connect("127.0.0.1", px.port(), false)
	require.NoError(t, err)
	require.True(t, out.Encrypted())
	secret := []byte("the-secret-payload-nobody-may-read")
	require.NoError(t, out.Send(secret, p2p.None))
	require.NoError(t, out.Send(bytes.Repeat(secret, 1000), p2p.None))
	eventually(t, "messages", func() bool { return len(rb.messages()) == 2 })
	require.Eventually(t, func() bool { return len(px.bytesSeen()) > 0 }, waitLimit, time.Millisecond)
	seen := px.bytesSeen()
	assert.False(t, bytes.Contains(seen, secret[:16]), "payload seen in plaintext")
	assert.False(t, bytes.Contains(seen, []byte(a.ID())), "the dialer's id seen in plaintext")
	assert.False(t, bytes.Contains(seen, a.PublicKey()), "the dialer's key seen in plaintext")
	assert.False(t, bytes.Contains(seen, b.PublicKey()), "the listener's key seen in plaintext")
	// The greeting, the listener's id, is plaintext by design.
	assert.True(t, bytes.HasPrefix(seen, []byte(b.ID())) || bytes.Contains(seen, []byte(b.ID())))
}

func TestNativeFlippedByteCostsOnlyThatConnection(t *testing.T) {
	ra, rb := &recorder{}, &recorder{}
	a := startNode(t, nativeCfg(p2p.EncryptionPreferred), ra)
	b := startNode(t, nativeCfg(p2p.EncryptionPreferred), rb)
	c := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
	px := newProxy(t, b.Port())
	out, err := a.Connect("127.0.0.1", px.port(), false)
	require.NoError(t, err)
	require.NoError(t, out.Send([]byte("before"), p2p.None))
	eventually(t, "first message", func() bool { return len(rb.messages()) == 1 })
	px.flip.Store(true)
	msg := bytes.Repeat([]byte("altered?"), 200)
	require.NoError(t, out.Send(msg, p2p.None))
	eventually(t, "the broken connection to go", func() bool {
		return len(ra.ofType(p2p.EventOutboundDisconnected)) == 1 && len(rb.ofType(p2p.EventInboundDisconnected)) == 1
	})
	for _, m := range rb.messages() {
		assert.Equal(t, "before", string(m.Data), "only unaltered messages are delivered")
	}
	// The nodes keep working: a new connection and another peer are fine.
	out2, err := a.Connect("127.0.0.1", b.Port(), false)
	require.NoError(t, err)
	require.NoError(t, out2.Send(msg, p2p.None))
	eventually(t, "message after reconnect", func() bool { return len(rb.messages()) == 2 })
	assert.Equal(t, msg, rb.messages()[1].Data)
	_, in := pair(t, c, b)
	assert.True(t, in.Encrypted())
}

func TestNativeHeartbeatTimeoutDisconnectsSilentPeer(t *testing.T) {
	ra, rb := &recorder{}, &recorder{}
	cfg := nativeCfg(p2p.EncryptionPreferred)
	cfg.HeartbeatInterval = 50 * time.Millisecond
	a := startNode(t, cfg, ra)
	b := startNode(t, cfg, rb)
	px := newProxy(t, b.Port())
	out, err := a.Connect("127.0.0.1", px.port(), false)
	require.NoError(t, err)
	require.NoError(t, out.Send([]byte("hi"), p2p.None))
	eventually(t, "message", func() bool { return len(rb.messages()) == 1 })
	px.stalled.Store(true)
	eventually(t, "both sides to drop the silent peer", func() bool {
		return len(ra.ofType(p2p.EventOutboundDisconnected)) == 1 && len(rb.ofType(p2p.EventInboundDisconnected)) == 1
	})
}

// The byte counters count a native message as the plaintext protocol does
// (payload + 1), and add up.
func TestNativeCountersAsPlaintext(t *testing.T) {
	a := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
	rb := &recorder{}
	b := startNode(t, nativeCfg(p2p.EncryptionPreferred), rb)
	out, in := pair(t, a, b)
	require.True(t, out.Encrypted())
	want := uint64(0)
	for i := range 100 {
		require.NoError(t, out.Send([]byte(label(i)), p2p.None))
		want += uint64(len(label(i)) + 1)
	}
	eventually(t, "every message", func() bool { return len(rb.messages()) == 100 })
	eventually(t, "a's queue empty", func() bool { return out.Counters().Queued == 0 })
	c := out.Counters()
	assert.Equal(t, uint64(100), c.Written)
	assert.Equal(t, want, c.AcceptedBytes)
	assert.Equal(t, want, c.WrittenBytes)
	assert.Zero(t, c.QueuedBytes)
	assert.Equal(t, want, in.Counters().ReceivedBytes)
}

// A node that stops tells its native peers it is done (TLS close_notify) and
// waits for theirs: what such a peer accepts for it until it reads that
// close arrives, however late (a reset after a quiet spell, which plaintext
// peers get, could cut off a peer whose writer ran late).
func TestNativeStopDeliversWhatThePeerSendsUntilItSeesTheClose(t *testing.T) {
	const replies = 100
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	rb := &recorder{}
	rb.onEv = func(ev *p2p.Event) {
		if ev.Type == p2p.EventMessage && string(ev.Message.Data) == label(0) {
			close(entered)
			<-release // b's handler is busy: its queue fills, its reader waits
		}
	}
	ra := &recorder{}
	a := startNode(t, p2p.Config{}, ra)
	b := startNode(t, p2p.Config{Limits: p2p.Limits{MaxPendingEvents: 4}}, rb)
	out, in := pair(t, a, b)
	require.True(t, out.Encrypted())
	// One message at a time, each its own batch for b's reader: the first
	// is held by the handler, the next three fill the queue (4), the fifth
	// waits for room, so that b's reader stops before a's close reaches it.
	const sent = 5
	for i := 0; i < sent; i++ {
		require.NoError(t, out.Send([]byte(label(i)), p2p.None))
		eventually(t, "b's reader taking the message", func() bool { return b.Counters().Received == uint64(i+1) })
	}
	<-entered
	a.RequestStop()
	eventually(t, "a's close_notify to b", func() bool { return p2p.NativeByeSent(out) })
	for i := 0; i < replies; i++ { // b has not read the close: these are accepted
		require.NoError(t, in.Send([]byte(label(i)), p2p.None))
	}
	unblock()
	require.NoError(t, a.Wait())
	got := ra.messages()
	require.Len(t, got, replies, "every message b accepted before it read a's close arrives")
	for i, m := range got {
		require.Equal(t, label(i), string(m.Data))
	}
	eventually(t, "b sees a go", func() bool { return len(rb.ofType(p2p.EventInboundDisconnected)) == 1 })
	require.Len(t, rb.messages(), sent, "and b got all of a's")
	c := b.Counters()
	require.Zero(t, c.DroppedLinkLost+c.DroppedStop+c.DroppedOverflow, "b dropped nothing it accepted")
}
