using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace P2PNode
{
    /// <summary>
    /// A node whose messages are JSON objects signed with its RSA key and checked on
    /// receipt, in the wire format of the Python package p2psecure (its SecureNode).
    /// </summary>
    /// <remarks>
    /// <para>A secure node is a <see cref="Node"/>: connect, disconnect, peers, limits and
    /// the connection events work as there. What it receives arrives as
    /// <see cref="OnSecureMessage"/> (every check passed), <see cref="OnMessageRejected"/>
    /// (with the reason; the connection stays up) or <see cref="OnDiscoveryAnswer"/>, never
    /// as <see cref="Node.OnMessage"/>. Pings and discoveries it answers itself.</para>
    /// <para>Give it a key (<see cref="KeyPairGenerate"/> or <see cref="KeyPairLoad"/>) before
    /// <see cref="Node.Start"/>. Beyond p2psecure's checks (signature, _hash, _message_id)
    /// it pins the first key seen per node id and rejects replayed and stale messages; see
    /// <see cref="SecureConfig"/>.</para>
    /// <para>The signed sends are <see cref="SendMessage"/>, <see cref="Send(Peer, string)"/>
    /// and <see cref="SendToNodes(string, Peer[])"/>. The byte and compression overloads of
    /// <see cref="Node.Send(Peer, byte[], Compression)"/>, <see cref="Node.Broadcast(byte[], IEnumerable{Peer}, Compression)"/>
    /// and <see cref="Peer.Send(string, Compression)"/> still send unsigned bytes, which
    /// secure peers reject (send a <see cref="CreateMessage"/> result that way to sign once
    /// and send raw).</para>
    /// <example><code>
    /// using (var node = new SecureNode("127.0.0.1", 0))
    /// {
    ///     node.KeyPairLoad("node.key", "secret");
    ///     node.SecureMessageReceived += (s, e) => Console.WriteLine(e.Message.SenderId + ": " + e.Message.Json);
    ///     node.Start();
    ///     node.Connect("127.0.0.1", 8002);
    ///     node.SendMessage("{\"hello\": \"world\"}");
    /// }
    /// </code></example>
    /// </remarks>
    public class SecureNode : Node
    {
        private static readonly int DiscoveredSize = Marshal.SizeOf(typeof(NativeMethods.p2p_discovered));

        /// <summary>
        /// Creates a secure node without a key and binds its listening socket. It accepts and
        /// delivers nothing until <see cref="Node.Start"/>, which needs a key.
        /// </summary>
        /// <param name="host">Address to listen on; null or "" listens on all interfaces.</param>
        /// <param name="port">Port to listen on; 0 picks a free port.</param>
        /// <param name="id">The node's id; null or "" generates one as p2pnetwork does.</param>
        /// <param name="maxConnections">Most inbound peers; 0 is unlimited.</param>
        /// <param name="config">The checks made on what it receives; null for the defaults. Copied.</param>
        /// <exception cref="P2PException">InvalidArgument (also for a bad config), or Bind.</exception>
        public SecureNode(string host, int port = 0, string id = null, int maxConnections = 0, SecureConfig config = null)
            : base(Proxy.SecureNodeNew(host, port, id, maxConnections, SecureConfig.ToNative(config)))
        {
        }

        /// <summary>Raised for every received message that passed every check.</summary>
        public event EventHandler<SecureMessageEventArgs> SecureMessageReceived;

        /// <summary>Raised for every received message that failed a check (the connection stays up).</summary>
        public event EventHandler<MessageRejectedEventArgs> MessageRejected;

        /// <summary>Raised for every answer to <see cref="SendDiscovery"/>.</summary>
        public event EventHandler<DiscoveryAnswerEventArgs> DiscoveryAnswerReceived;

        /// <summary>
        /// The node's public key as PEM ("-----BEGIN PUBLIC KEY-----", as it travels in
        /// _public_key); null while the node has no key.
        /// </summary>
        public string PublicKey
        {
            get
            {
                ThrowIfDisposed();
                return Proxy.PublicKey(NativeHandle);
            }
        }

        /// <summary>
        /// Checks a signed message as p2psecure's check_message does (signature, _hash,
        /// _message_id, and that _id is a string and _timestamp a number), without any node:
        /// no key pinning, no replay check.
        /// </summary>
        /// <param name="json">The signed JSON text.</param>
        /// <param name="reject">The check it failed; <see cref="Reject.None"/> when it is good.</param>
        /// <param name="reason">Why, in a sentence; null when it is good.</param>
        /// <returns>True when the message is good.</returns>
        public static bool CheckMessage(string json, out Reject reject, out string reason)
        {
            if (json == null)
            {
                throw new ArgumentNullException("json");
            }
            return CheckMessage(Encoding.UTF8.GetBytes(json), out reject, out reason);
        }

        /// <summary>Checks a signed message given as its bytes (a rejected <see cref="Message.Data"/>, say).</summary>
        public static bool CheckMessage(byte[] json, out Reject reject, out string reason)
        {
            if (json == null)
            {
                throw new ArgumentNullException("json");
            }
            reject = Proxy.CheckMessage(json, out reason);
            return reject == Reject.None;
        }

        /// <summary>Checks a signed message; true when it is good.</summary>
        public static bool CheckMessage(string json)
        {
            Reject reject;
            string reason;
            return CheckMessage(json, out reject, out reason);
        }

        /// <summary>
        /// Makes a new RSA key pair and makes it the node's key (p2psecure's key_pair_generate).
        /// Any time; peers that pinned the old key reject messages signed with the new one.
        /// A 4096-bit key takes about a second, sometimes several.
        /// </summary>
        /// <param name="bits">Key size: 0 for 4096 (as p2psecure), else at least 2048.</param>
        /// <exception cref="P2PException">InvalidArgument (too small).</exception>
        public void KeyPairGenerate(int bits = 0)
        {
            ThrowIfDisposed();
            Proxy.KeyGenerate(NativeHandle, bits);
        }

        /// <summary>
        /// Reads a private key file and makes it the node's key (p2psecure's key_pair_load):
        /// p2psecure's format, p2pnode's (<see cref="KeyFormat"/>), or PEM (PKCS#1 or PKCS#8,
        /// encrypted or not).
        /// </summary>
        /// <param name="path">The key file.</param>
        /// <param name="password">Its password; null or "" for none.</param>
        /// <exception cref="P2PException">Key (cannot read, wrong password, not a key).</exception>
        public void KeyPairLoad(string path, string password = null)
        {
            if (path == null)
            {
                throw new ArgumentNullException("path");
            }
            ThrowIfDisposed();
            Proxy.KeyLoad(NativeHandle, path, password);
        }

        /// <summary>Writes the node's private key to a file with mode 0600 (p2psecure's key_pair_save).</summary>
        /// <param name="path">The key file.</param>
        /// <param name="password">Its password; null or "" for none (<see cref="KeyFormat.P2PSecure"/> needs one).</param>
        /// <param name="format">The file format.</param>
        /// <exception cref="P2PException">Key (no key, or the file cannot be written), InvalidArgument.</exception>
        public void KeyPairSave(string path, string password = null, KeyFormat format = KeyFormat.P2PNode)
        {
            if (path == null)
            {
                throw new ArgumentNullException("path");
            }
            ThrowIfDisposed();
            Proxy.KeySave(NativeHandle, path, password, format);
        }

        /// <summary>
        /// Signs {"_type": "message", "message": json} and sends it to every peer
        /// (p2psecure's send_message).
        /// </summary>
        /// <param name="json">The text of any JSON value ("1.0", big integers and Unicode survive exactly).</param>
        /// <exception cref="P2PException">InvalidArgument (not JSON), Key (no key), or the first failing peer's code.</exception>
        public void SendMessage(string json)
        {
            byte[] data = JsonBytes(json, "json");
            ThrowIfDisposed();
            Proxy.SecureSendMessage(NativeHandle, data);
        }

        /// <summary>
        /// Signs a JSON object (its underscore fields are replaced) and sends it to one peer.
        /// Unlike the byte and compression overloads of <see cref="Node.Send(Peer, byte[], Compression)"/>,
        /// which send unsigned bytes.
        /// </summary>
        /// <param name="peer">A peer of this node.</param>
        /// <param name="jsonObject">The text of a JSON object.</param>
        /// <exception cref="P2PException">InvalidArgument (not a JSON object), Key, NoPeer, QueueFull, TooBig.</exception>
        public void Send(Peer peer, string jsonObject)
        {
            CheckPeer(peer);
            byte[] data = JsonBytes(jsonObject, "jsonObject");
            ThrowIfDisposed();
            Proxy.SecureSend(NativeHandle, peer.Handle, data);
        }

        /// <summary>
        /// Signs a JSON object once and sends it to every peer but those excluded
        /// (p2psecure's send_to_nodes(create_message(data))).
        /// </summary>
        /// <param name="jsonObject">The text of a JSON object.</param>
        /// <param name="exclude">Peers not to send it to.</param>
        /// <exception cref="P2PException">InvalidArgument (not a JSON object), Key, or the first failing peer's code.</exception>
        public void SendToNodes(string jsonObject, params Peer[] exclude)
        {
            SendToNodes(jsonObject, (IEnumerable<Peer>)exclude);
        }

        /// <summary>Signs a JSON object once and sends it to every peer but those excluded.</summary>
        public void SendToNodes(string jsonObject, IEnumerable<Peer> exclude)
        {
            byte[] data = JsonBytes(jsonObject, "jsonObject");
            ulong[] handles = Handles(exclude);
            ThrowIfDisposed();
            Proxy.SecureBroadcast(NativeHandle, data, handles);
        }

        /// <summary>
        /// Pings every peer. Each answers with a pong, and the latency in seconds is then
        /// stored in that peer's info under "ping" as JSON number text
        /// (<c>peer.GetInfo("ping")</c>, UTF-8).
        /// </summary>
        /// <exception cref="P2PException">Key, or the first failing peer's code.</exception>
        public void SendPing()
        {
            ThrowIfDisposed();
            Proxy.SendPing(NativeHandle);
        }

        /// <summary>
        /// Asks the network for its connections: every node reached answers with its list of
        /// peers, relayed back the way the discovery came; each answer arrives as
        /// <see cref="OnDiscoveryAnswer"/>.
        /// </summary>
        /// <exception cref="P2PException">Key, or the first failing peer's code.</exception>
        public void SendDiscovery()
        {
            ThrowIfDisposed();
            Proxy.SendDiscovery(NativeHandle);
        }

        /// <summary>
        /// Signs a JSON object as p2psecure's create_message does, with the node's id, key,
        /// counters and clock, and returns the signed JSON text (each call signs anew).
        /// </summary>
        /// <param name="jsonObject">The text of a JSON object.</param>
        /// <exception cref="P2PException">InvalidArgument (not a JSON object), Key.</exception>
        public string CreateMessage(string jsonObject)
        {
            byte[] data = JsonBytes(jsonObject, "jsonObject");
            ThrowIfDisposed();
            return Encoding.UTF8.GetString(Proxy.CreateMessage(NativeHandle, data));
        }

        /// <summary>
        /// Sets the public key accepted from a node id (any time): its messages signed with
        /// another key are rejected with <see cref="Reject.KeyMismatch"/>.
        /// </summary>
        /// <param name="id">The node id.</param>
        /// <param name="publicKeyPem">An RSA public key as PEM (a <see cref="PublicKey"/>).</param>
        /// <exception cref="P2PException">InvalidArgument (not an RSA public key).</exception>
        public void Pin(string id, string publicKeyPem)
        {
            if (id == null)
            {
                throw new ArgumentNullException("id");
            }
            if (publicKeyPem == null)
            {
                throw new ArgumentNullException("publicKeyPem");
            }
            ThrowIfDisposed();
            Proxy.Pin(NativeHandle, id, publicKeyPem);
        }

        /// <summary>
        /// Forgets the key pinned for a node id, so that under <see cref="KeyPolicy.TrustOnFirstUse"/>
        /// the next key seen for it is pinned.
        /// </summary>
        public void Unpin(string id)
        {
            if (id == null)
            {
                throw new ArgumentNullException("id");
            }
            ThrowIfDisposed();
            Proxy.Pin(NativeHandle, id, null);
        }

        /// <summary>The PEM of the key pinned for a node id, or null when none is.</summary>
        public string PinnedKey(string id)
        {
            if (id == null)
            {
                throw new ArgumentNullException("id");
            }
            ThrowIfDisposed();
            return Proxy.PinnedKey(NativeHandle, id);
        }

        /// <summary>
        /// A message passed every check. The base method raises <see cref="SecureMessageReceived"/>.
        /// </summary>
        /// <param name="peer">The neighbour it came from (not necessarily its signer, <see cref="SecureMessage.SenderId"/>).</param>
        /// <param name="message">The message.</param>
        protected virtual void OnSecureMessage(Peer peer, SecureMessage message)
        {
            Raise(SecureMessageReceived, new SecureMessageEventArgs(peer, message), "SecureMessageReceived");
        }

        /// <summary>
        /// A message failed a check; the connection stays up. The base method raises <see cref="MessageRejected"/>.
        /// </summary>
        /// <param name="peer">The neighbour it came from.</param>
        /// <param name="raw">The payload that was refused, as received.</param>
        /// <param name="reject">The check it failed.</param>
        /// <param name="reason">Why, in a sentence for people.</param>
        protected virtual void OnMessageRejected(Peer peer, Message raw, Reject reject, string reason)
        {
            Raise(MessageRejected, new MessageRejectedEventArgs(peer, raw, reject, reason), "MessageRejected");
        }

        /// <summary>
        /// An answer to <see cref="SendDiscovery"/> arrived. The base method raises <see cref="DiscoveryAnswerReceived"/>.
        /// </summary>
        /// <param name="peer">The neighbour that relayed it.</param>
        /// <param name="answer">Who answered, and its peers.</param>
        protected virtual void OnDiscoveryAnswer(Peer peer, DiscoveryAnswer answer)
        {
            Raise(DiscoveryAnswerReceived, new DiscoveryAnswerEventArgs(peer, answer), "DiscoveryAnswerReceived");
        }

        /// <summary>Copies a secure event out of native memory and calls its event method.</summary>
        internal override void DeliverMore(ref NativeMethods.p2p_event ev, Peer peer)
        {
            switch (ev.type)
            {
                case 9: // P2P_EVENT_SECURE_MESSAGE
                {
                    Message m = MessageOf(ref ev);
                    OnSecureMessage(peer, new SecureMessage(Utf8.FromPointer(ev.sender_id), Utf8.FromPointer(ev.msg_type), m.Text ?? string.Empty, m.Compression));
                    break;
                }
                case 10: // P2P_EVENT_MESSAGE_REJECTED
                    OnMessageRejected(peer, MessageOf(ref ev), (Reject)ev.reject, Utf8.FromPointer(ev.reason));
                    break;
                case 11: // P2P_EVENT_DISCOVERY_ANSWER
                {
                    Message m = MessageOf(ref ev);
                    OnDiscoveryAnswer(peer, new DiscoveryAnswer(Utf8.FromPointer(ev.sender_id), Utf8.FromPointer(ev.msg_type), m.Text ?? string.Empty, NodesOf(ref ev)));
                    break;
                }
            }
        }

        private static List<DiscoveredNode> NodesOf(ref NativeMethods.p2p_event ev)
        {
            ulong n = ev.n_nodes.ToUInt64();
            var nodes = new List<DiscoveredNode>((int)Math.Min(n, 1024UL));
            if (ev.nodes == IntPtr.Zero)
            {
                return nodes;
            }
            for (ulong i = 0; i < n; i++)
            {
                var d = (NativeMethods.p2p_discovered)Marshal.PtrToStructure(new IntPtr(ev.nodes.ToInt64() + (long)i * DiscoveredSize), typeof(NativeMethods.p2p_discovered));
                nodes.Add(new DiscoveredNode(Utf8.FromPointer(d.id), Utf8.FromPointer(d.host), d.port, (Direction)d.direction));
            }
            return nodes;
        }

        private static byte[] JsonBytes(string json, string name)
        {
            if (json == null)
            {
                throw new ArgumentNullException(name);
            }
            return Encoding.UTF8.GetBytes(json);
        }
    }
}
