package overlay

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSeenCacheBoundedInCountAgeAndBytes(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	c := newSeenCache(100, time.Minute, 1000)
	for i := 0; i < 10000; i++ {
		var id MessageID
		id[0], id[1] = byte(i), byte(i>>8)
		c.add(id, make([]byte, 50), 1, "p", now)
		require.LessOrEqual(t, c.len(), 100)
		require.LessOrEqual(t, c.bytes, 1000)
	}
	require.LessOrEqual(t, len(c.queue), 100+1024+1, "the queue is compacted")
	c.expire(now.Add(time.Minute + time.Second))
	require.Zero(t, c.len(), "entries older than the ttl are gone")

	// The newest frames are the ones kept for GRAFTs.
	c = newSeenCache(100, time.Minute, 100)
	var first, last MessageID
	first[0], last[0] = 1, 2
	c.add(first, make([]byte, 60), 1, "p", now)
	c.add(last, make([]byte, 60), 1, "p", now)
	require.Nil(t, c.frame(first))
	require.NotNil(t, c.frame(last))
	require.True(t, c.has(first), "the id outlives its frame")
}

func TestKnownTableBounded(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	d := NewDiscovery(DiscoveryConfig{Self: "me", Known: 16}, tr, clk)
	d.LinkUp(LinkInfo{ID: "p", Host: "h", Port: 1})
	d.Discover(4)
	for round := 0; round < 20; round++ {
		var recs []PeerRecord
		for i := 0; i < MaxPeerList; i++ {
			recs = append(recs, PeerRecord{ID: PeerID(fmt.Sprintf("n%d-%d", round, i)), Addr: Addr{"h", uint16(100 + round*MaxPeerList + i)}})
		}
		d.mu.Lock()
		d.links["p"].asked = true
		d.mu.Unlock()
		d.Frame("p", encodePex(pexMsg{typ: pexPeers, peers: recs}))
		require.LessOrEqual(t, len(d.KnownPeers()), 16)
	}
	require.Empty(t, tr.closedPeers())
}

func TestUnsolicitedPeerListIgnored(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	d := NewDiscovery(DiscoveryConfig{Self: "me"}, tr, clk)
	d.LinkUp(LinkInfo{ID: "p", Host: "h", Port: 1})
	d.Frame("p", encodePex(pexMsg{typ: pexPeers, peers: []PeerRecord{{ID: "x", Addr: Addr{"h", 2}}}}))
	require.Len(t, d.KnownPeers(), 1, "only p itself")
}

// A hostile peer costs only its own link: garbage, an over-long list, a
// wrong version and a flood each close that peer and no other.
func TestHostilePeerCostsOnlyItsLink(t *testing.T) {
	over := encodePex(pexMsg{typ: pexPeers})
	over = append(over[:3], 0xff, 0x01) // count 255 > MaxPeerList
	huge := []byte{Version, gsGossip}
	huge = append(huge, make([]byte, 16)...)
	huge = append(huge, 0, 1, 't', 1, 'o', 0xff, 0xff, 0xff, 0xff, 0x0f) // data length 4 GiB
	cases := map[string][]byte{
		"garbage":     []byte("GET / HTTP/1.1\r\n"),
		"empty":       {},
		"version":     {9, pexAsk, 1},
		"long list":   over,
		"huge data":   huge,
		"trailing":    append(encodePex(pexMsg{typ: pexAsk, want: 1}), 0),
		"ihave count": {Version, gsIHave, 0xff, 0x7f},
	}
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			tr, clk := newRecTransport(), newManualClock()
			d := NewDiscovery(DiscoveryConfig{Self: "me"}, tr, clk)
			g := NewGossip(GossipConfig{Self: "me"}, tr, clk)
			for _, e := range []Protocol{d, g} {
				e.LinkUp(LinkInfo{ID: "bad", Host: "h", Port: 1})
				e.LinkUp(LinkInfo{ID: "good", Host: "h", Port: 2})
				e.Frame("bad", frame)
			}
			require.Equal(t, map[PeerID]int{"bad": 2}, tr.closedPeers())
		})
	}
	t.Run("flood", func(t *testing.T) {
		tr, clk := newRecTransport(), newManualClock()
		d := NewDiscovery(DiscoveryConfig{Self: "me", FramesPerSecond: 10}, tr, clk)
		d.LinkUp(LinkInfo{ID: "bad", Host: "h", Port: 1})
		d.LinkUp(LinkInfo{ID: "good", Host: "h", Port: 2})
		for i := 0; i < 11; i++ {
			d.Frame("bad", encodePex(pexMsg{typ: pexDegree, degree: 3}))
		}
		for i := 0; i < 10; i++ {
			d.Frame("good", encodePex(pexMsg{typ: pexDegree, degree: 3}))
			clk.advance(200 * time.Millisecond)
		}
		require.Equal(t, map[PeerID]int{"bad": 1}, tr.closedPeers())
	})
}

