package p2p_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// A bootstrap that never calls Discover still answers peer exchange, so
// joiners that do call it learn each other's addresses through it and reach
// K links, not just the one to the bootstrap.
func TestPexBootstrapWithoutDiscover(t *testing.T) {
	t.Parallel()
	const joiners, k = 6, 3
	w := newGnet(t, p2p.Config{})
	boot := w.add() // no Discover
	for range joiners {
		w.join(w.add(), boot.n.Port(), k)
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("%d joiners with >= %d links", joiners, k), func() bool {
		for _, g := range w.nodes[1:] {
			if len(p2p.OverlayLinks(g.n)) < k {
				return false
			}
		}
		return true
	})
	require.NotEmpty(t, boot.n.KnownPeers())
}
