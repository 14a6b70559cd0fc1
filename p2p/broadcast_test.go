package p2p_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// A broadcast reaches a native and a plaintext peer with the same
// messages, whether the payload travels raw (copied into each queue) or
// must be framed (holding EOT, or compressed), and a raw payload over the
// frame limit is refused even with no peer to send it to.
func TestBroadcastToBothFramings(t *testing.T) {
	lone := startNode(t, p2p.Config{Limits: p2p.Limits{MaxFrameSize: 1 << 10}}, nil)
	assert.ErrorIs(t, lone.SendToNodes(make([]byte, 1<<10+1), nil, p2p.None), p2p.ErrMessageTooLarge)
	require.NoError(t, lone.SendToNodes(make([]byte, 1<<10), nil, p2p.None))

	rn, rp := &recorder{}, &recorder{}
	a := startNode(t, nativeCfg(p2p.EncryptionPreferred), nil)
	nat := startNode(t, nativeCfg(p2p.EncryptionPreferred), rn)
	plain := startNode(t, p2p.Config{Encryption: p2p.EncryptionOff}, rp)
	toNat, _ := pair(t, a, nat)
	toPlain, _ := pair(t, a, plain)
	require.True(t, toNat.Encrypted())
	require.False(t, toPlain.Encrypted())
	payloads := [][]byte{
		[]byte("text"), []byte(`{"k": [1, 2]}`), {0xff, 0xfe}, {},
		[]byte("holds \x04 EOT"), bytes.Repeat([]byte("large "), 200_000),
	}
	for _, pl := range payloads {
		require.NoError(t, a.SendToNodes(pl, nil, p2p.None))
	}
	require.NoError(t, a.SendToNodes([]byte("zipped"), nil, p2p.Zlib))
	for name, r := range map[string]*recorder{"native": rn, "plaintext": rp} {
		eventually(t, name+" messages", func() bool { return len(r.messages()) == len(payloads)+1 })
		got := r.messages()
		for i, pl := range payloads {
			require.True(t, bytes.Equal(pl, got[i].Data), "%s: message %d", name, i)
			assert.Equal(t, wire.Classify(pl), got[i].Kind, "%s: message %d's kind", name, i)
		}
		assert.Equal(t, wire.CompressionZlib, got[4].Compression, "%s: a payload holding EOT is reported as the plaintext protocol carries it", name)
		assert.Equal(t, wire.CompressionNone, got[0].Compression, name)
		assert.Equal(t, "zipped", string(got[len(payloads)].Data), name)
	}
}
