package overlay

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A node that unsubscribes stops getting deliveries but still relays, and
// the delivery carries the link, topic, origin and data.
func TestUnsubscribedNodeStillRelays(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	var got []Delivery
	g := NewGossip(GossipConfig{Self: "me", Deliver: func(d Delivery) { got = append(got, d) }}, tr, clk)
	g.LinkUp(LinkInfo{ID: "in"})
	g.LinkUp(LinkInfo{ID: "out"})
	require.NoError(t, g.Subscribe("chat"))
	msg := func(id byte) []byte {
		return encodeGossip(gossipMsg{typ: gsGossip, id: MessageID{id}, hops: 2, topic: "chat", origin: "far", data: []byte{id}})
	}
	g.Frame("in", msg(1))
	require.Equal(t, []Delivery{{From: "in", Topic: "chat", Origin: "far", Data: []byte{1}, ID: MessageID{1}, Hops: 3}}, got)
	g.Unsubscribe("chat")
	g.Frame("in", msg(2))
	require.Len(t, got, 1, "no delivery after Unsubscribe")
	require.Len(t, tr.sent["out"], 2, "both relayed")
	require.Empty(t, tr.sent["in"], "never back to the link it came on")
	m, err := decodeGossip(tr.sent["out"][1])
	require.NoError(t, err)
	require.Equal(t, 3, m.hops)

	// A duplicate is neither delivered nor relayed again; it prunes the
	// link it came on, which never brought a first copy.
	require.NoError(t, g.Subscribe("chat"))
	g.Frame("out", msg(1))
	require.Len(t, got, 1)
	require.Len(t, tr.sent["out"], 3)
	require.Equal(t, encodeGossip(gossipMsg{typ: gsPrune}), tr.sent["out"][2])
	require.Empty(t, tr.sent["in"])
}

// Our own message coming back is never delivered to us.
func TestOriginNeverDelivered(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	var got int
	g := NewGossip(GossipConfig{Self: "me", Deliver: func(Delivery) { got++ }}, tr, clk)
	g.LinkUp(LinkInfo{ID: "p"})
	require.NoError(t, g.Subscribe("chat"))
	_, err := g.Publish("chat", []byte("hi"))
	require.NoError(t, err)
	g.Frame("p", tr.sent["p"][0])
	g.Frame("p", encodeGossip(gossipMsg{typ: gsGossip, id: MessageID{7}, topic: "chat", origin: "me"}))
	require.Zero(t, got)
}

// A message at the hop limit is delivered but not relayed.
func TestHopLimit(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	var got int
	g := NewGossip(GossipConfig{Self: "me", MaxHops: 4, Deliver: func(Delivery) { got++ }}, tr, clk)
	g.LinkUp(LinkInfo{ID: "in"})
	g.LinkUp(LinkInfo{ID: "out"})
	require.NoError(t, g.Subscribe("chat"))
	g.Frame("in", encodeGossip(gossipMsg{typ: gsGossip, id: MessageID{1}, hops: 3, topic: "chat", origin: "far"}))
	require.Equal(t, 1, got)
	require.Empty(t, tr.sent["out"])
}

// A new link hears of the recent messages we hold (catch-up), so a node
// whose link was still coming up when one was published can graft it; an
// old one is not announced.
func TestNewLinkHearsOfRecentMessages(t *testing.T) {
	tr, clk := newRecTransport(), newManualClock()
	g := NewGossip(GossipConfig{Self: "me", Deliver: func(Delivery) {}}, tr, clk)
	old, err := g.Publish("chat", []byte("old"))
	require.NoError(t, err)
	clk.advance(catchUpWindow + time.Second)
	recent, err := g.Publish("chat", []byte("recent"))
	require.NoError(t, err)
	g.LinkUp(LinkInfo{ID: "late"})
	clk.advance(time.Second)
	g.Tick()
	require.Len(t, tr.sent["late"], 1, "one IHAVE batch")
	m, err := decodeGossip(tr.sent["late"][0])
	require.NoError(t, err)
	require.EqualValues(t, gsIHave, m.typ)
	require.Equal(t, []MessageID{recent}, m.ids)
	require.NotContains(t, m.ids, old)
}
