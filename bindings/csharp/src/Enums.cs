using System;
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
        Json = P2P_KIND_JSON,
        /// <summary>Other UTF-8 text.</summary>
        Text = P2P_KIND_TEXT,
        /// <summary>Bytes that are not valid UTF-8.</summary>
        Bytes = P2P_KIND_BYTES,
    }
    /// <summary>Which side opened a connection.</summary>
    public enum Direction
    {
        /// <summary>The peer connected to us.</summary>
        Inbound = P2P_INBOUND,
        /// <summary>We connected to the peer.</summary>
        Outbound = P2P_OUTBOUND,
    }
    /// <summary>How a message travels on the wire (p2pnetwork's compression argument).</summary>
    public enum Compression
    {
        /// <summary>Raw framing (payloads raw framing cannot carry still go zlib-compressed).</summary>
        None = P2P_COMPRESSION_NONE,
        /// <summary>zlib container, level 6.</summary>
        Zlib = P2P_COMPRESSION_ZLIB,
        /// <summary>bzip2, level 9.</summary>
        Bzip2 = P2P_COMPRESSION_BZIP2,
        /// <summary>The .xz container, as Python's lzma.compress.</summary>
        Lzma = P2P_COMPRESSION_LZMA,
    }
    /// <summary>Limits of a node (the P2P_LIMIT_* constants). 0 restores a default.</summary>
    public enum Limit
    {
        /// <summary>Inbound peers; 0 = unlimited. May change at any time.</summary>
        MaxConnections = P2P_LIMIT_MAX_CONNECTIONS,
        /// <summary>Milliseconds to wait for a peer's id (default 10000).</summary>
        HandshakeTimeoutMs = P2P_LIMIT_HANDSHAKE_TIMEOUT_MS,
        /// <summary>Milliseconds for a TCP connect (default 10000).</summary>
        DialTimeoutMs = P2P_LIMIT_DIAL_TIMEOUT_MS,
        /// <summary>Bytes of one frame (default 64 MiB).</summary>
        MaxFrameSize = P2P_LIMIT_MAX_FRAME_SIZE,
        /// <summary>Bytes a compressed frame may inflate to (default 64 MiB).</summary>
        MaxDecompressedSize = P2P_LIMIT_MAX_DECOMPRESSED_SIZE,
        /// <summary>Bytes waiting to be written to one peer (default 16 MiB).</summary>
        MaxQueuedBytes = P2P_LIMIT_MAX_QUEUED_BYTES,
        /// <summary>Milliseconds to wait for room in a full send queue (default 10000).</summary>
        SendTimeoutMs = P2P_LIMIT_SEND_TIMEOUT_MS,
        /// <summary>Milliseconds between re-dials of lost peers (default 1000).</summary>
        ReconnectIntervalMs = P2P_LIMIT_RECONNECT_INTERVAL_MS,
        /// <summary>Messages waiting for the application (default 65536).</summary>
        MaxPendingEvents = P2P_LIMIT_MAX_PENDING_EVENTS,
        /// <summary>What a send does when a queue is full: an <see cref="P2PNode.OverflowPolicy"/> (default Wait).</summary>
        OverflowPolicy = P2P_LIMIT_OVERFLOW_POLICY,
        /// <summary>Bytes waiting to be written to all peers together (default 256 MiB).</summary>
        MaxQueuedBytesTotal = P2P_LIMIT_MAX_QUEUED_BYTES_TOTAL,
        /// <summary>Bytes waiting to be written to the peers at one IP address (default 128 MiB).</summary>
        MaxQueuedBytesPerAddress = P2P_LIMIT_MAX_QUEUED_BYTES_PER_ADDRESS,
        /// <summary>Milliseconds stop and disconnect flush a peer's queue before dropping the rest (default 10000).</summary>
        StopTimeoutMs = P2P_LIMIT_STOP_TIMEOUT_MS,
        /// <summary>Inbound handshakes under way (default 256).</summary>
        MaxPendingHandshakes = P2P_LIMIT_MAX_PENDING_HANDSHAKES,
        /// <summary>Inbound handshakes under way from one IP address (default 128).</summary>
        MaxPendingHandshakesPerAddress = P2P_LIMIT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
        /// <summary>Milliseconds of silence after which an inbound peer may lose its slot to a new one (default 10000).</summary>
        IdleEvictionMs = P2P_LIMIT_IDLE_EVICTION_MS,
        /// <summary>Bytes of frames received in part, all connections (default 256 MiB).</summary>
        MaxPendingBytes = P2P_LIMIT_MAX_PENDING_BYTES,
        /// <summary>Bytes of frames received in part by the connections from one IP address (default 128 MiB).</summary>
        MaxPendingBytesPerAddress = P2P_LIMIT_MAX_PENDING_BYTES_PER_ADDRESS,
    }
    /// <summary>What a send does when a queue is full (the P2P_OVERFLOW_* constants; <see cref="Limit.OverflowPolicy"/>).</summary>
    public enum OverflowPolicy
    {
        /// <summary>Wait up to the send timeout for room in that peer's queue, then fail (QueueFull).</summary>
        Wait = P2P_OVERFLOW_WAIT,
        /// <summary>Fail at once (QueueFull); what is queued stays.</summary>
        DropNewest = P2P_OVERFLOW_DROP_NEWEST,
        /// <summary>Discard the oldest queued messages to make room; the send succeeds.</summary>
        DropOldest = P2P_OVERFLOW_DROP_OLDEST,
        /// <summary>Disconnect the peer; the send fails (QueueFull).</summary>
        Disconnect = P2P_OVERFLOW_DISCONNECT,
    }
    /// <summary>Why a <see cref="SecureNode"/> rejected a message (the C ABI's p2p_reject).</summary>
    public enum Reject
    {
        /// <summary>Not rejected: the message passed every check.</summary>
        None = P2P_REJECT_NONE,
        /// <summary>Not a JSON object, or a field missing or of the wrong type.</summary>
        Malformed = P2P_REJECT_MALFORMED,
        /// <summary>_signature does not verify with _public_key.</summary>
        BadSignature = P2P_REJECT_BAD_SIGNATURE,
        /// <summary>_hash is not the hash of the message.</summary>
        BadHash = P2P_REJECT_BAD_HASH,
        /// <summary>_message_id is not the hash of the message.</summary>
        BadMessageId = P2P_REJECT_BAD_MESSAGE_ID,
        /// <summary>The key differs from the one pinned for its _id.</summary>
        KeyMismatch = P2P_REJECT_KEY_MISMATCH,
        /// <summary>No trusted key for its _id (<see cref="KeyPolicy.TrustedKeysOnly"/>, or the pin store is full).</summary>
        UntrustedKey = P2P_REJECT_UNTRUSTED_KEY,
        /// <summary>The key is smaller than <see cref="SecureConfig.MinKeyBits"/>.</summary>
        WeakKey = P2P_REJECT_WEAK_KEY,
        /// <summary>A message with this _message_id was accepted before.</summary>
        Replay = P2P_REJECT_REPLAY,
        /// <summary>_timestamp is older than the replay window.</summary>
        Stale = P2P_REJECT_STALE,
        /// <summary>_timestamp is further ahead than the clock skew allows.</summary>
        Future = P2P_REJECT_FUTURE,
    }
    /// <summary>Which public key a <see cref="SecureNode"/> accepts for a sender's node id (p2p_key_policy).</summary>
    public enum KeyPolicy
    {
        /// <summary>Pin the first key seen per id and reject any other (the default).</summary>
        TrustOnFirstUse = P2P_TRUST_ON_FIRST_USE,
        /// <summary>Accept only ids pinned with <see cref="SecureNode.Pin"/>.</summary>
        TrustedKeysOnly = P2P_TRUSTED_KEYS_ONLY,
        /// <summary>Accept any key that verifies, as p2psecure does.</summary>
        NoPinning = P2P_NO_PINNING,
    }
    /// <summary>Formats <see cref="SecureNode.KeyPairSave"/> writes (p2p_key_format).</summary>
    public enum KeyFormat
    {
        /// <summary>p2pnode's: PBKDF2-HMAC-SHA256 (600000 iterations) and AES-256-GCM; plain PKCS#8 PEM without a password.</summary>
        P2PNode = P2P_KEY_FORMAT_P2PNODE,
        /// <summary>p2psecure's key_pair_save format (weak: PBKDF2-SHA1 with 1000 iterations, AES-CBC, no integrity); needs a password.</summary>
        P2PSecure = P2P_KEY_FORMAT_P2PSECURE,
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
        Ping = P2P_DELEGATE_PING,
        /// <summary>"pong" (received_pong).</summary>
        Pong = P2P_DELEGATE_PONG,
        /// <summary>"discovery" (received_discovery, send_discovery_answer).</summary>
        Discovery = P2P_DELEGATE_DISCOVERY,
        /// <summary>"discovery_answer" (received_discovery_answer).</summary>
        DiscoveryAnswer = P2P_DELEGATE_DISCOVERY_ANSWER,
    }
    /// <summary>The steps of a secure node's own handling of a delegated message (p2p_secure_step).</summary>
    public enum SecureStep
    {
        /// <summary>Answer the ping with a pong (as SendPong).</summary>
        ReceivedPing = P2P_STEP_RECEIVED_PING,
        /// <summary>Send the peer a pong for the object's "timestamp".</summary>
        SendPong = P2P_STEP_SEND_PONG,
        /// <summary>Store the latency in the peer's info "ping".</summary>
        ReceivedPong = P2P_STEP_RECEIVED_PONG,
        /// <summary>RouteDiscovery, and for a new discovery SendDiscoveryAnswer.</summary>
        ReceivedDiscovery = P2P_STEP_RECEIVED_DISCOVERY,
        /// <summary>Record where a new discovery came from and forward it.</summary>
        RouteDiscovery = P2P_STEP_ROUTE_DISCOVERY,
        /// <summary>Send the peer our list of peers for the discovery.</summary>
        SendDiscoveryAnswer = P2P_STEP_SEND_DISCOVERY_ANSWER,
        /// <summary>Pass an answer on towards its discovery's origin.</summary>
        RelayDiscoveryAnswer = P2P_STEP_RELAY_DISCOVERY_ANSWER,
    }
}
