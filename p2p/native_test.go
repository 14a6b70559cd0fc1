package p2p_test

import (
	"bytes"
	"testing"

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
