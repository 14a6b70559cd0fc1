package secure

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// pollFor polls n until cond holds for the events so far, or fails.
func pollFor(t *testing.T, n *Node, seen *[]p2p.Event, what string, cond func([]p2p.Event) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(*seen) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out polling for %s (have %d events)", what, len(*seen))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		evs, err := n.P2P().Poll(ctx, 64)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("poll: %v", err)
		}
		*seen = append(*seen, evs...)
	}
}

func ofType(evs []p2p.Event, typ p2p.EventType) []p2p.Event {
	var out []p2p.Event
	for _, ev := range evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func TestPollingSecureNode(t *testing.T) {
	a, _ := startNode(t, testKeys[0], Config{})
	b, err := NewPolling(Config{Config: p2p.Config{Host: "127.0.0.1"}}, testKeys[1])
	require.NoError(t, err)
	require.NoError(t, b.Start())
	t.Cleanup(func() { _ = b.Stop() })
	connect(t, a, b)

	require.NoError(t, a.SendMessage(map[string]any{"text": "hi"}))
	p := peerOf(a, b.ID())
	require.NotNil(t, p)
	require.NoError(t, p.Send([]byte(`{"_type": "message", "_id": "x"}`), p2p.None)) // unsigned
	require.NoError(t, b.SendDiscovery())

	var seen []p2p.Event
	pollFor(t, b, &seen, "the secure events", func(evs []p2p.Event) bool {
		return len(ofType(evs, EventSecureMessage)) == 1 && len(ofType(evs, EventMessageRejected)) == 1 &&
			len(ofType(evs, EventDiscoveryAnswer)) == 1
	})
	assert.Len(t, ofType(seen, p2p.EventInboundConnected), 1, "the core's events come through the same Poll")
	assert.Empty(t, ofType(seen, p2p.EventMessage), "messages come as the secure node's events")

	msg := ofType(seen, EventSecureMessage)[0]
	info := Info(&msg)
	require.NotNil(t, info)
	assert.Equal(t, a.ID(), info.SenderID)
	assert.Equal(t, "message", info.MsgType)
	assert.Same(t, b.P2P(), msg.Node)

	rej := ofType(seen, EventMessageRejected)[0]
	info = Info(&rej)
	require.NotNil(t, info)
	assert.Equal(t, "x", info.SenderID, "the _id the message claims")
	assert.NotZero(t, info.Reject)
	assert.NotEmpty(t, info.Reason)

	ans := ofType(seen, EventDiscoveryAnswer)[0]
	info = Info(&ans)
	require.NotNil(t, info)
	assert.Equal(t, a.ID(), info.SenderID)
	_, ok := nodeByID(info.Nodes, b.ID())
	assert.True(t, ok, "a's answer lists b")

	core := p2p.Event{Type: p2p.EventMessage}
	assert.Nil(t, Info(&core))
}
