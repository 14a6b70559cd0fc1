using System;
using P2PNode.Native;
using static P2PNode.Native.Proxy;
using N = P2PNode.Native.NativeMethods;

namespace P2PNode
{
    /// <summary>A node connected with a <see cref="Node"/> (p2pnetwork's NodeConnection): its facts and its handle on the node,
    /// valid until its disconnected event has been delivered.</summary>
    public sealed class Peer : IEquatable<Peer>
    {
        internal Peer(Node node, ulong handle, string id, string host, int port, Direction direction, byte[] key) =>
            (Node, Handle, Id, Host, Port, Direction, PeerKey) = (node, handle, id, host, port, direction, key);
        /// <summary>The node this peer is connected with.</summary>
        public Node Node { get; }
        /// <summary>The peer's handle on <see cref="Node"/>: a number, unique for the node's life.</summary>
        public ulong Handle { get; }
        /// <summary>The peer's node id.</summary>
        public string Id { get; }
        /// <summary>The peer's address.</summary>
        public string Host { get; }
        /// <summary>The peer's listening port.</summary>
        public int Port { get; }
        /// <summary>Whether the peer connected to us or we to it.</summary>
        public Direction Direction { get; }
        /// <summary>True when the link is the native protocol: encrypted (TLS 1.3) and authenticated by <see cref="PeerKey"/>.</summary>
        public bool Encrypted => PeerKey != null;
        /// <summary>On an encrypted link the peer's ed25519 public identity key (32 bytes), else null.</summary>
        public byte[] PeerKey { get; }
        /// <summary>From its disconnected event on: the messages accepted for it that were never written to it.</summary>
        public ulong Dropped { get; internal set; }
        /// <summary>From its disconnected event on: the bytes of <see cref="Dropped"/> on the wire.</summary>
        public ulong DroppedBytes { get; internal set; }
        /// <summary>Sends bytes to this peer (see <see cref="Node.Send(Peer, byte[], Compression)"/>).</summary>
        public void Send(byte[] data, Compression compression = Compression.None) => Node.Send(this, data, compression);
        /// <summary>Sends text, as UTF-8, to this peer.</summary>
        public void Send(string text, Compression compression = Compression.None) => Node.Send(this, text, compression);
        /// <summary>Stores a copy of value under key in the peer's own store (p2pnetwork's set_info).</summary>
        public void SetInfo(string key, byte[] value) =>
            Check(N.p2p_peer_set_info(Node.H, Handle, Z(Node.NotNull(key, nameof(key))), Node.NotNull(value, nameof(value)), Len(value)));
        /// <summary>Stores text, as UTF-8, under key in the peer's own store.</summary>
        public void SetInfo(string key, string value) => SetInfo(key, Node.Utf8(value, nameof(value)));
        /// <summary>The value stored under key, or null when there is none (p2pnetwork's get_info).</summary>
        public byte[] GetInfo(string key) =>
            Buf((out P2PBuf b) => N.p2p_peer_get_info_buf(Node.H, Handle, Z(Node.NotNull(key, nameof(key))), out b), (int)ErrorCode.NotFound);
        /// <summary>Peers are equal when they are the same handle on the same node.</summary>
        public bool Equals(Peer other) => other != null && ReferenceEquals(Node, other.Node) && Handle == other.Handle;
        /// <inheritdoc />
        public override bool Equals(object obj) => Equals(obj as Peer);
        /// <inheritdoc />
        public override int GetHashCode() => Handle.GetHashCode();
        /// <summary>"Peer(direction host:port id...)", the id shortened as p2pnetwork prints it.</summary>
        public override string ToString() =>
            string.Format("Peer({0} {1}:{2} {3})", Direction, Host, Port, Id != null && Id.Length > 10 ? Id.Substring(0, 10) + "..." : Id);
    }

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
