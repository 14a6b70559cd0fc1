package p2p_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// A burst of publishes far larger than the 2 MiB overlay queue of a healthy
// peer reaches every subscriber, each message exactly once: what a full
// queue refuses is resent from the engine's backlog as the queue drains.
func TestGossipBurstPastQueue(t *testing.T) {
	t.Parallel()
	const size, k, burst = 5, 2, 200
	w := buildNet(t, size, k)
	for _, g := range w.nodes {
		require.NoError(t, g.n.Subscribe("burst"))
	}
	origin := w.nodes[1]
	payload := make([]byte, 64<<10) // 200 x 64 KiB: 12.5 MiB, six queues' worth
	for i := range burst {
		copy(payload, fmt.Sprintf("burst %03d", i))
		require.NoError(t, origin.n.Publish("burst", payload))
	}
	want := burst * (size - 1)
	waitFor(t, 60*time.Second, fmt.Sprintf("%d deliveries", want), func() bool {
		n := 0
		for _, g := range w.nodes {
			_, copies := g.total()
			n += copies
		}
		return n >= want
	})
	for _, g := range w.nodes {
		keys, copies := g.total()
		if g == origin {
			require.Zero(t, copies, "never to the origin")
			continue
		}
		require.Equal(t, burst, keys, "every publish")
		require.Equal(t, burst, copies, "exactly once")
	}
	var dropped uint64
	for _, g := range w.nodes {
		_, _, d, _ := p2p.OverlayStats(g.n)
		dropped += d
	}
	t.Logf("%d publishes of 64 KiB to %d subscribers; overlay frames a full queue refused: %d", burst, size-1, dropped)
}
