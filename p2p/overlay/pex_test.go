package overlay

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A node that never calls Discover still answers peer exchange: a bootstrap
// run that way hands its joiners the addresses it knows. It neither dials,
// asks, prunes nor redirects: managing links is what Discover adds.
func TestPexAnsweredWithoutDiscover(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	d := NewDiscovery(DiscoveryConfig{Self: "boot", Low: 2, High: 3}, tr, clk)
	for i := range 6 { // twice the high mark, all inbound: none redirected
		require.True(t, d.Admit(LinkInfo{ID: PeerID(fmt.Sprint("p", i)), Host: "h", Port: uint16(10 + i), Inbound: true}))
	}
	require.Equal(t, 6, d.Degree())
	d.Frame("p0", encodePex(pexMsg{typ: pexAsk, want: MaxPeerList}))
	last := tr.sent["p0"][len(tr.sent["p0"])-1]
	m, err := decodePex(last)
	require.NoError(t, err)
	require.Equal(t, byte(pexPeers), m.typ)
	require.False(t, m.redirect)
	require.Len(t, m.peers, 5, "every other peer it knows, never the asker itself")
	for _, p := range m.peers {
		require.NotEqual(t, PeerID("p0"), p.ID)
	}
	for id := range d.links {
		d.Frame(id, encodePex(pexMsg{typ: pexDegree, degree: 9}))
	}
	clk.advance(time.Minute)
	d.Tick()
	require.Empty(t, tr.closedPeers(), "no pruning")
	require.Empty(t, tr.dials, "no dialing")
	for id, frames := range tr.sent {
		for _, f := range frames {
			m, err := decodePex(f)
			require.NoError(t, err)
			require.NotEqual(t, byte(pexAsk), m.typ, "no asking (to %s)", id)
		}
	}
}
