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

    /// <summary>The counters' fields are generated from the header (Native/Constants.g.cs).</summary>
    public partial struct NodeCounters
    {
        /// <inheritdoc />
        public override string ToString() => string.Format("sent {0}, received {1}, receive errors {2}, written {3}, queued {4}, dropped {5}",
            Sent, Received, ReceiveErrors, Written, Queued, DroppedOverflow + DroppedLinkLost + DroppedStop);
    }
}
