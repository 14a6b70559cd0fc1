using System;
using P2PNode.Native;
using static P2PNode.Native.NativeConstants;

namespace P2PNode
{
    /// <summary>Status codes of the native library (the P2P_E* constants).</summary>
    public enum ErrorCode
    {
        /// <summary>P2P_OK: success.</summary>
        Ok = P2P_OK,
        /// <summary>P2P_EINVAL: an argument is invalid (out of range, bad option).</summary>
        InvalidArgument = P2P_EINVAL,
        /// <summary>P2P_EHANDLE: the node is unknown or was freed.</summary>
        InvalidHandle = P2P_EHANDLE,
        /// <summary>P2P_ESTATE: not allowed in this state (not started, already started).</summary>
        InvalidState = P2P_ESTATE,
        /// <summary>P2P_ESTOPPED: the node is stopping or stopped.</summary>
        Stopped = P2P_ESTOPPED,
        /// <summary>P2P_ESELF: the node would connect with itself.</summary>
        Self = P2P_ESELF,
        /// <summary>P2P_EALREADY: already connected with that node.</summary>
        AlreadyConnected = P2P_EALREADY,
        /// <summary>P2P_ECONNECT: could not connect (refused, unreachable, timed out, turned away).</summary>
        ConnectFailed = P2P_ECONNECT,
        /// <summary>P2P_EHANDSHAKE: the id exchange failed.</summary>
        HandshakeFailed = P2P_EHANDSHAKE,
        /// <summary>P2P_ENOPEER: no such peer on this node (never was, or disconnected).</summary>
        NoPeer = P2P_ENOPEER,
        /// <summary>P2P_EFULL: the peer's send queue stayed full for the send timeout.</summary>
        QueueFull = P2P_EFULL,
        /// <summary>P2P_ETOOBIG: the message is over the frame size limit.</summary>
        TooBig = P2P_ETOOBIG,
        /// <summary>P2P_ENOTFOUND: no info under that key.</summary>
        NotFound = P2P_ENOTFOUND,
        /// <summary>P2P_ERANGE: a buffer was too small.</summary>
        Range = P2P_ERANGE,
        /// <summary>P2P_EBIND: could not listen on the host and port.</summary>
        Bind = P2P_EBIND,
        /// <summary>P2P_EINTERNAL: a bug in the library was caught.</summary>
        Internal = P2P_EINTERNAL,
        /// <summary>P2P_EKEY: secure node: no key yet, or a key file that cannot be read (wrong password, not a key) or written.</summary>
        Key = P2P_EKEY,
        /// <summary>P2P_EREJECTED: secure node: a message failed its checks; the message says why.</summary>
        Rejected = P2P_EREJECTED,
        /// <summary>P2P_EFORK: called in a child forked from the process that loaded the library.</summary>
        Forked = P2P_EFORK,
    }
    /// <summary>How a received payload is presented, by p2pnetwork's rule.</summary>
    public enum MessageKind
    {
        /// <summary>UTF-8 text that parses as one JSON value (what p2pnetwork hands over as a dict, list or number).</summary>
        Json = (int)P2PKind.Json,
        /// <summary>Other UTF-8 text.</summary>
        Text = (int)P2PKind.Text,
        /// <summary>Bytes that are not valid UTF-8.</summary>
        Bytes = (int)P2PKind.Bytes,
    }
    /// <summary>Which side opened a connection.</summary>
    public enum Direction
    {
        /// <summary>The peer connected to us.</summary>
        Inbound = (int)P2PDirection.Inbound,
        /// <summary>We connected to the peer.</summary>
        Outbound = (int)P2PDirection.Outbound,
    }
    /// <summary>How a message travels on the wire (p2pnetwork's compression argument).</summary>
    public enum Compression
    {
        /// <summary>Raw framing (payloads raw framing cannot carry still go zlib-compressed).</summary>
        None = (int)P2PCompression.None,
        /// <summary>zlib container, level 6.</summary>
        Zlib = (int)P2PCompression.Zlib,
        /// <summary>bzip2, level 9.</summary>
        Bzip2 = (int)P2PCompression.Bzip2,
        /// <summary>The .xz container, as Python's lzma.compress.</summary>
        Lzma = (int)P2PCompression.Lzma,
    }
    /// <summary>Limits of a node (the P2P_LIMIT_* constants). 0 restores a default.</summary>
    public enum Limit
    {
        /// <summary>Inbound peers; 0 = unlimited. May change at any time.</summary>
        MaxConnections = (int)P2PLimit.MaxConnections,
        /// <summary>Milliseconds to wait for a peer's id (default 10000).</summary>
        HandshakeTimeoutMs = (int)P2PLimit.HandshakeTimeoutMs,
        /// <summary>Milliseconds for a TCP connect (default 10000).</summary>
        DialTimeoutMs = (int)P2PLimit.DialTimeoutMs,
        /// <summary>Bytes of one frame (default 64 MiB).</summary>
        MaxFrameSize = (int)P2PLimit.MaxFrameSize,
        /// <summary>Bytes a compressed frame may inflate to (default 64 MiB).</summary>
        MaxDecompressedSize = (int)P2PLimit.MaxDecompressedSize,
        /// <summary>Bytes waiting to be written to one peer (default 16 MiB).</summary>
        MaxQueuedBytes = (int)P2PLimit.MaxQueuedBytes,
        /// <summary>Milliseconds to wait for room in a full send queue (default 10000).</summary>
        SendTimeoutMs = (int)P2PLimit.SendTimeoutMs,
        /// <summary>Milliseconds between re-dials of lost peers (default 1000).</summary>
        ReconnectIntervalMs = (int)P2PLimit.ReconnectIntervalMs,
        /// <summary>Messages waiting for the application (default 65536).</summary>
        MaxPendingEvents = (int)P2PLimit.MaxPendingEvents,
        /// <summary>What a send does when a queue is full: an <see cref="P2PNode.OverflowPolicy"/> (default Wait).</summary>
        OverflowPolicy = (int)P2PLimit.OverflowPolicy,
        /// <summary>Bytes waiting to be written to all peers together (default 256 MiB).</summary>
        MaxQueuedBytesTotal = (int)P2PLimit.MaxQueuedBytesTotal,
        /// <summary>Bytes waiting to be written to the peers at one IP address (default 128 MiB).</summary>
        MaxQueuedBytesPerAddress = (int)P2PLimit.MaxQueuedBytesPerAddress,
        /// <summary>Milliseconds stop and disconnect flush a peer's queue before dropping the rest (default 10000).</summary>
        StopTimeoutMs = (int)P2PLimit.StopTimeoutMs,
        /// <summary>Inbound handshakes under way (default 256).</summary>
        MaxPendingHandshakes = (int)P2PLimit.MaxPendingHandshakes,
        /// <summary>Inbound handshakes under way from one IP address (default 128).</summary>
        MaxPendingHandshakesPerAddress = (int)P2PLimit.MaxPendingHandshakesPerAddress,
        /// <summary>Milliseconds of silence after which an inbound peer may lose its slot to a new one (default 10000).</summary>
        IdleEvictionMs = (int)P2PLimit.IdleEvictionMs,
        /// <summary>Bytes of frames received in part, all connections (default 256 MiB).</summary>
        MaxPendingBytes = (int)P2PLimit.MaxPendingBytes,
        /// <summary>Bytes of frames received in part by the connections from one IP address (default 128 MiB).</summary>
        MaxPendingBytesPerAddress = (int)P2PLimit.MaxPendingBytesPerAddress,
    }
    /// <summary>What a send does when a queue is full (the P2P_OVERFLOW_* constants; <see cref="Limit.OverflowPolicy"/>).</summary>
    public enum OverflowPolicy
    {
        /// <summary>Wait up to the send timeout for room in that peer's queue, then fail (QueueFull).</summary>
        Wait = (int)P2POverflowPolicy.Wait,
        /// <summary>Fail at once (QueueFull); what is queued stays.</summary>
        DropNewest = (int)P2POverflowPolicy.DropNewest,
        /// <summary>Discard the oldest queued messages to make room; the send succeeds.</summary>
        DropOldest = (int)P2POverflowPolicy.DropOldest,
        /// <summary>Disconnect the peer; the send fails (QueueFull).</summary>
        Disconnect = (int)P2POverflowPolicy.Disconnect,
    }
    /// <summary>Why a <see cref="SecureNode"/> rejected a message (the C ABI's p2p_reject).</summary>
    public enum Reject
    {
        /// <summary>Not rejected: the message passed every check.</summary>
        None = (int)P2PReject.None,
        /// <summary>Not a JSON object, or a field missing or of the wrong type.</summary>
        Malformed = (int)P2PReject.Malformed,
        /// <summary>_signature does not verify with _public_key.</summary>
        BadSignature = (int)P2PReject.BadSignature,
        /// <summary>_hash is not the hash of the message.</summary>
        BadHash = (int)P2PReject.BadHash,
        /// <summary>_message_id is not the hash of the message.</summary>
        BadMessageId = (int)P2PReject.BadMessageId,
        /// <summary>The key differs from the one pinned for its _id.</summary>
        KeyMismatch = (int)P2PReject.KeyMismatch,
        /// <summary>No trusted key for its _id (<see cref="KeyPolicy.TrustedKeysOnly"/>, or the pin store is full).</summary>
        UntrustedKey = (int)P2PReject.UntrustedKey,
        /// <summary>The key is smaller than <see cref="SecureConfig.MinKeyBits"/>.</summary>
        WeakKey = (int)P2PReject.WeakKey,
        /// <summary>A message with this _message_id was accepted before.</summary>
        Replay = (int)P2PReject.Replay,
        /// <summary>_timestamp is older than the replay window.</summary>
        Stale = (int)P2PReject.Stale,
        /// <summary>_timestamp is further ahead than the clock skew allows.</summary>
        Future = (int)P2PReject.Future,
    }
    /// <summary>Which public key a <see cref="SecureNode"/> accepts for a sender's node id (p2p_key_policy).</summary>
    public enum KeyPolicy
    {
        /// <summary>Pin the first key seen per id and reject any other (the default).</summary>
        TrustOnFirstUse = (int)P2PKeyPolicy.TrustOnFirstUse,
        /// <summary>Accept only ids pinned with <see cref="SecureNode.Pin"/>.</summary>
        TrustedKeysOnly = (int)P2PKeyPolicy.TrustedKeysOnly,
        /// <summary>Accept any key that verifies, as p2psecure does.</summary>
        NoPinning = (int)P2PKeyPolicy.NoPinning,
    }
    /// <summary>Formats <see cref="SecureNode.KeyPairSave"/> writes (p2p_key_format).</summary>
    public enum KeyFormat
    {
        /// <summary>p2pnode's: PBKDF2-HMAC-SHA256 (600000 iterations) and AES-256-GCM; plain PKCS#8 PEM without a password.</summary>
        P2PNode = (int)P2PKeyFormat.P2pnode,
        /// <summary>p2psecure's key_pair_save format (weak: PBKDF2-SHA1 with 1000 iterations, AES-CBC, no integrity); needs a password.</summary>
        P2PSecure = (int)P2PKeyFormat.P2psecure,
    }
    /// <summary>
    /// The message types a <see cref="SecureNode"/> hands to <see cref="SecureNode.SetDelegate"/>'s
    /// caller (as OnSecureMessage) instead of handling them itself (p2p_delegate).
    /// </summary>
    [Flags]
    public enum SecureDelegate
    {
        /// <summary>None: the node handles ping, pong and discovery (the default).</summary>
        None = 0,
        /// <summary>"ping" (p2psecure's received_ping, send_pong).</summary>
        Ping = (int)P2PDelegate.Ping,
        /// <summary>"pong" (received_pong).</summary>
        Pong = (int)P2PDelegate.Pong,
        /// <summary>"discovery" (received_discovery, send_discovery_answer).</summary>
        Discovery = (int)P2PDelegate.Discovery,
        /// <summary>"discovery_answer" (received_discovery_answer).</summary>
        DiscoveryAnswer = (int)P2PDelegate.DiscoveryAnswer,
    }
    /// <summary>The steps of a secure node's own handling of a delegated message (p2p_secure_step).</summary>
    public enum SecureStep
    {
        /// <summary>Answer the ping with a pong (as SendPong).</summary>
        ReceivedPing = (int)P2PSecureStep.ReceivedPing,
        /// <summary>Send the peer a pong for the object's "timestamp".</summary>
        SendPong = (int)P2PSecureStep.SendPong,
        /// <summary>Store the latency in the peer's info "ping".</summary>
        ReceivedPong = (int)P2PSecureStep.ReceivedPong,
        /// <summary>RouteDiscovery, and for a new discovery SendDiscoveryAnswer.</summary>
        ReceivedDiscovery = (int)P2PSecureStep.ReceivedDiscovery,
        /// <summary>Record where a new discovery came from and forward it.</summary>
        RouteDiscovery = (int)P2PSecureStep.RouteDiscovery,
        /// <summary>Send the peer our list of peers for the discovery.</summary>
        SendDiscoveryAnswer = (int)P2PSecureStep.SendDiscoveryAnswer,
        /// <summary>Pass an answer on towards its discovery's origin.</summary>
        RelayDiscoveryAnswer = (int)P2PSecureStep.RelayDiscoveryAnswer,
    }
}
