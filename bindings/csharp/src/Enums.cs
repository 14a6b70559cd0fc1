namespace P2PNode
{
    /// <summary>Status codes of the native library (the P2P_E* constants).</summary>
    public enum ErrorCode
    {
        /// <summary>P2P_OK: success.</summary>
        Ok = 0,
        /// <summary>P2P_EINVAL: an argument is invalid (out of range, bad option).</summary>
        InvalidArgument = -1,
        /// <summary>P2P_EHANDLE: the node is unknown or was freed.</summary>
        InvalidHandle = -2,
        /// <summary>P2P_ESTATE: not allowed in this state (not started, already started).</summary>
        InvalidState = -3,
        /// <summary>P2P_ESTOPPED: the node is stopping or stopped.</summary>
        Stopped = -4,
        /// <summary>P2P_ESELF: the node would connect with itself.</summary>
        Self = -5,
        /// <summary>P2P_EALREADY: already connected with that node.</summary>
        AlreadyConnected = -6,
        /// <summary>P2P_ECONNECT: could not connect (refused, unreachable, timed out, turned away).</summary>
        ConnectFailed = -7,
        /// <summary>P2P_EHANDSHAKE: the id exchange failed.</summary>
        HandshakeFailed = -8,
        /// <summary>P2P_ENOPEER: no such peer on this node (never was, or disconnected).</summary>
        NoPeer = -9,
        /// <summary>P2P_EFULL: the peer's send queue stayed full for the send timeout.</summary>
        QueueFull = -10,
        /// <summary>P2P_ETOOBIG: the message is over the frame size limit.</summary>
        TooBig = -11,
        /// <summary>P2P_ENOTFOUND: no info under that key.</summary>
        NotFound = -12,
        /// <summary>P2P_ERANGE: a buffer was too small.</summary>
        Range = -13,
        /// <summary>P2P_EBIND: could not listen on the host and port.</summary>
        Bind = -14,
        /// <summary>P2P_EINTERNAL: a bug in the library was caught.</summary>
        Internal = -15,
        /// <summary>P2P_EKEY: secure node: no key yet, or a key file that cannot be read (wrong password, not a key) or written.</summary>
        Key = -16,
        /// <summary>P2P_EREJECTED: secure node: a message failed its checks; the message says why.</summary>
        Rejected = -17,
        /// <summary>P2P_EFORK: called in a child forked from the process that loaded the library.</summary>
        Forked = -18,
    }

    /// <summary>How a received payload is presented, by p2pnetwork's rule.</summary>
    public enum MessageKind
    {
        /// <summary>UTF-8 text that parses as one JSON value (what p2pnetwork hands over as a dict, list or number).</summary>
        Json = 0,
        /// <summary>Other UTF-8 text.</summary>
        Text = 1,
        /// <summary>Bytes that are not valid UTF-8.</summary>
        Bytes = 2,
    }

    /// <summary>Which side opened a connection.</summary>
    public enum Direction
    {
        /// <summary>The peer connected to us.</summary>
        Inbound = 0,
        /// <summary>We connected to the peer.</summary>
        Outbound = 1,
    }

    /// <summary>How a message travels on the wire (p2pnetwork's compression argument).</summary>
    public enum Compression
    {
        /// <summary>Raw framing (payloads raw framing cannot carry still go zlib-compressed).</summary>
        None = 0,
        /// <summary>zlib container, level 6.</summary>
        Zlib = 1,
        /// <summary>bzip2, level 9.</summary>
        Bzip2 = 2,
        /// <summary>The .xz container, as Python's lzma.compress.</summary>
        Lzma = 3,
    }

    /// <summary>Limits of a node (the P2P_LIMIT_* constants). 0 restores a default.</summary>
    public enum Limit
    {
        /// <summary>Inbound peers; 0 = unlimited. May change at any time.</summary>
        MaxConnections = 1,
        /// <summary>Milliseconds to wait for a peer's id (default 10000).</summary>
        HandshakeTimeoutMs = 2,
        /// <summary>Milliseconds for a TCP connect (default 10000).</summary>
        DialTimeoutMs = 3,
        /// <summary>Bytes of one frame (default 64 MiB).</summary>
        MaxFrameSize = 4,
        /// <summary>Bytes a compressed frame may inflate to (default 64 MiB).</summary>
        MaxDecompressedSize = 5,
        /// <summary>Bytes waiting to be written to one peer (default 16 MiB).</summary>
        MaxQueuedBytes = 6,
        /// <summary>Milliseconds to wait for room in a full send queue (default 10000).</summary>
        SendTimeoutMs = 7,
        /// <summary>Milliseconds between re-dials of lost peers (default 1000).</summary>
        ReconnectIntervalMs = 8,
        /// <summary>Messages waiting for the application (default 65536).</summary>
        MaxPendingEvents = 9,
        /// <summary>What a send does when a queue is full: an <see cref="P2PNode.OverflowPolicy"/> (default Wait).</summary>
        OverflowPolicy = 10,
        /// <summary>Bytes waiting to be written to all peers together (default 256 MiB).</summary>
        MaxQueuedBytesTotal = 11,
        /// <summary>Bytes waiting to be written to the peers at one IP address (default 128 MiB).</summary>
        MaxQueuedBytesPerAddress = 12,
        /// <summary>Milliseconds stop and disconnect flush a peer's queue before dropping the rest (default 10000).</summary>
        StopTimeoutMs = 13,
        /// <summary>Inbound handshakes under way (default 256).</summary>
        MaxPendingHandshakes = 14,
        /// <summary>Inbound handshakes under way from one IP address (default 128).</summary>
        MaxPendingHandshakesPerAddress = 15,
        /// <summary>Milliseconds of silence after which an inbound peer may lose its slot to a new one (default 10000).</summary>
        IdleEvictionMs = 16,
        /// <summary>Bytes of frames received in part, all connections (default 256 MiB).</summary>
        MaxPendingBytes = 17,
        /// <summary>Bytes of frames received in part by the connections from one IP address (default 128 MiB).</summary>
        MaxPendingBytesPerAddress = 18,
    }

    /// <summary>What a send does when a queue is full (the P2P_OVERFLOW_* constants; <see cref="Limit.OverflowPolicy"/>).</summary>
    public enum OverflowPolicy
    {
        /// <summary>Wait up to the send timeout for room in that peer's queue, then fail (QueueFull).</summary>
        Wait = 0,
        /// <summary>Fail at once (QueueFull); what is queued stays.</summary>
        DropNewest = 1,
        /// <summary>Discard the oldest queued messages to make room; the send succeeds.</summary>
        DropOldest = 2,
        /// <summary>Disconnect the peer; the send fails (QueueFull).</summary>
        Disconnect = 3,
    }

    /// <summary>Why a <see cref="SecureNode"/> rejected a message (the C ABI's p2p_reject).</summary>
    public enum Reject
    {
        /// <summary>Not rejected: the message passed every check.</summary>
        None = 0,
        /// <summary>Not a JSON object, or a field missing or of the wrong type.</summary>
        Malformed = 1,
        /// <summary>_signature does not verify with _public_key.</summary>
        BadSignature = 2,
        /// <summary>_hash is not the hash of the message.</summary>
        BadHash = 3,
        /// <summary>_message_id is not the hash of the message.</summary>
        BadMessageId = 4,
        /// <summary>The key differs from the one pinned for its _id.</summary>
        KeyMismatch = 5,
        /// <summary>No trusted key for its _id (<see cref="KeyPolicy.TrustedKeysOnly"/>, or the pin store is full).</summary>
        UntrustedKey = 6,
        /// <summary>The key is smaller than <see cref="SecureConfig.MinKeyBits"/>.</summary>
        WeakKey = 7,
        /// <summary>A message with this _message_id was accepted before.</summary>
        Replay = 8,
        /// <summary>_timestamp is older than the replay window.</summary>
        Stale = 9,
        /// <summary>_timestamp is further ahead than the clock skew allows.</summary>
        Future = 10,
    }

    /// <summary>Which public key a <see cref="SecureNode"/> accepts for a sender's node id (p2p_key_policy).</summary>
    public enum KeyPolicy
    {
        /// <summary>Pin the first key seen per id and reject any other (the default).</summary>
        TrustOnFirstUse = 0,
        /// <summary>Accept only ids pinned with <see cref="SecureNode.Pin"/>.</summary>
        TrustedKeysOnly = 1,
        /// <summary>Accept any key that verifies, as p2psecure does.</summary>
        NoPinning = 2,
    }

    /// <summary>Formats <see cref="SecureNode.KeyPairSave"/> writes (p2p_key_format).</summary>
    public enum KeyFormat
    {
        /// <summary>p2pnode's: PBKDF2-HMAC-SHA256 (600000 iterations) and AES-256-GCM; plain PKCS#8 PEM without a password.</summary>
        P2PNode = 0,
        /// <summary>p2psecure's key_pair_save format (weak: PBKDF2-SHA1 with 1000 iterations, AES-CBC, no integrity); needs a password.</summary>
        P2PSecure = 1,
    }
}
