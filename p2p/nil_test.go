package p2p_test

import (
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// closedPort is a loopback port nobody listens on (it was free a moment ago).
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// The README's mistake: the peer of a failed Connect is nil, and sending to
// it gives ErrNilPeer instead of a panic inside SendMany.
func TestNilPeerFromFailedConnect(t *testing.T) {
	n := startNode(t, p2p.Config{}, nil)
	peer, err := n.Connect("127.0.0.1", closedPort(t), false)
	require.Error(t, err)
	require.Nil(t, peer)

	err = peer.Send(p2p.Text("hello"), p2p.None)
	require.ErrorIs(t, err, p2p.ErrNilPeer)
	k, err := peer.SendMany([][]byte{p2p.Text("a"), p2p.Text("b")}, p2p.Zlib)
	require.ErrorIs(t, err, p2p.ErrNilPeer)
	require.Zero(t, k)
	require.ErrorIs(t, peer.Stop(), p2p.ErrNilPeer)
	require.Equal(t, "NodeConnection: <nil>", peer.String())

	// The node hands a nil peer back as unknown, and keeps working.
	require.ErrorIs(t, n.SendToNode(peer, p2p.Text("x"), p2p.None), p2p.ErrUnknownPeer)
	require.ErrorIs(t, n.Disconnect(peer), p2p.ErrUnknownPeer)
	require.NoError(t, n.SendToNodes(p2p.Text("x"), []*p2p.Peer{peer}, p2p.None))
}

// Every error-returning method of a nil *Node returns ErrNilNode.
func TestNilNodeMethodsReturnErrNilNode(t *testing.T) {
	var n *p2p.Node
	checks := map[string]error{
		"Start":             n.Start(),
		"Stop":              n.Stop(),
		"Wait":              n.Wait(),
		"SetMaxConnections": n.SetMaxConnections(3),
		"SetLimits":         n.SetLimits(p2p.Limits{}),
		"Disconnect":        n.Disconnect(nil),
		"SendToNode":        n.SendToNode(nil, p2p.Text("x"), p2p.None),
		"SendToNodes":       n.SendToNodes(p2p.Text("x"), nil, p2p.None),
	}
	for name, err := range checks {
		require.Truef(t, errors.Is(err, p2p.ErrNilNode), "%s: got %v", name, err)
	}
	peer, err := n.Connect("127.0.0.1", 8001, false)
	require.ErrorIs(t, err, p2p.ErrNilNode)
	require.Nil(t, peer)
	n.RequestStop()
	require.Equal(t, "Node: <nil>", n.String())
}

// The accessors of a nil *Node and *Peer give zero values, and Done of a nil
// node is closed (nothing to wait for), instead of panicking or hanging.
func TestNilAccessorsGiveZeroValues(t *testing.T) {
	var n *p2p.Node
	require.Empty(t, n.ID())
	require.Empty(t, n.Host())
	require.Zero(t, n.Port())
	n.SetDebug(true)
	require.False(t, n.Debug())
	require.Zero(t, n.MaxConnections())
	require.Equal(t, p2p.Config{}, n.Config())
	require.Equal(t, p2p.Limits{}, n.Limits())
	require.Zero(t, n.MessagesSent()+n.MessagesReceived()+n.ReceiveErrors())
	require.Empty(t, n.Inbound())
	require.Empty(t, n.Outbound())
	require.Empty(t, n.All())
	require.Empty(t, n.Reconnecting())
	p, ok := n.PeerByHandle(1)
	require.False(t, ok)
	require.Nil(t, p)
	require.False(t, n.InHandler())
	n.Debugf("nothing %d", 1)
	select {
	case <-n.Done():
	default:
		t.Fatal("Done of a nil node is not closed")
	}

	var peer *p2p.Peer
	require.Empty(t, peer.ID())
	require.Empty(t, peer.Host())
	require.Zero(t, peer.Port())
	require.Zero(t, peer.Handle())
	require.Nil(t, peer.Node())
	peer.SetInfo("k", 1)
	v, ok := peer.Info("k")
	require.False(t, ok)
	require.Nil(t, v)
	require.Empty(t, peer.InfoKeys())
}
