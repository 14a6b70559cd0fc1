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
    }
}
