package p2p_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// The native protocol against real p2pnetwork 1.2 nodes, in every mode and
// both directions: off and preferred talk plaintext and 1.2 sees the usual
// events and messages; required refuses 1.2 without ending its accept loop.

var allModes = []p2p.Encryption{p2p.EncryptionOff, p2p.EncryptionPreferred, p2p.EncryptionRequired}

func TestNativeInteropWeDial(t *testing.T) {
	t.Parallel()
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			ref := startRefNode(t, "", 0)
			node, rec := startIONode(t, p2p.Config{Encryption: mode})
			p, err := node.Connect("127.0.0.1", ref.port, false)
			if mode == p2p.EncryptionRequired {
				require.ErrorIs(t, err, p2p.ErrEncryptionRequired)
				assert.Empty(t, node.Outbound())
			} else {
				require.NoError(t, err)
				assert.False(t, p.Encrypted())
				assert.Nil(t, p.PeerKey())
				ev := ref.wait(t, "inbound_node_connected", isNodeEv("inbound_node_connected"))
				assert.Equal(t, node.ID(), ev.str("peer_id"))
				require.NoError(t, p.Send([]byte("hello 1.2"), p2p.None))
				ref.requireReceived(t, []byte("hello 1.2"))
				ref.send(t, "str", "hello Go", "none")
				rec.requireMessage(t, p, []byte("hello Go"), p2p.KindText, p2p.None)
			}
			// 1.2's accept loop lives on: a later peer is accepted.
			later, _ := startIONode(t, p2p.Config{})
			_, err = later.Connect("127.0.0.1", ref.port, false)
			require.NoError(t, err)
			ref.wait(t, "a later inbound peer", func(e pyEvent) bool {
				return isNodeEv("inbound_node_connected")(e) && e.str("peer_id") == later.ID()
			})
		})
	}
}

func TestNativeInteropTheyDial(t *testing.T) {
	t.Parallel()
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			ref := startRefNode(t, "", 0)
			node, rec := startIONode(t, p2p.Config{Encryption: mode})
			ev := ref.do(t, map[string]any{"cmd": "connect", "port": node.Port()}, "connect")
			if mode == p2p.EncryptionRequired {
				// 1.2 had our id before we saw its hello; the reset that
				// follows is what it notices.
				ref.wait(t, "outbound_node_disconnected", isNodeEv("outbound_node_disconnected"))
				assert.Zero(t, rec.count(ioEvType(p2p.EventInboundConnected, "")))
				assert.Empty(t, node.Inbound())
			} else {
				require.True(t, ev.flag("ok"))
				assert.Equal(t, node.ID(), ev.str("peer_id"), "p2pnetwork reads our id whole")
				p := rec.connected(t, p2p.EventInboundConnected, ref.id)
				assert.False(t, p.Encrypted())
				assert.Equal(t, ref.port, p.Port())
				ref.send(t, "dict", map[string]any{"a": 1}, "zlib")
				rec.requireMessage(t, p, []byte(`{"a": 1}`), p2p.KindJSON, p2p.Zlib)
				require.NoError(t, p.Send([]byte("back"), p2p.None))
				ref.requireReceived(t, []byte("back"))
			}
			// 1.2 still accepts peers, and our node still serves.
			later, _ := startIONode(t, p2p.Config{})
			_, err := later.Connect("127.0.0.1", ref.port, false)
			require.NoError(t, err)
			ref.wait(t, "a later inbound peer", func(e pyEvent) bool {
				return isNodeEv("inbound_node_connected")(e) && e.str("peer_id") == later.ID()
			})
			if mode != p2p.EncryptionOff {
				out, err := later.Connect("127.0.0.1", node.Port(), false)
				require.NoError(t, err)
				assert.True(t, out.Encrypted())
			}
		})
	}
}
