package overlay

import (
	"bytes"
	"testing"
)

func pexSeeds() [][]byte {
	return [][]byte{
		encodePex(pexMsg{typ: pexDegree, degree: 7}),
		encodePex(pexMsg{typ: pexAsk, want: MaxPeerList}),
		encodePex(pexMsg{typ: pexPeers}),
		encodePex(pexMsg{typ: pexPeers, redirect: true, peers: []PeerRecord{
			{ID: "node-a", Addr: Addr{"127.0.0.1", 8001}}, {ID: "node-b", Addr: Addr{"example.org", 65535}}}}),
		{Version, 9}, {}, {Version, pexPeers, 2, 0},
	}
}

func gossipSeeds() [][]byte {
	return [][]byte{
		encodeGossip(gossipMsg{typ: gsGossip, id: MessageID{1, 2, 3}, hops: 3, topic: "chat", origin: "node-a", data: []byte("hello")}),
		encodeGossip(gossipMsg{typ: gsGossip, id: MessageID{9}, topic: "t", origin: "o"}),
		encodeGossip(gossipMsg{typ: gsIHave, ids: []MessageID{{1}, {2}}, idHops: []int{1, 7}}),
		encodeGossip(gossipMsg{typ: gsGraft, ids: []MessageID{{3}}}),
		encodeGossip(gossipMsg{typ: gsPrune}),
		{Version, gsIHave, 0xff, 0xff, 0xff, 0xff, 0x0f}, {Version},
	}
}

// FuzzDecodePex: the decoder never panics, never accepts more than its
// bounds, and what it accepts re-encodes to something it decodes the same.
func FuzzDecodePex(f *testing.F) {
	for _, s := range pexSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodePex(b)
		if err != nil {
			return
		}
		if len(m.peers) > MaxPeerList {
			t.Fatalf("%d peers accepted", len(m.peers))
		}
		again, err := decodePex(encodePex(m))
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !bytes.Equal(encodePex(again), encodePex(m)) {
			t.Fatal("re-encoding changed the message")
		}
	})
}

// FuzzDecodeGossip: as FuzzDecodePex, for the gossip frames.
func FuzzDecodeGossip(f *testing.F) {
	for _, s := range gossipSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeGossip(b)
		if err != nil {
			return
		}
		if len(m.ids) > MaxIDs || len(m.data) > MaxData || len(m.topic) > MaxTopicLen {
			t.Fatal("a bound was not enforced")
		}
		again, err := decodeGossip(encodeGossip(m))
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !bytes.Equal(encodeGossip(again), encodeGossip(m)) {
			t.Fatal("re-encoding changed the message")
		}
	})
}

// The engines themselves survive any frame: feeding fuzz input to a live
// engine never panics, and at worst closes the sender.
func FuzzEngines(f *testing.F) {
	for _, s := range append(pexSeeds(), gossipSeeds()...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, clk := newRecTransport(), newManualClock()
		d := NewDiscovery(DiscoveryConfig{Self: "me"}, tr, clk)
		g := NewGossip(GossipConfig{Self: "me", Deliver: func(Delivery) {}}, tr, clk)
		_ = g.Subscribe("chat")
		d.Discover(2)
		for _, e := range []Protocol{d, g} {
			e.LinkUp(LinkInfo{ID: "p", Host: "h", Port: 1})
			e.Frame("p", b)
			e.Tick()
		}
	})
}
