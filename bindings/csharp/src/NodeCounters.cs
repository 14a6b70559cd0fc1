using P2PNode.Native;

namespace P2PNode
{
    /// <summary>Counters of a node, or of one peer (<see cref="Node.CountersOf"/>); at most once per link, in order:
    /// Accepted == Written + DroppedOverflow + DroppedLinkLost + DroppedStop + Queued (p2p_stats in p2pnode.h).</summary>
    public struct NodeCounters
    {
        private readonly P2PStats c;
        internal NodeCounters(P2PStats c) => this.c = c;
        /// <summary>Messages accepted for peers, a broadcast once per peer (p2pnetwork's message_count_send).</summary>
        public ulong Sent => c.sent;
        /// <summary>Frames received (message_count_recv).</summary>
        public ulong Received => c.received;
        /// <summary>Frames that could not be decoded or were over a limit (message_count_rerr).</summary>
        public ulong ReceiveErrors => c.receive_errors;
        /// <summary>Messages sends took.</summary>
        public ulong Accepted => c.accepted;
        /// <summary>Their bytes on the wire.</summary>
        public ulong AcceptedBytes => c.accepted_bytes;
        /// <summary>Messages handed whole to the socket.</summary>
        public ulong Written => c.written;
        /// <summary>Their bytes.</summary>
        public ulong WrittenBytes => c.written_bytes;
        /// <summary>Messages waiting to be written now.</summary>
        public ulong Queued => c.queued;
        /// <summary>Their bytes.</summary>
        public ulong QueuedBytes => c.queued_bytes;
        /// <summary>Accepted messages dropped because the peer did not keep up.</summary>
        public ulong DroppedOverflow => c.dropped_overflow;
        /// <summary>Accepted messages still queued when the connection broke.</summary>
        public ulong DroppedLinkLost => c.dropped_link_lost;
        /// <summary>Accepted messages stop or disconnect could not write within the stop timeout.</summary>
        public ulong DroppedStop => c.dropped_stop;
        /// <summary>The bytes of the three drops.</summary>
        public ulong DroppedBytes => c.dropped_bytes;
        /// <summary>Messages a send did not take because a queue was full.</summary>
        public ulong Refused => c.refused;
        /// <summary>Bytes of the frames received.</summary>
        public ulong ReceivedBytes => c.received_bytes;
        /// <summary>Established inbound peers whose slot went to a new peer (on a peer: 1 if it was).</summary>
        public ulong Evicted => c.evicted;
        /// <summary>Handshakes under way closed for newer ones (node only).</summary>
        public ulong HandshakesEvicted => c.handshakes_evicted;
        /// <summary>Inbound connections closed: every slot taken, none evictable (node only).</summary>
        public ulong Rejected => c.rejected;
        /// <summary>Connections closed for going over the pending-bytes caps (on a peer: 1 if it was).</summary>
        public ulong OverMemory => c.over_memory;
        /// <summary>Peers disconnected for staying full without progress (on a peer: 1 if it was).</summary>
        public ulong Stalled => c.stalled;
        /// <inheritdoc />
        public override string ToString() => string.Format("sent {0}, received {1}, receive errors {2}, written {3}, queued {4}, dropped {5}",
            Sent, Received, ReceiveErrors, Written, Queued, DroppedOverflow + DroppedLinkLost + DroppedStop);
    }
}
