using System;
using System.Collections.Generic;

namespace P2PNode
{
    /// <summary>
    /// A signed message that passed every check of a <see cref="SecureNode"/>
    /// (P2P_EVENT_SECURE_MESSAGE): the whole signed JSON object as received.
    /// </summary>
    public sealed class SecureMessage
    {
        /// <summary>Creates a message (mostly for tests; received messages come from the node).</summary>
        public SecureMessage(string senderId, string type, string json, Compression compression)
        {
            if (json == null)
            {
                throw new ArgumentNullException("json");
            }
            SenderId = senderId ?? string.Empty;
            Type = type ?? string.Empty;
            Json = json;
            Compression = compression;
        }

        /// <summary>The signer's node id (_id); not necessarily the neighbour it came from.</summary>
        public string SenderId { get; private set; }

        /// <summary>The message's _type: "message" for <see cref="SecureNode.SendMessage"/>, or the application's own.</summary>
        public string Type { get; private set; }

        /// <summary>
        /// The whole signed JSON object as received, underscore fields included; for type
        /// "message" the application's value is its "message" field.
        /// </summary>
        public string Json { get; private set; }

        /// <summary>The compression the message travelled with.</summary>
        public Compression Compression { get; private set; }

        /// <summary>"type from sender-id".</summary>
        public override string ToString()
        {
            return Type + " from " + SenderId;
        }
    }

    /// <summary>
    /// One node of a <see cref="DiscoveryAnswer"/>: a peer of the node that answered.
    /// </summary>
    public sealed class DiscoveredNode
    {
        /// <summary>Creates an entry.</summary>
        public DiscoveredNode(string id, string host, int port, Direction direction)
        {
            Id = id ?? string.Empty;
            Host = host ?? string.Empty;
            Port = port;
            Direction = direction;
        }

        /// <summary>The peer's node id.</summary>
        public string Id { get; private set; }

        /// <summary>Its address, as the answering node sees it.</summary>
        public string Host { get; private set; }

        /// <summary>Its listening port.</summary>
        public int Port { get; private set; }

        /// <summary>Its direction, seen from the answering node.</summary>
        public Direction Direction { get; private set; }

        /// <summary>"id@host:port/inbound" or ".../outbound".</summary>
        public override string ToString()
        {
            return Id + "@" + Host + ":" + Port + "/" + (Direction == Direction.Inbound ? "inbound" : "outbound");
        }
    }

    /// <summary>
    /// An answer to <see cref="SecureNode.SendDiscovery"/> (P2P_EVENT_DISCOVERY_ANSWER):
    /// who answered, and its peers.
    /// </summary>
    public sealed class DiscoveryAnswer
    {
        /// <summary>Creates an answer (mostly for tests; answers come from the node).</summary>
        public DiscoveryAnswer(string senderId, string type, string json, IList<DiscoveredNode> nodes)
        {
            if (json == null)
            {
                throw new ArgumentNullException("json");
            }
            SenderId = senderId ?? string.Empty;
            Type = type ?? string.Empty;
            Json = json;
            Nodes = new List<DiscoveredNode>(nodes ?? new DiscoveredNode[0]).AsReadOnly();
        }

        /// <summary>The node id of the node that answered (the answer's signer, _id).</summary>
        public string SenderId { get; private set; }

        /// <summary>The answer's _type.</summary>
        public string Type { get; private set; }

        /// <summary>The whole signed answer as received.</summary>
        public string Json { get; private set; }

        /// <summary>The answering node's peers.</summary>
        public IReadOnlyList<DiscoveredNode> Nodes { get; private set; }

        /// <summary>"sender-id: node, node, ...".</summary>
        public override string ToString()
        {
            return SenderId + ": " + string.Join(", ", Nodes);
        }
    }

    /// <summary>A signed message received by a <see cref="SecureNode"/>.</summary>
    public class SecureMessageEventArgs : PeerEventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public SecureMessageEventArgs(Peer peer, SecureMessage message)
            : base(peer)
        {
            Message = message;
        }

        /// <summary>The message (<see cref="PeerEventArgs.Peer"/> is the neighbour it came from).</summary>
        public SecureMessage Message { get; private set; }
    }

    /// <summary>A message a <see cref="SecureNode"/> refused: its bytes and why.</summary>
    public class MessageRejectedEventArgs : PeerEventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public MessageRejectedEventArgs(Peer peer, Message raw, Reject reject, string reason)
            : base(peer)
        {
            Raw = raw;
            Reject = reject;
            Reason = reason;
        }

        /// <summary>The payload that was refused, as received.</summary>
        public Message Raw { get; private set; }

        /// <summary>The check it failed.</summary>
        public Reject Reject { get; private set; }

        /// <summary>Why, in a sentence for people.</summary>
        public string Reason { get; private set; }
    }

    /// <summary>An answer to a discovery, received by a <see cref="SecureNode"/>.</summary>
    public class DiscoveryAnswerEventArgs : PeerEventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public DiscoveryAnswerEventArgs(Peer peer, DiscoveryAnswer answer)
            : base(peer)
        {
            Answer = answer;
        }

        /// <summary>The answer (<see cref="PeerEventArgs.Peer"/> is the neighbour that relayed it).</summary>
        public DiscoveryAnswer Answer { get; private set; }
    }
}
