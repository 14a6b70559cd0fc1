package p2p

import (
	"encoding/json"
	"fmt"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// EventType is one of the eight events of p2pnetwork.
type EventType int

// The events, in the order of the C ABI's P2P_EVENT_* constants.
const (
	EventOutboundConnected EventType = iota + 1
	EventInboundConnected
	EventOutboundDisconnected
	EventInboundDisconnected
	EventMessage
	EventDisconnectWithOutbound
	EventRequestToStop
	EventReconnectionError
)

// EventTopicMessage is a publish on a subscribed topic, from the overlay
// (Subscribe, Publish); Peer is the link it arrived on. 12, the C ABI's
// P2P_EVENT_TOPIC_MESSAGE: 9 to 11 are p2p/secure's events.
const EventTopicMessage EventType = 12

var eventNames = [...]string{
	EventOutboundConnected:      "outbound_node_connected",
	EventInboundConnected:       "inbound_node_connected",
	EventOutboundDisconnected:   "outbound_node_disconnected",
	EventInboundDisconnected:    "inbound_node_disconnected",
	EventMessage:                "node_message",
	EventDisconnectWithOutbound: "node_disconnect_with_outbound_node",
	EventRequestToStop:          "node_request_to_stop",
	EventReconnectionError:      "node_reconnection_error",
	EventTopicMessage:           "node_topic_message",
}

// String is the event's name in the reference ("node_message", ...).
func (t EventType) String() string {
	if t > 0 && int(t) < len(eventNames) && eventNames[t] != "" {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Kind tells how a received payload is presented: JSON value, text or bytes.
type Kind = wire.Kind

// The kinds of a received message.
const (
	KindJSON  = wire.KindJSON
	KindText  = wire.KindText
	KindBytes = wire.KindBytes
)

// Compression names a codec for sending; see wire.Compression.
type Compression = wire.Compression

// The codecs: none, or p2pnetwork's zlib, bzip2 and lzma.
const (
	None  = wire.CompressionNone
	Zlib  = wire.CompressionZlib
	Bzip2 = wire.CompressionBzip2
	Lzma  = wire.CompressionLzma
)

// Message is a received payload: its exact bytes, how the reference would
// present them, and the codec it travelled with. Data is never reused by the
// node, so a handler may keep it.
type Message struct {
	Kind        Kind
	Data        []byte
	Compression Compression
}

// Text returns the payload as a string.
func (m Message) Text() string { return string(m.Data) }

// Decode unmarshals a JSON message into v.
func (m Message) Decode(v any) error {
	if err := json.Unmarshal(m.Data, v); err != nil {
		return fmt.Errorf("p2p: decode %v message: %w", m.Kind, err)
	}
	return nil
}

// Value presents the message as the reference does: the decoded JSON value
// (numbers as json.Number), a string, or the bytes.
func (m Message) Value() any {
	switch m.Kind {
	case KindJSON:
		var v any
		dec := json.NewDecoder(bytesReader(m.Data))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			return v
		}
		return string(m.Data)
	case KindText:
		return string(m.Data)
	}
	return m.Data
}

// Event is one thing that happened on a node, as handed to a HandlerFunc.
type Event struct {
	Type EventType
	Node *Node
	// Peer is the peer concerned; nil for EventRequestToStop and
	// EventReconnectionError.
	Peer *Peer
	// Message is set for EventMessage and EventTopicMessage.
	Message Message
	// Topic and Origin (the id of the node that published it) are set for
	// EventTopicMessage.
	Topic  string
	Origin string
	// Host, Port and Trials are set for EventReconnectionError.
	Host   string
	Port   int
	Trials int
	// Counters is set for EventInboundDisconnected and
	// EventOutboundDisconnected (nil for the others): the peer's final
	// counters, which say what was accepted for it and not written
	// (Dropped*, with why) and whether it was evicted, stalled or over a
	// memory cap. A pointer, so that message events stay small.
	Counters *Counters
	// Ext is what a layer built on the node (the secure node) attaches to
	// its own events, numbered after EventReconnectionError; nil for the
	// core's events.
	Ext any

	byPoller bool // raised by a call of the node's poller (see Poll)
}

// carriesPayload reports whether events of type t carry a Message: the
// core's EventMessage and a layer's own events.
func carriesPayload(t EventType) bool { return t == EventMessage || t > EventReconnectionError }

func disconnectedEvent(t EventType) bool {
	return t == EventInboundDisconnected || t == EventOutboundDisconnected
}

// Handler receives a node's events, one at a time and in order, on the
// node's event goroutine. Embed BaseHandler and override what you need, as
// one subclasses the reference's Node. A handler may call any method of the
// node (send, connect, disconnect, stop) without deadlock.
type Handler interface {
	OutboundNodeConnected(p *Peer)
	InboundNodeConnected(p *Peer)
	OutboundNodeDisconnected(p *Peer)
	InboundNodeDisconnected(p *Peer)
	NodeMessage(p *Peer, m Message)
	// NodeDisconnectWithOutboundNode is raised when the application asked to
	// drop an outbound peer, before the connection closes.
	NodeDisconnectWithOutboundNode(p *Peer)
	// NodeRequestToStop is raised when Stop is called, while the peers are
	// still connected (a last chance to say goodbye).
	NodeRequestToStop()
	// NodeReconnectionError asks whether a lost peer that was connected with
	// reconnect is dialled again; trials counts the attempts so far.
	NodeReconnectionError(host string, port, trials int) bool
}

// TopicHandler is implemented by a Handler that receives the topic
// messages of the overlay (EventTopicMessage): p is the link the message
// arrived on, origin the id of the node that published it.
type TopicHandler interface {
	NodeTopicMessage(p *Peer, topic, origin string, m Message)
}

// BaseHandler ignores every event and keeps reconnecting, as the reference's
// Node does. Embed it to override only some events.
type BaseHandler struct{}

func (BaseHandler) OutboundNodeConnected(*Peer)                     {}
func (BaseHandler) InboundNodeConnected(*Peer)                      {}
func (BaseHandler) OutboundNodeDisconnected(*Peer)                  {}
func (BaseHandler) InboundNodeDisconnected(*Peer)                   {}
func (BaseHandler) NodeMessage(*Peer, Message)                      {}
func (BaseHandler) NodeDisconnectWithOutboundNode(*Peer)            {}
func (BaseHandler) NodeRequestToStop()                              {}
func (BaseHandler) NodeReconnectionError(string, int, int) bool     { return true }
func (BaseHandler) NodeTopicMessage(*Peer, string, string, Message) {}

// BatchHandler is implemented by a Handler that takes its messages in
// batches: NodeMessages then receives every EventMessage in place of
// NodeMessage, as many at once as a peer's reader had ready (up to a
// thousand or more), in order, on the event goroutine, between the node's
// other events as they happened. The slice
// and the events in it belong to the node and are reused once
// NodeMessages returns: keep what you need (a Message's Data may be kept,
// it is never reused). A panic in NodeMessages is reported and costs the
// rest of that batch. Topic messages keep their own method (TopicHandler).
type BatchHandler interface {
	NodeMessages(evs []Event)
}

// BatchFunc is BatchHandler's method as a function, for a node made with
// NewWithCallback (see Node.SetBatchFunc): every ev.Type is EventMessage.
type BatchFunc func(evs []Event)

// HandlerFunc receives every event through one function, as the
// reference's callback does. Its result answers EventReconnectionError and is
// ignored for the others.
type HandlerFunc func(ev *Event) bool

// deliver hands ev to h and returns the handler's answer (meaningful for
// EventReconnectionError only).
func deliver(h Handler, fn HandlerFunc, ev *Event) bool {
	if fn != nil {
		return fn(ev)
	}
	switch ev.Type {
	case EventOutboundConnected:
		h.OutboundNodeConnected(ev.Peer)
	case EventInboundConnected:
		h.InboundNodeConnected(ev.Peer)
	case EventOutboundDisconnected:
		h.OutboundNodeDisconnected(ev.Peer)
	case EventInboundDisconnected:
		h.InboundNodeDisconnected(ev.Peer)
	case EventMessage:
		h.NodeMessage(ev.Peer, ev.Message)
	case EventDisconnectWithOutbound:
		h.NodeDisconnectWithOutboundNode(ev.Peer)
	case EventRequestToStop:
		h.NodeRequestToStop()
	case EventReconnectionError:
		return h.NodeReconnectionError(ev.Host, ev.Port, ev.Trials)
	case EventTopicMessage:
		if th, ok := h.(TopicHandler); ok {
			th.NodeTopicMessage(ev.Peer, ev.Topic, ev.Origin, ev.Message)
		}
	}
	return true
}
