package p2p

import "sync/atomic"

// Counters tell what became of the messages given to a node or a peer. A
// message counts once per peer it is for (a broadcast to ten peers is ten
// messages), and its bytes are its bytes on the wire, EOT included.
//
// The delivery guarantee is at most once per link, in order: a message
// accepted for a peer is written to that peer's connection once, after the
// messages accepted for it before, or dropped. Every accepted message ends
// in exactly one of Written, a Dropped* counter, or (while it waits) Queued:
//
//	Accepted = Written + DroppedOverflow + DroppedLinkLost + DroppedStop + Queued
//
// and the same for the bytes. Written means handed whole to the operating
// system's socket: TCP does not say whether the other side read it, so a
// message written just before the link breaks may still be lost, and no
// counter here can tell. A send that fails (ErrQueueFull and the like) did
// not accept its message; full queues count such refusals in Refused.
type Counters struct {
	// Accepted and AcceptedBytes count the messages sends took.
	Accepted, AcceptedBytes uint64
	// Written and WrittenBytes count the messages handed whole to the socket.
	Written, WrittenBytes uint64
	// Queued and QueuedBytes are what waits to be written now (including
	// what is being written).
	Queued, QueuedBytes uint64
	// DroppedOverflow counts accepted messages discarded because the peer
	// did not keep up: OverflowDropOldest, OverflowDisconnect, or a peer
	// disconnected for staying full without progress.
	DroppedOverflow uint64
	// DroppedLinkLost counts accepted messages still queued when the
	// connection broke (reset, write error, the peer went away).
	DroppedLinkLost uint64
	// DroppedStop counts accepted messages that Stop or Disconnect could not
	// write within StopTimeout.
	DroppedStop uint64
	// DroppedBytes is the wire size of every dropped message.
	DroppedBytes uint64
	// Refused counts messages a send did not take because a queue was full
	// (the send returned ErrQueueFull, or a broadcast skipped the peer).
	Refused uint64

	// Received, ReceivedBytes and ReceiveErrors count frames read from the
	// peer (or all peers): every complete frame, its bytes with EOT, and the
	// frames that could not be decoded or were over a size limit.
	Received, ReceivedBytes, ReceiveErrors uint64

	// The node's connection management; zero on a peer's counters except
	// where said.
	//
	// Evicted counts established inbound peers whose slot went to a new
	// peer (see Config.MaxConnections); on a peer, 1 if it was.
	Evicted uint64
	// HandshakesEvicted counts handshakes under way closed to make room for
	// newer ones (Limits.MaxPendingHandshakes).
	HandshakesEvicted uint64
	// Rejected counts inbound connections closed because MaxConnections was
	// reached and no peer could be evicted.
	Rejected uint64
	// OverMemory counts connections closed for going over MaxPendingBytes or
	// MaxPendingBytesPerAddress; on a peer, 1 if it was.
	OverMemory uint64
	// Stalled counts peers disconnected for staying full while nothing could
	// be written to them for SendTimeout; on a peer, 1 if it was.
	Stalled uint64
}

// Dropped is the sum of the Dropped* message counters.
func (c Counters) Dropped() uint64 { return c.DroppedOverflow + c.DroppedLinkLost + c.DroppedStop }

// DropReason is why accepted messages were dropped.
type DropReason int

const (
	// DropOverflow: the peer did not keep up (see Counters.DroppedOverflow).
	DropOverflow DropReason = iota
	// DropLinkLost: the connection broke with messages still queued.
	DropLinkLost
	// DropStop: Stop or Disconnect could not write them within StopTimeout.
	DropStop
)

func (r DropReason) String() string {
	switch r {
	case DropOverflow:
		return "overflow"
	case DropLinkLost:
		return "link lost"
	case DropStop:
		return "stop"
	}
	return "unknown"
}

// counterSet holds the counters updated atomically: those of the read
// side and of connection management.
type counterSet struct {
	refused                                atomic.Uint64
	received, receivedBytes, receiveErrors atomic.Uint64
	evicted, handshakesEvicted, rejected   atomic.Uint64
	overMemory, stalled                    atomic.Uint64
}

func (s *counterSet) into(c *Counters) {
	c.Refused = s.refused.Load()
	c.Received, c.ReceivedBytes, c.ReceiveErrors = s.received.Load(), s.receivedBytes.Load(), s.receiveErrors.Load()
	c.Evicted, c.HandshakesEvicted, c.Rejected = s.evicted.Load(), s.handshakesEvicted.Load(), s.rejected.Load()
	c.OverMemory, c.Stalled = s.overMemory.Load(), s.stalled.Load()
}

// sendCounts are a peer's send-side counters, kept under its queue's lock
// (no atomic on the hot path); the node adds those of the peers it has lost
// to its own.
type sendCounts struct {
	accepted, acceptedBytes                uint64
	written, writtenBytes                  uint64
	droppedOverflow, droppedLink, droppedS uint64
	droppedBytes                           uint64
}

func (s *sendCounts) add(o *sendCounts) {
	s.accepted += o.accepted
	s.acceptedBytes += o.acceptedBytes
	s.written += o.written
	s.writtenBytes += o.writtenBytes
	s.droppedOverflow += o.droppedOverflow
	s.droppedLink += o.droppedLink
	s.droppedS += o.droppedS
	s.droppedBytes += o.droppedBytes
}

func (s *sendCounts) drop(reason DropReason, msgs, bytes uint64) {
	switch reason {
	case DropOverflow:
		s.droppedOverflow += msgs
	case DropLinkLost:
		s.droppedLink += msgs
	default:
		s.droppedS += msgs
	}
	s.droppedBytes += bytes
}

// into fills the send side of c, Queued included.
func (s *sendCounts) into(c *Counters) {
	c.Accepted, c.AcceptedBytes = s.accepted, s.acceptedBytes
	c.Written, c.WrittenBytes = s.written, s.writtenBytes
	c.DroppedOverflow, c.DroppedLinkLost, c.DroppedStop = s.droppedOverflow, s.droppedLink, s.droppedS
	c.DroppedBytes = s.droppedBytes
	c.Queued = c.Accepted - c.Written - c.Dropped()
	c.QueuedBytes = c.AcceptedBytes - c.WrittenBytes - c.DroppedBytes
}
