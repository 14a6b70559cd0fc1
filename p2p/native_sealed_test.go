package p2p_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/native"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// exchange sends payloads from out's node to in's and one reply back, and
// checks that all of it arrives whole and in order.
func exchange(t *testing.T, out, in *p2p.Peer, rOut, rIn *recorder, payloads [][]byte) {
	t.Helper()
	for _, pl := range payloads {
		require.NoError(t, out.Send(pl, p2p.None))
	}
	require.NoError(t, out.Send(bytes.Repeat([]byte("zz"), 40_000), wire.CompressionZlib))
	eventually(t, "messages", func() bool { return len(rIn.messages()) == len(payloads)+1 })
	got := rIn.messages()
	for i, pl := range payloads {
		require.Equal(t, pl, got[i].Data, "message %d", i)
		require.Equal(t, wire.Classify(pl), got[i].Kind, "message %d's kind", i)
	}
	assert.Equal(t, bytes.Repeat([]byte("zz"), 40_000), got[len(payloads)].Data)
	require.NoError(t, in.Send([]byte("back"), p2p.None))
	eventually(t, "reply", func() bool { return len(rOut.messages()) == 1 })
	assert.Equal(t, "back", string(rOut.messages()[0].Data))
}

// Records of several sizes: empty, small, one record's worth exactly, and
// several records (native.MaxRecordPlain each) in one message; large ones
// of text with a two-byte character across each piece the reader checks
// (256 KiB), of bytes that are not UTF-8 only at the end, and of JSON.
func recordSizedPayloads() [][]byte {
	straddling := bytes.Repeat([]byte{'t'}, 3<<20)
	for at := 256<<10 - 1; at+1 < len(straddling); at += 256 << 10 {
		copy(straddling[at:], "é")
	}
	badEnd := append(bytes.Repeat([]byte{'u'}, 2<<20), 0xc3)
	return [][]byte{
		{}, []byte("small"),
		bytes.Repeat([]byte{'r'}, native.MaxRecordPlain-native.HeaderSize),
		bytes.Repeat([]byte{'s'}, native.MaxRecordPlain),
		bytes.Repeat([]byte("0123456789"), 300_000),
		straddling, badEnd,
		append(append([]byte(`{"k": "`), bytes.Repeat([]byte{'v'}, 1<<20)...), '"', '}'),
	}
}

func TestNativeSealedRecordsBetweenOurNodes(t *testing.T) {
	ra, rb := &recorder{}, &recorder{}
	a := startNode(t, nativeCfg(p2p.EncryptionPreferred), ra)
	b := startNode(t, nativeCfg(p2p.EncryptionPreferred), rb)
	out, in := pair(t, a, b)
	require.True(t, out.Encrypted())
	assert.True(t, p2p.NativeSealed(out), "the dialer's side")
	assert.True(t, p2p.NativeSealed(in), "the listener's side")
	assert.Contains(t, out.Capabilities(), native.SealedCapability)
	exchange(t, out, in, ra, rb, recordSizedPayloads())
}

func TestNativeEarlierPeerWithoutSealedRecordsKeepsTLS(t *testing.T) {
	for _, earlierDials := range []bool{true, false} {
		ra, rb := &recorder{}, &recorder{}
		a := startNode(t, nativeCfg(p2p.EncryptionPreferred), ra)
		b := startNode(t, nativeCfg(p2p.EncryptionPreferred), rb)
		earlier := b
		if earlierDials {
			earlier = a
		}
		// Before Start would be the rule; the hellos are made per
		// connection, after this.
		p2p.WithoutCapability(earlier, native.SealedCapability)
		out, in := pair(t, a, b)
		require.True(t, out.Encrypted())
		require.True(t, in.Encrypted())
		assert.False(t, p2p.NativeSealed(out), "earlier dials: %v", earlierDials)
		assert.False(t, p2p.NativeSealed(in), "earlier dials: %v", earlierDials)
		peerOfEarlier := in
		if !earlierDials {
			peerOfEarlier = out
		}
		assert.False(t, slices.Contains(peerOfEarlier.Capabilities(), native.SealedCapability))
		exchange(t, out, in, ra, rb, recordSizedPayloads())
	}
}

func TestNativeSealedRecordsRightBehindTheHello(t *testing.T) {
	// The listener queues messages as soon as it knows the peer, before its
	// hello goes out: the dialer reads the hello (a TLS record) and the
	// sealed records after it, likely in one read of the socket. TLS must
	// not have read any of them.
	const count = 3000
	ra := &recorder{}
	rb := &recorder{onEv: func(ev *p2p.Event) {
		if ev.Type == p2p.EventInboundConnected {
			for i := range count {
				_ = ev.Peer.Send([]byte(label(i)), p2p.None)
			}
		}
	}}
	a := startNode(t, nativeCfg(p2p.EncryptionPreferred), ra)
	b := startNode(t, nativeCfg(p2p.EncryptionPreferred), rb)
	out, _ := pair(t, a, b)
	require.True(t, p2p.NativeSealed(out))
	eventually(t, "messages", func() bool { return len(ra.messages()) == count })
	for i, m := range ra.messages() {
		require.Equal(t, label(i), string(m.Data))
	}
}
