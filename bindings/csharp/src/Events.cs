using System;
using System.Collections.Generic;
using System.Text;

namespace P2PNode
{
    /// <summary>A received message: its exact bytes, and how p2pnetwork would present them (<see cref="MessageKind"/>).</summary>
    public sealed class Message
    {
        private string text;
        /// <summary>Creates a message (mostly for tests; received messages come from the node).</summary>
        public Message(MessageKind kind, byte[] data, Compression compression) =>
            (Kind, Data, Compression) = (kind, Node.NotNull(data, nameof(data)), compression);
        /// <summary>JSON text, other text, or bytes that are not UTF-8.</summary>
        public MessageKind Kind { get; }
        /// <summary>The compression the message travelled with.</summary>
        public Compression Compression { get; }
        /// <summary>The message's exact bytes (a copy owned by this message; may be empty).</summary>
        public byte[] Data { get; }
        /// <summary>The message as text (JSON text for <see cref="MessageKind.Json"/>); null for <see cref="MessageKind.Bytes"/>.</summary>
        public string Text => Kind == MessageKind.Bytes ? null : text ?? (text = Encoding.UTF8.GetString(Data));
        /// <summary>True when the message is JSON text (p2pnetwork would hand over a dict, list, number...).</summary>
        public bool IsJson => Kind == MessageKind.Json;
        /// <summary>The text, or for bytes a hexadecimal rendering.</summary>
        public override string ToString() => Kind != MessageKind.Bytes ? Text : "bytes[" + Data.Length + "]: " + BitConverter.ToString(Data);
    }

    /// <summary>A signed message that passed every check of a <see cref="SecureNode"/>: the whole signed JSON object as received.</summary>
    public class SecureMessage
    {
        /// <summary>Creates a message (mostly for tests; received messages come from the node).</summary>
        public SecureMessage(string senderId, string type, string json, Compression compression) =>
            (SenderId, Type, Json, Compression) = (senderId ?? "", type ?? "", Node.NotNull(json, nameof(json)), compression);
        /// <summary>The signer's node id (_id); not necessarily the neighbour it came from.</summary>
        public string SenderId { get; }
        /// <summary>The message's _type: "message" for <see cref="SecureNode.SendMessage"/>, or the application's own.</summary>
        public string Type { get; }
        /// <summary>The whole signed JSON object, underscore fields included; for type "message" the value is its "message" field.</summary>
        public string Json { get; }
        /// <summary>The compression the message travelled with.</summary>
        public Compression Compression { get; }
        /// <summary>"type from sender-id".</summary>
        public override string ToString() => Type + " from " + SenderId;
    }

    /// <summary>A node's id and address, as another node reported them (<see cref="Node.KnownPeers"/>).</summary>
    public class KnownPeer
    {
        /// <summary>Creates an entry.</summary>
        public KnownPeer(string id, string host, int port) => (Id, Host, Port) = (id ?? "", host ?? "", port);
        /// <summary>The node's id.</summary>
        public string Id { get; }
        /// <summary>Its address, as the reporting node sees it.</summary>
        public string Host { get; }
        /// <summary>Its listening port.</summary>
        public int Port { get; }
        /// <summary>"id@host:port".</summary>
        public override string ToString() => Id + "@" + Host + ":" + Port;
    }

    /// <summary>One node of a <see cref="DiscoveryAnswer"/>: a peer of the node that answered.</summary>
    public sealed class DiscoveredNode : KnownPeer
    {
        /// <summary>Creates an entry.</summary>
        public DiscoveredNode(string id, string host, int port, Direction direction) : base(id, host, port) => Direction = direction;
        /// <summary>Its direction, seen from the answering node.</summary>
        public Direction Direction { get; }
        /// <summary>"id@host:port/inbound" or ".../outbound".</summary>
        public override string ToString() => base.ToString() + "/" + (Direction == Direction.Inbound ? "inbound" : "outbound");
    }

    /// <summary>An answer to <see cref="SecureNode.SendDiscovery"/>: a signed message (its sender is the node that answered) with that node's peers.</summary>
    public sealed class DiscoveryAnswer : SecureMessage
    {
        /// <summary>Creates an answer (mostly for tests; answers come from the node).</summary>
        public DiscoveryAnswer(string senderId, string type, string json, IList<DiscoveredNode> nodes, Compression compression = Compression.None)
            : base(senderId, type, json, compression) => Nodes = new List<DiscoveredNode>(nodes ?? new DiscoveredNode[0]).AsReadOnly();
        /// <summary>The answering node's peers.</summary>
        public IReadOnlyList<DiscoveredNode> Nodes { get; }
        /// <summary>"sender-id: node, node, ...".</summary>
        public override string ToString() => SenderId + ": " + string.Join(", ", Nodes);
    }

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

    /// <summary>A publish on a topic the node subscribed to (node_topic_message).</summary>
    public class TopicMessageEventArgs : MessageEventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public TopicMessageEventArgs(Peer peer, string topic, string origin, Message message) : base(peer, message) => (Topic, Origin) = (topic, origin);
        /// <summary>The topic.</summary>
        public string Topic { get; }
        /// <summary>The publisher's node id (<see cref="PeerEventArgs.Peer"/> is the neighbour that relayed it).</summary>
        public string Origin { get; }
    }

    /// <summary>A lost peer is about to be dialled again (node_reconnection_error); set <see cref="Reconnect"/> to false to give up.</summary>
    public class ReconnectionErrorEventArgs : EventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public ReconnectionErrorEventArgs(string host, int port, int trials) => (Host, Port, Trials) = (host, port, trials);
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
        public MessageRejectedEventArgs(Peer peer, Message raw, Reject reject, string reason) : base(peer) =>
            (Raw, Reject, Reason) = (raw, reject, reason);
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
