using System;

namespace P2PNode
{
    /// <summary>An event about one peer: connected, disconnected, or being dropped.</summary>
    public class PeerEventArgs : EventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public PeerEventArgs(Peer peer) => Peer = peer;
        /// <summary>The peer the event is about (for secure messages: the neighbour it came from).</summary>
        public Peer Peer { get; }
    }

    /// <summary>A message received from a peer (p2pnetwork's node_message).</summary>
    public class MessageEventArgs : PeerEventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public MessageEventArgs(Peer peer, Message message) : base(peer) => Message = message;
        /// <summary>The message.</summary>
        public Message Message { get; }
    }

    /// <summary>A lost peer is about to be dialled again (node_reconnection_error); set <see cref="Reconnect"/> to false to give up.</summary>
    public class ReconnectionErrorEventArgs : EventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public ReconnectionErrorEventArgs(string host, int port, int trials)
        {
            Host = host;
            Port = port;
            Trials = trials;
        }
        /// <summary>The lost peer's host.</summary>
        public string Host { get; }
        /// <summary>The lost peer's port.</summary>
        public int Port { get; }
        /// <summary>Attempts so far, from 1.</summary>
        public int Trials { get; }
        /// <summary>The answer: true (the default) dials again, false forgets the peer.</summary>
        public bool Reconnect { get; set; } = true;
    }

    /// <summary>A signed message received by a <see cref="SecureNode"/>.</summary>
    public class SecureMessageEventArgs : PeerEventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public SecureMessageEventArgs(Peer peer, SecureMessage message) : base(peer) => Message = message;
        /// <summary>The message.</summary>
        public SecureMessage Message { get; }
    }

    /// <summary>A message a <see cref="SecureNode"/> refused: its bytes and why.</summary>
    public class MessageRejectedEventArgs : PeerEventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public MessageRejectedEventArgs(Peer peer, Message raw, Reject reject, string reason) : base(peer)
        {
            Raw = raw;
            Reject = reject;
            Reason = reason;
        }
        /// <summary>The payload that was refused, as received.</summary>
        public Message Raw { get; }
        /// <summary>The check it failed.</summary>
        public Reject Reject { get; }
        /// <summary>Why, in a sentence for people.</summary>
        public string Reason { get; }
    }

    /// <summary>An answer to a discovery, received by a <see cref="SecureNode"/>.</summary>
    public class DiscoveryAnswerEventArgs : PeerEventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public DiscoveryAnswerEventArgs(Peer peer, DiscoveryAnswer answer) : base(peer) => Answer = answer;
        /// <summary>The answer (<see cref="PeerEventArgs.Peer"/> is the neighbour that relayed it).</summary>
        public DiscoveryAnswer Answer { get; }
    }
}
