namespace P2PNode
{
    /// <summary>Message counters of a node (p2pnetwork's message_count_send/recv/rerr).</summary>
    public struct NodeCounters
    {
        internal NodeCounters(ulong sent, ulong received, ulong receiveErrors)
            : this()
        {
            Sent = sent;
            Received = received;
            ReceiveErrors = receiveErrors;
        }

        /// <summary>Frames queued to peers (a broadcast counts once per peer).</summary>
        public ulong Sent { get; private set; }

        /// <summary>Frames received.</summary>
        public ulong Received { get; private set; }

        /// <summary>Frames that could not be decoded or were over a limit.</summary>
        public ulong ReceiveErrors { get; private set; }

        /// <inheritdoc />
        public override string ToString()
        {
            return string.Format("sent {0}, received {1}, receive errors {2}", Sent, Received, ReceiveErrors);
        }
    }
}
