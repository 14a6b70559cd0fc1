using P2PNode.Native;

namespace P2PNode
{
    /// <summary>
    /// Counters of a node, or of one peer (<see cref="Node.CountersOf"/>): p2pnetwork's
    /// message_count_send/recv/rerr and what became of every message accepted. Delivery
    /// is at most once per link, in order: Accepted == Written + DroppedOverflow +
    /// DroppedLinkLost + DroppedStop + Queued (see p2p_counters in p2pnode.h).
    /// </summary>
    public struct NodeCounters
    {
        internal NodeCounters(P2PCounters c)
            : this()
        {
            Sent = c.sent;
            Received = c.received;
            ReceiveErrors = c.receive_errors;
            Accepted = c.accepted;
            AcceptedBytes = c.accepted_bytes;
            Written = c.written;
            WrittenBytes = c.written_bytes;
            Queued = c.queued;
            QueuedBytes = c.queued_bytes;
            DroppedOverflow = c.dropped_overflow;
            DroppedLinkLost = c.dropped_link_lost;
            DroppedStop = c.dropped_stop;
            DroppedBytes = c.dropped_bytes;
            Refused = c.refused;
            ReceivedBytes = c.received_bytes;
            Evicted = c.evicted;
            HandshakesEvicted = c.handshakes_evicted;
            Rejected = c.rejected;
            OverMemory = c.over_memory;
            Stalled = c.stalled;
        }

        /// <summary>Messages accepted for peers (a broadcast counts once per peer): Accepted.</summary>
        public ulong Sent { get; private set; }

        /// <summary>Frames received.</summary>
        public ulong Received { get; private set; }

        /// <summary>Frames that could not be decoded or were over a limit.</summary>
        public ulong ReceiveErrors { get; private set; }

        /// <summary>Messages sends took.</summary>
        public ulong Accepted { get; private set; }

        /// <summary>Their bytes on the wire.</summary>
        public ulong AcceptedBytes { get; private set; }

        /// <summary>Messages handed whole to the socket.</summary>
        public ulong Written { get; private set; }

        /// <summary>Their bytes.</summary>
        public ulong WrittenBytes { get; private set; }

        /// <summary>Messages waiting to be written now.</summary>
        public ulong Queued { get; private set; }

        /// <summary>Their bytes.</summary>
        public ulong QueuedBytes { get; private set; }

        /// <summary>Accepted messages dropped because the peer did not keep up.</summary>
        public ulong DroppedOverflow { get; private set; }

        /// <summary>Accepted messages still queued when the connection broke.</summary>
        public ulong DroppedLinkLost { get; private set; }

        /// <summary>Accepted messages stop or disconnect could not write within the stop timeout.</summary>
        public ulong DroppedStop { get; private set; }

        /// <summary>The bytes of the three drops.</summary>
        public ulong DroppedBytes { get; private set; }

        /// <summary>Messages a send did not take because a queue was full.</summary>
        public ulong Refused { get; private set; }

        /// <summary>Bytes of the frames received.</summary>
        public ulong ReceivedBytes { get; private set; }

        /// <summary>Established inbound peers whose slot went to a new peer (on a peer: 1 if it was).</summary>
        public ulong Evicted { get; private set; }

        /// <summary>Handshakes under way closed for newer ones (node only).</summary>
        public ulong HandshakesEvicted { get; private set; }

        /// <summary>Inbound connections closed: every slot taken, none evictable (node only).</summary>
        public ulong Rejected { get; private set; }

        /// <summary>Connections closed for going over the pending-bytes caps (on a peer: 1 if it was).</summary>
        public ulong OverMemory { get; private set; }

        /// <summary>Peers disconnected for staying full without progress (on a peer: 1 if it was).</summary>
        public ulong Stalled { get; private set; }

        /// <inheritdoc />
        public override string ToString()
        {
            return string.Format("sent {0}, received {1}, receive errors {2}, written {3}, queued {4}, dropped {5}",
                Sent, Received, ReceiveErrors, Written, Queued, DroppedOverflow + DroppedLinkLost + DroppedStop);
        }
    }
}
