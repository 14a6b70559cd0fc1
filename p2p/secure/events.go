package secure

import (
	"errors"

	"github.com/p2pnode/p2pnode/p2p"
)

// One function for every event of a secure node, as p2p.NewWithCallback
// gives a p2p node, and the pull API on top of it: the secure node's own
// events (EventSecureMessage, EventMessageRejected, EventDiscoveryAnswer)
// are p2p.Events whose Ext is an *EventInfo, so that they travel through
// the core's queue (p2p.Node.Park, Poll) and the C ABI like the core's.

// EventInfo is what a secure node's own event carries in p2p.Event.Ext
// beyond its payload (Message).
type EventInfo struct {
	// SenderID is the message's _id: for a rejection, the _id it claims.
	SenderID string
	// MsgType is the message's _type ("" for a rejection).
	MsgType string
	// Reject is the ReasonCode of a rejection (0 otherwise), Reason its text.
	Reject int
	Reason string
	// Nodes are a discovery answer's entries.
	Nodes []NodeInfo
}

// Info returns the EventInfo of a secure node's own event, or nil.
func Info(ev *p2p.Event) *EventInfo {
	i, _ := ev.Ext.(*EventInfo)
	return i
}

// NewWithCallback creates a secure node that hands every event, the core's
// and its own, to fn (see EventInfo). fn runs on the node's event
// goroutine; its result answers EventReconnectionError.
func NewWithCallback(cfg Config, key *Key, fn p2p.HandlerFunc) (*Node, error) {
	h := &eventFunc{fn: fn}
	n, err := New(cfg, key, h)
	if err != nil {
		return nil, err
	}
	h.node = n.P2P()
	return n, nil
}

// NewPolling creates a secure node whose events, the core's and its own,
// wait for the p2p node's Poll (see p2p.NewPolling).
func NewPolling(cfg Config, key *Key) (*Node, error) {
	var p *p2p.Node
	n, err := NewWithCallback(cfg, key, func(ev *p2p.Event) bool { return p.Park(ev) })
	if err != nil {
		return nil, err
	}
	p = n.P2P()
	if err := p.EnablePolling(); err != nil {
		return nil, err
	}
	return n, nil
}

// eventFunc is the Handler of NewWithCallback.
type eventFunc struct {
	node *p2p.Node // set once the node is made, before it starts
	fn   p2p.HandlerFunc
}

func (h *eventFunc) deliver(ev p2p.Event) bool {
	ev.Node = h.node
	return h.fn(&ev)
}

func (h *eventFunc) peerEvent(t p2p.EventType, p *p2p.Peer) {
	ev := p2p.Event{Type: t, Peer: p}
	if t == p2p.EventInboundDisconnected || t == p2p.EventOutboundDisconnected {
		// The secure layer's handler gets the peer only: its counters are
		// final once it has gone.
		c := p.Counters()
		ev.Counters = &c
	}
	h.deliver(ev)
}

func (h *eventFunc) OutboundNodeConnected(p *p2p.Peer) { h.peerEvent(p2p.EventOutboundConnected, p) }
func (h *eventFunc) InboundNodeConnected(p *p2p.Peer)  { h.peerEvent(p2p.EventInboundConnected, p) }
func (h *eventFunc) OutboundNodeDisconnected(p *p2p.Peer) {
	h.peerEvent(p2p.EventOutboundDisconnected, p)
}
func (h *eventFunc) InboundNodeDisconnected(p *p2p.Peer) {
	h.peerEvent(p2p.EventInboundDisconnected, p)
}
func (h *eventFunc) NodeDisconnectWithOutboundNode(p *p2p.Peer) {
	h.peerEvent(p2p.EventDisconnectWithOutbound, p)
}
func (h *eventFunc) NodeRequestToStop() { h.deliver(p2p.Event{Type: p2p.EventRequestToStop}) }

func (h *eventFunc) NodeReconnectionError(host string, port, trials int) bool {
	return h.deliver(p2p.Event{Type: p2p.EventReconnectionError, Host: host, Port: port, Trials: trials})
}

func (h *eventFunc) NodeSecureMessage(p *p2p.Peer, m *Message) {
	h.deliver(p2p.Event{Type: EventSecureMessage, Peer: p, Message: p2p.Message{Kind: p2p.KindJSON, Data: m.Payload},
		Ext: &EventInfo{SenderID: m.ID, MsgType: m.Type}})
}

func (h *eventFunc) NodeMessageRejected(p *p2p.Peer, raw p2p.Message, reason error) {
	info := &EventInfo{Reject: ReasonCode(reason), Reason: reason.Error()}
	var r *Rejection
	if errors.As(reason, &r) {
		info.SenderID = r.ClaimedID
	}
	h.deliver(p2p.Event{Type: EventMessageRejected, Peer: p, Message: raw, Ext: info})
}

func (h *eventFunc) NodeDiscoveryAnswer(p *p2p.Peer, a *DiscoveryAnswer) {
	h.deliver(p2p.Event{Type: EventDiscoveryAnswer, Peer: p,
		Message: p2p.Message{Kind: p2p.KindJSON, Data: a.Message.Payload},
		Ext:     &EventInfo{SenderID: a.Message.ID, MsgType: a.Message.Type, Nodes: a.Nodes}})
}
