package p2p_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// The pull API for nodes whose handler hands events on with Park (the C
// ABI's nodes without a callback, and the secure node's own events).

// layerEvent is a layer's own event type (numbered after the core's).
const layerEvent = p2p.EventReconnectionError + 1

// layerInfo is what the layer attaches to its events.
type layerInfo struct{ sender string }

// parkingNode makes a node whose handler parks every event, turning each
// message into a layer event that carries a layerInfo.
func parkingNode(t *testing.T, lim p2p.Limits) *p2p.Node {
	t.Helper()
	var n *p2p.Node
	n, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard, Limits: lim},
		func(ev *p2p.Event) bool {
			if ev.Type == p2p.EventMessage {
				lev := *ev
				lev.Type, lev.Ext = layerEvent, &layerInfo{sender: ev.Peer.ID()}
				return n.Park(&lev)
			}
			return n.Park(ev)
		})
	require.NoError(t, err)
	require.NoError(t, n.EnablePolling())
	require.NoError(t, n.Start())
	t.Cleanup(func() { _ = n.Stop() })
	assert.ErrorIs(t, n.EnablePolling(), p2p.ErrAlreadyStarted)
	return n
}

func TestPollLayerEventsWithBackpressure(t *testing.T) {
	var lim p2p.Limits
	lim.MaxPendingEvents = 4
	a := startNode(t, p2p.Config{}, nil)
	b := parkingNode(t, lim)
	pa, _ := pair(t, a, b)
	const total = 50
	for i := 0; i < total; i++ {
		require.NoError(t, pa.Send([]byte(`{"n": 1}`), p2p.None))
	}
	var seen []p2p.Event
	pollUntil(t, b, &seen, "every layer event", func(evs []p2p.Event) bool { return count(evs, layerEvent) == total })
	for _, ev := range seen {
		if ev.Type == layerEvent {
			info, ok := ev.Ext.(*layerInfo)
			require.True(t, ok, "the layer's Ext travels with its event")
			assert.Equal(t, a.ID(), info.sender)
			assert.Equal(t, `{"n": 1}`, string(ev.Message.Data))
		}
	}
}

func TestPollHandleValidUntilNextPoll(t *testing.T) {
	a := startNode(t, p2p.Config{}, nil)
	b := parkingNode(t, p2p.Limits{})
	_, pb := pair(t, a, b)
	h := pb.Handle()
	require.NoError(t, a.Stop())
	var seen []p2p.Event
	pollUntil(t, b, &seen, "the disconnected event", func(evs []p2p.Event) bool {
		return count(evs, p2p.EventInboundDisconnected) == 1
	})
	p, ok := b.PeerByHandle(h)
	require.True(t, ok, "valid until the next Poll")
	assert.Equal(t, a.ID(), p.ID())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = b.Poll(ctx, 1)
	_, ok = b.PeerByHandle(h)
	assert.False(t, ok, "gone once the next Poll has begun")
}

func TestPollIsPollerAndOwnDisconnect(t *testing.T) {
	a := startNode(t, p2p.Config{}, nil)
	b := parkingNode(t, p2p.Limits{})
	assert.False(t, b.IsPoller(), "nobody polled yet")
	pair(t, b, a) // b dials a: an outbound peer of b
	var seen []p2p.Event
	pollUntil(t, b, &seen, "connected", func(evs []p2p.Event) bool { return count(evs, p2p.EventOutboundConnected) == 1 })
	assert.True(t, b.IsPoller(), "the goroutine that polls")
	other := make(chan bool)
	go func() { other <- b.IsPoller() }()
	assert.False(t, <-other, "another goroutine")
	// The poller's own Disconnect: its node_disconnect_with_outbound_node
	// does not wait for the poller (which is here, not in Poll); both
	// events are then polled in order.
	require.NoError(t, b.Disconnect(b.Outbound()[0]))
	seen = nil
	pollUntil(t, b, &seen, "disconnected", func(evs []p2p.Event) bool { return count(evs, p2p.EventOutboundDisconnected) == 1 })
	assert.Equal(t, []p2p.EventType{p2p.EventDisconnectWithOutbound, p2p.EventOutboundDisconnected}, typesOf(seen))
}

func TestPollStopPolling(t *testing.T) {
	a := startNode(t, p2p.Config{}, nil)
	b := parkingNode(t, p2p.Limits{})
	pair(t, a, b)
	var seen []p2p.Event
	pollUntil(t, b, &seen, "connected", func(evs []p2p.Event) bool { return count(evs, p2p.EventInboundConnected) == 1 })
	// The poller is there (it just polled), but says it will not come back:
	// Stop's node_request_to_stop does not wait for it.
	b.StopPolling()
	done := make(chan error, 1)
	go func() { done <- b.Stop() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(waitLimit):
		t.Fatal("Stop waited for a poller that ended")
	}
	_, err := b.Poll(context.Background(), 8)
	assert.True(t, errors.Is(err, p2p.ErrStopped), "Poll after StopPolling: %v", err)
}

func TestParkWithoutPolling(t *testing.T) {
	a := startNode(t, p2p.Config{}, nil)
	assert.True(t, a.Park(&p2p.Event{Type: p2p.EventMessage}), "a node without polling drops it")
	assert.False(t, a.IsPoller())
	var nilNode *p2p.Node
	assert.ErrorIs(t, nilNode.EnablePolling(), p2p.ErrNilNode)
	nilNode.StopPolling()
}

func TestPollCallerID(t *testing.T) {
	// Callers told apart by the application's own identity (the C ABI: the
	// OS thread): two goroutines that give the same one are one poller.
	n := pollingNode(t, p2p.Config{CallerID: func() uint64 { return 7 }})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = n.Poll(ctx, 1)
	other := make(chan bool)
	go func() { other <- n.IsPoller() }()
	assert.True(t, <-other)
}
