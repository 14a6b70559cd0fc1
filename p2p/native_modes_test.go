package p2p_test

import (
	"crypto/ed25519"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// Our node to our node, in every pair of modes.
func TestNativeModePairs(t *testing.T) {
	const (
		plain = iota
		encrypted
		refused
	)
	want := map[[2]p2p.Encryption]int{
		{p2p.EncryptionOff, p2p.EncryptionOff}:             plain,
		{p2p.EncryptionOff, p2p.EncryptionPreferred}:       plain,
		{p2p.EncryptionOff, p2p.EncryptionRequired}:        refused,
		{p2p.EncryptionPreferred, p2p.EncryptionOff}:       plain,
		{p2p.EncryptionPreferred, p2p.EncryptionPreferred}: encrypted,
		{p2p.EncryptionPreferred, p2p.EncryptionRequired}:  encrypted,
		{p2p.EncryptionRequired, p2p.EncryptionOff}:        refused,
		{p2p.EncryptionRequired, p2p.EncryptionPreferred}:  encrypted,
		{p2p.EncryptionRequired, p2p.EncryptionRequired}:   encrypted,
	}
	for modes, outcome := range want {
		t.Run(modes[0].String()+"-dials-"+modes[1].String(), func(t *testing.T) {
			t.Parallel()
			ra, rb := &recorder{}, &recorder{}
			a := startNode(t, nativeCfg(modes[0]), ra)
			b := startNode(t, nativeCfg(modes[1]), rb)
			out, err := a.Connect("127.0.0.1", b.Port(), false)
			switch outcome {
			case refused:
				if modes[0] == p2p.EncryptionRequired {
					require.ErrorIs(t, err, p2p.ErrEncryptionRequired)
				} else {
					// An off dialer behaves as p2pnetwork: it has the id, then
					// the reset.
					eventually(t, "the reset", func() bool { return len(ra.ofType(p2p.EventOutboundDisconnected)) == 1 || err != nil })
				}
				if modes[1] == p2p.EncryptionOff {
					// An off listener behaves as p2pnetwork: it lists the
					// dialer until the reset.
					eventually(t, "the reset", func() bool { return len(b.Inbound()) == 0 })
				} else {
					assert.Empty(t, b.Inbound())
					assert.Empty(t, rb.ofType(p2p.EventInboundConnected))
				}
				// b goes on serving.
				c := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
				pair(t, c, b)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, outcome == encrypted, out.Encrypted())
			eventually(t, "inbound", func() bool { return len(b.Inbound()) == 1 })
			assert.Equal(t, outcome == encrypted, b.Inbound()[0].Encrypted())
			require.NoError(t, out.Send([]byte("x"), p2p.None))
			eventually(t, "message", func() bool { return len(rb.messages()) == 1 })
		})
	}
}

func TestNativeTrustOnFirstUseAndWrongKey(t *testing.T) {
	ra := &recorder{}
	a := startNode(t, nativeCfg(p2p.EncryptionPreferred), ra)
	cfg := nativeCfg(p2p.EncryptionPreferred)
	cfg.ID = "bee"
	b := startNode(t, cfg, nil)
	out, err := a.Connect("127.0.0.1", b.Port(), false)
	require.NoError(t, err)
	k, ok := a.PinnedKey("bee")
	require.True(t, ok, "pinned on first use")
	assert.Equal(t, []byte(b.PublicKey()), []byte(k))
	k, ok = b.PinnedKey(a.ID())
	require.True(t, ok)
	assert.Equal(t, []byte(a.PublicKey()), []byte(k))
	require.NoError(t, a.Disconnect(out))

	// Another node claims "bee" with another key: refused both ways.
	impostor := startNode(t, cfg, nil)
	_, err = a.Connect("127.0.0.1", impostor.Port(), false)
	require.ErrorIs(t, err, p2p.ErrKeyMismatch)
	require.ErrorIs(t, err, p2p.ErrHandshake)
	_, err = impostor.Connect("127.0.0.1", a.Port(), false)
	require.Error(t, err, "a refuses the impostor's dial")
	assert.Empty(t, ra.ofType(p2p.EventInboundConnected))

	// The same id in plaintext is a downgrade.
	off := cfg
	off.Encryption = p2p.EncryptionOff
	plainBee := startNode(t, off, nil)
	_, err = a.Connect("127.0.0.1", plainBee.Port(), false)
	require.ErrorIs(t, err, p2p.ErrDowngrade)

	// A pin set through the API works the same.
	other, err := p2p.GenerateIdentity()
	require.NoError(t, err)
	c := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
	require.NoError(t, c.PinPeer("bee", other.Public().(ed25519.PublicKey)))
	_, err = c.Connect("127.0.0.1", b.Port(), false)
	require.ErrorIs(t, err, p2p.ErrKeyMismatch)
	c.UnpinPeer("bee")
	_, err = c.Connect("127.0.0.1", b.Port(), false)
	require.NoError(t, err)
}

func TestNativeAllowList(t *testing.T) {
	b := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
	c := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
	cfg := nativeCfg(p2p.EncryptionPreferred)
	cfg.AllowKeys = []ed25519.PublicKey{b.PublicKey()}
	a := startNode(t, cfg, nil)
	_, err := a.Connect("127.0.0.1", b.Port(), false)
	require.NoError(t, err)
	_, err = a.Connect("127.0.0.1", c.Port(), false)
	require.ErrorIs(t, err, p2p.ErrNotAllowed)
	require.NoError(t, a.AllowPeer(c.ID(), c.PublicKey()))
	_, err = a.Connect("127.0.0.1", c.Port(), false)
	require.NoError(t, err)
	// No plaintext peer passes an allow-list.
	off := startNode(t, nativeCfg(p2p.EncryptionOff), nil)
	_, err = a.Connect("127.0.0.1", off.Port(), false)
	require.ErrorIs(t, err, p2p.ErrNotAllowed)
}

// Today's hole: a raw socket that claims B's id made Connect(B) return
// the impostor. With B native, only a peer that proves B's key counts as B.
func TestNativeIDClaimCannotHijackConnect(t *testing.T) {
	a := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
	rb := &recorder{}
	b := startNode(t, nativeCfg(p2p.EncryptionPreferred), rb)
	raw, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port())))
	require.NoError(t, err)
	defer raw.Close()
	buf := make([]byte, wire.MaxHandshake)
	_, err = raw.Read(buf) // a's greeting
	require.NoError(t, err)
	_, err = raw.Write(wire.Hello(b.ID(), b.Port()))
	require.NoError(t, err)
	eventually(t, "the impostor", func() bool { return len(a.Inbound()) == 1 })
	out, err := a.Connect("127.0.0.1", b.Port(), false)
	require.NoError(t, err, "the plaintext claim does not count as b")
	assert.True(t, out.Encrypted())
	require.NoError(t, out.Send([]byte("for b"), p2p.None))
	eventually(t, "b has it", func() bool { return len(rb.messages()) == 1 })
	// Now b's id is pinned: a new plaintext claim of it is refused.
	raw2, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port())))
	require.NoError(t, err)
	defer raw2.Close()
	_, err = raw2.Read(buf)
	require.NoError(t, err)
	_, err = raw2.Write(wire.Hello(b.ID(), b.Port()))
	require.NoError(t, err)
	_, err = raw2.Read(buf)
	require.Error(t, err, "closed")
	assert.Len(t, a.Inbound(), 1, "the first impostor only")
}

func TestNativeIdentitySaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.key")
	require.NoError(t, os.WriteFile(path, []byte("old, world-readable"), 0o644))
	key, err := p2p.GenerateIdentity()
	require.NoError(t, err)
	require.NoError(t, p2p.SaveIdentity(path, key))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	got, err := p2p.LoadIdentity(path)
	require.NoError(t, err)
	assert.True(t, key.Equal(got))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left")
	_, err = p2p.LoadIdentity(filepath.Join(dir, "missing"))
	assert.Error(t, err)
	require.NoError(t, os.WriteFile(path, []byte("not a key"), 0o600))
	_, err = p2p.LoadIdentity(path)
	assert.Error(t, err)

	cfg := nativeCfg(p2p.EncryptionPreferred)
	cfg.Identity = key
	a := startNode(t, cfg, nil)
	assert.True(t, key.Equal(a.IdentityKey()))
	assert.Equal(t, []byte(key.Public().(ed25519.PublicKey)), []byte(a.PublicKey()))
	b := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
	_, in := pair(t, a, b)
	_ = in
	eventually(t, "b's view of a", func() bool { return len(b.Inbound()) == 1 })
	assert.Equal(t, []byte(a.PublicKey()), []byte(b.Inbound()[0].PeerKey()))
}
