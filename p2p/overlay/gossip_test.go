package overlay

import (
	"testing"

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
