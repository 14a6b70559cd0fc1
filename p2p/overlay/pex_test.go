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

// A bootstrap that takes hundreds of joins in a second tells each peer its
// degree at most DegreeRate times a second (plus once on its own link-up),
// not once per join: one DEGREE frame per join was over every peer's
// FramesPerSecond budget, and all of them cut the hub. Each peer here runs
// the receiving side on what the hub sent it and must keep the link. Below
// the rate a change goes out at once.
func TestPexDegreeAnnouncementsRateLimited(t *testing.T) {
	const joins, rate = 300, 10
	tr, clk := newRecTransport(), newManualClock()
	hub := NewDiscovery(DiscoveryConfig{Self: "hub", DegreeRate: rate}, tr, clk)
	for i := range joins {
		require.True(t, hub.Admit(LinkInfo{ID: PeerID(fmt.Sprint("p", i)), Host: "h", Port: uint16(1000 + i), Inbound: true}))
	}
	degreesTo := func(p PeerID) (n, last int) {
		for _, f := range tr.sent[p] {
			m, err := decodePex(f)
			require.NoError(t, err)
			if m.typ == pexDegree {
				n, last = n+1, m.degree
			}
		}
		return n, last
	}
	for i := range joins {
		n, _ := degreesTo(PeerID(fmt.Sprint("p", i)))
		require.LessOrEqual(t, n, rate+1, "p%d got %d DEGREE frames for %d joins in one instant", i, n, joins)
		require.GreaterOrEqual(t, n, 1, "p%d was never told the hub's degree", i)
	}
	clk.advance(time.Second)
	hub.Tick()
	for i := range joins {
		p := PeerID(fmt.Sprint("p", i))
		n, last := degreesTo(p)
		require.LessOrEqual(t, n, rate+2, "p%d", i)
		require.Equal(t, joins, last, "p%d: after the window every peer knows the final degree", i)

		ptr := newRecTransport()
		peer := NewDiscovery(DiscoveryConfig{Self: p}, ptr, clk)
		require.True(t, peer.Admit(LinkInfo{ID: "hub", Host: "h", Port: 1}))
		for _, f := range tr.sent[p] {
			peer.Frame("hub", f)
		}
		require.Empty(t, ptr.closedPeers(), "p%d cut the hub for flooding", i)
		require.Equal(t, joins, peer.links["hub"].degree)
	}
	before, _ := degreesTo("p0")
	clk.advance(time.Second)
	hub.Tick()
	n, _ := degreesTo("p0")
	require.Equal(t, before, n, "nothing changed: no new announcement")

	hub.LinkDown("p299") // a lone change, below the rate: at once, no Tick
	n, last := degreesTo("p0")
	require.Equal(t, before+1, n)
	require.Equal(t, joins-1, last)
}