// IHAVE floods cannot grow the missing set past its bound.
func TestMissingBounded(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	g := NewGossip(GossipConfig{Self: "me", MaxMissing: 100}, tr, clk)
	g.LinkUp(LinkInfo{ID: "p"})
	for i := 0; i < 20; i++ {
		ids := make([]MessageID, MaxIDs)
		for j := range ids {
			ids[j][0], ids[j][1], ids[j][2] = byte(i), byte(j), byte(j>>8)
		}
		g.Frame("p", encodeGossip(gossipMsg{typ: gsIHave, ids: ids, idHops: make([]int, len(ids))}))
	}
	require.Equal(t, 100, g.Stats().Missing)
	clk.advance(time.Hour)
	g.Tick() // graft each from p
	clk.advance(time.Hour)
	g.Tick() // p exhausted: given up
	require.Zero(t, g.Stats().Missing)
}

// A peer whose queue is full never blocks the engine or the other peers;
// what its queue refused waits in its bounded backlog and reaches it, in
// order, once its queue has room (Tick).
func TestSlowPeerDoesNotHoldOthers(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	g := NewGossip(GossipConfig{Self: "me"}, tr, clk)
	for _, p := range []PeerID{"a", "b", "slow"} {
		g.LinkUp(LinkInfo{ID: p})
	}
	tr.full["slow"] = true
	for i := 0; i < 1000; i++ {
		_, err := g.Publish("t", []byte("x"))
		require.NoError(t, err)
	}
	require.Len(t, tr.sent["a"], 1000)
	require.Len(t, tr.sent["b"], 1000)
	require.Equal(t, uint64(1), g.Stats().SendFailed, "after one refusal the rest queue behind it, untried")
	g.Tick()
	require.Empty(t, tr.sent["slow"], "still full")
	tr.mu.Lock()
	tr.full["slow"] = false
	tr.mu.Unlock()
	g.Tick()
	require.Equal(t, tr.sent["a"], tr.sent["slow"], "every push made up for, in order")
	require.Equal(t, uint64(1000), g.Stats().Resent)

	// The backlog is bounded: past MaxBacklog the oldest are given up.
	g2 := NewGossip(GossipConfig{Self: "me", MaxBacklog: 10}, tr, clk)
	g2.LinkUp(LinkInfo{ID: "slow"})
	tr.full["slow"] = true
	for i := 0; i < 25; i++ {
		_, err := g2.Publish("t", []byte("x"))
		require.NoError(t, err)
	}
	require.Equal(t, uint64(15), g2.Stats().BacklogDropped)
}

func TestPublishAndSubscribeValidate(t *testing.T) {
	g := NewGossip(GossipConfig{Self: "me"}, newRecTransport(), newManualClock())
	_, err := g.Publish("", nil)
	require.Error(t, err)
	_, err = g.Publish("t", make([]byte, MaxData+1))
	require.Error(t, err)
	require.Error(t, g.Subscribe(string(make([]byte, MaxTopicLen+1))))
}

// The bootstrap, full, redirects a newcomer with addresses instead of keeping it.
func TestFullNodeRedirects(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	d := NewDiscovery(DiscoveryConfig{Self: "boot", Low: 2, High: 3}, tr, clk)
	d.Discover(2) // redirecting is part of managing links
	for i := 0; i < 3; i++ {
		d.LinkUp(LinkInfo{ID: PeerID(fmt.Sprint("p", i)), Host: "h", Port: uint16(10 + i), Inbound: true})
	}
	d.LinkUp(LinkInfo{ID: "new", Host: "h", Port: 99, Inbound: true})
	require.Equal(t, 3, d.Degree())
	require.Equal(t, map[PeerID]int{"new": 1}, tr.closedPeers())
	m, err := decodePex(tr.sent["new"][0])
	require.NoError(t, err)
	require.True(t, m.redirect)
	require.Len(t, m.peers, 3)
}

// Above the high mark the engine prunes the peer with most links, never one
// for which it may be the only link.
func TestPruneSparesOnlyLinks(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	d := NewDiscovery(DiscoveryConfig{Self: "me", Low: 2, High: 3}, tr, clk)
	d.Discover(2)
	degrees := map[PeerID]int{"lonely": 1, "small": 2, "big": 9, "mid": 5}
	for id := range degrees {
		d.LinkUp(LinkInfo{ID: id, Host: "h", Port: 1})
	}
	for id, deg := range degrees {
		d.Frame(id, encodePex(pexMsg{typ: pexDegree, degree: deg}))
	}
	clk.advance(time.Minute)
	d.Tick()
	require.Equal(t, map[PeerID]int{"big": 1}, tr.closedPeers())
	d.LinkDown("big")
	d.Frame("mid", encodePex(pexMsg{typ: pexDegree, degree: 1}))
	d.Tick() // 3 links is not above the mark
	require.Equal(t, map[PeerID]int{"big": 1}, tr.closedPeers())
}

// GRAFTs for stored messages are answered up to a budget, so a peer cannot
// turn small GRAFT frames into a flood of large resends.
func TestGraftFloodNotAmplified(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	g := NewGossip(GossipConfig{Self: "me", GraftsPerSecond: 10}, tr, clk)
	g.LinkUp(LinkInfo{ID: "p"})
	id, err := g.Publish("t", make([]byte, 1000))
	require.NoError(t, err)
	ids := make([]MessageID, MaxIDs)
	for i := range ids {
		ids[i] = id
	}
	for i := 0; i < 10; i++ {
		g.Frame("p", encodeGossip(gossipMsg{typ: gsGraft, ids: ids}))
	}
	require.Len(t, tr.sent["p"], 1+10, "the publish and ten resends")
	require.Empty(t, tr.closedPeers())
}
