using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace P2PNode
{
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
        Ping = 1,
        /// <summary>"pong" (received_pong).</summary>
        Pong = 2,
        /// <summary>"discovery" (received_discovery, send_discovery_answer).</summary>
        Discovery = 4,
        /// <summary>"discovery_answer" (received_discovery_answer).</summary>
        DiscoveryAnswer = 8,
    }

    /// <summary>The steps of a secure node's own handling of a delegated message (p2p_secure_step).</summary>
    public enum SecureStep
    {
        /// <summary>Answer the ping with a pong (as SendPong).</summary>
        ReceivedPing = 1,
        /// <summary>Send the peer a pong for the object's "timestamp".</summary>
        SendPong = 2,
        /// <summary>Store the latency in the peer's info "ping".</summary>
        ReceivedPong = 3,
        /// <summary>RouteDiscovery, and for a new discovery SendDiscoveryAnswer.</summary>
        ReceivedDiscovery = 4,
        /// <summary>Record where a new discovery came from and forward it.</summary>
        RouteDiscovery = 5,
        /// <summary>Send the peer our list of peers for the discovery.</summary>
        SendDiscoveryAnswer = 6,
        /// <summary>Pass an answer on towards its discovery's origin.</summary>
        RelayDiscoveryAnswer = 7,
    }

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

        // ---- Delegating ping, pong and discovery ----

        /// <summary>
        /// Hands the verified messages of these types to <see cref="OnSecureMessage"/>
        /// (<see cref="SecureMessage.Type"/> "ping", ...) instead of handling them, as a
        /// p2psecure subclass that overrides received_ping and the like does;
        /// <see cref="HandleStep"/> does the node's own steps. <see cref="SecureDelegate.None"/>
        /// (the default) leaves them to the node. Any time.
        /// </summary>
        /// <exception cref="P2PException">InvalidArgument (unknown bits).</exception>
        public void SetDelegate(SecureDelegate types)
        {
            ThrowIfDisposed();
            Proxy.Check(NativeMethods.p2p_secure_set_delegate(NativeHandle, (int)types));
        }

        /// <summary>
        /// Does one step of the node's own handling of a delegated message from peer (see
        /// p2p_secure_handle in the C header).
        /// </summary>
        /// <param name="peer">The neighbour the message came from (unused for RelayDiscoveryAnswer).</param>
        /// <param name="step">The step.</param>
        /// <param name="json">The message as delegated (<see cref="SecureMessage.Json"/>), or for
        /// SendPong any JSON object with the ping's "timestamp".</param>
        /// <returns><see cref="ErrorCode.Ok"/>, <see cref="ErrorCode.AlreadyConnected"/> (P2P_EALREADY:
        /// RouteDiscovery of a discovery seen before; nothing sent) or <see cref="ErrorCode.NotFound"/>
        /// (RelayDiscoveryAnswer: not an answer this node relays).</returns>
        /// <exception cref="P2PException">InvalidArgument (not a JSON object, a field missing), NoPeer.</exception>
        public ErrorCode HandleStep(Peer peer, SecureStep step, string json)
        {
            byte[] data = JsonBytes(json, "json");
            ThrowIfDisposed();
            int rc = NativeMethods.p2p_secure_handle(NativeHandle, peer != null ? peer.Handle : 0UL, (int)step, data, (UIntPtr)data.Length);
            if (rc != 0 && rc != (int)ErrorCode.AlreadyConnected && rc != (int)ErrorCode.NotFound)
            {
                throw Proxy.Error(rc);
            }
            return (ErrorCode)rc;
        }

        // ---- p2psecure's helpers, in its formats (see the C header) ----

        /// <summary>
        /// The private key, PEM PKCS#1 ("-----BEGIN RSA PRIVATE KEY-----"), as p2psecure's
        /// get_private_key: the secret key in clear.
        /// </summary>
        /// <exception cref="P2PException">Key (no key yet).</exception>
        public string GetPrivateKey()
        {
            ThrowIfDisposed();
            var buf = new byte[16384 + 1];
            Proxy.Check(NativeMethods.p2p_secure_private_key(NativeHandle, buf, (UIntPtr)buf.Length));
            string pem = Utf8.FromBuffer(buf);
            Array.Clear(buf, 0, buf.Length);
            return pem;
        }

        /// <summary>Encrypts message to an RSA public key (PEM) with PKCS#1 v1.5; base64 (p2psecure's encrypt).</summary>
        /// <exception cref="P2PException">InvalidArgument (not an RSA key, message too long).</exception>
        public static string Encrypt(byte[] message, string publicKeyPem)
        {
            NotNull(message, "message");
            byte[] pem = Utf8.ToNative(NotNull(publicKeyPem, "publicKeyPem"));
            return Encoding.ASCII.GetString(Out(1024, (buf, cap) =>
            {
                UIntPtr n;
                int rc = NativeMethods.p2p_secure_encrypt(pem, message, (UIntPtr)message.Length, buf, cap, out n);
                return Tuple.Create(rc, n);
            }));
        }

        /// <summary>Decrypts a base64 ciphertext made to this node's public key (p2psecure's decrypt).</summary>
        /// <exception cref="P2PException">InvalidArgument (not base64, not for this key), Key (no key).</exception>
        public byte[] Decrypt(string ciphertext)
        {
            byte[] text = Encoding.ASCII.GetBytes(NotNull(ciphertext, "ciphertext"));
            ThrowIfDisposed();
            return Out(text.Length, (buf, cap) =>
            {
                UIntPtr n;
                int rc = NativeMethods.p2p_secure_decrypt(NativeHandle, text, (UIntPtr)text.Length, buf, cap, out n);
                return Tuple.Create(rc, n);
            });
        }

        /// <summary>The base64 RSA PKCS#1 v1.5 SHA-512 signature of message's UTF-8 (p2psecure's sign).</summary>
        /// <exception cref="P2PException">Key (no key).</exception>
        public string Sign(string message)
        {
            byte[] text = Encoding.UTF8.GetBytes(NotNull(message, "message"));
            ThrowIfDisposed();
            var buf = new byte[4096 + 1];
            Proxy.Check(NativeMethods.p2p_secure_sign(NativeHandle, text, (UIntPtr)text.Length, buf, (UIntPtr)buf.Length));
            return Utf8.FromBuffer(buf);
        }

        /// <summary>Sign(Canonical(json)): the signature of a JSON value as messages carry it (sign_data).</summary>
        public string SignData(string json)
        {
            return Sign(Canonical(json));
        }

        /// <summary>Whether signature is publicKeyPem's signature of message (p2psecure's verify).</summary>
        /// <exception cref="P2PException">InvalidArgument (not an RSA public key).</exception>
        public static bool Verify(string message, string publicKeyPem, string signature)
        {
            byte[] text = Encoding.UTF8.GetBytes(NotNull(message, "message"));
            int rc = NativeMethods.p2p_secure_verify(Utf8.ToNative(NotNull(publicKeyPem, "publicKeyPem")), text, (UIntPtr)text.Length, Utf8.ToNative(NotNull(signature, "signature")));
            if (rc == -17) // P2P_EREJECTED
            {
                return false;
            }
            Proxy.Check(rc);
            return true;
        }

        /// <summary>Verify(Canonical(json), ...) (p2psecure's verify_data).</summary>
        public static bool VerifyData(string json, string publicKeyPem, string signature)
        {
            return Verify(Canonical(json), publicKeyPem, signature);
        }

        /// <summary>
        /// Python's json.dumps(value, sort_keys=True) of the JSON text json: what is hashed and
        /// signed (p2psecure's get_data_uniq_string).
        /// </summary>
        /// <exception cref="P2PException">InvalidArgument (not JSON).</exception>
        public static string Canonical(string json)
        {
            byte[] data = JsonBytes(json, "json");
            return Encoding.UTF8.GetString(Out(data.Length + 64, (buf, cap) =>
            {
                UIntPtr n;
                int rc = NativeMethods.p2p_secure_canonical(data, (UIntPtr)data.Length, buf, cap, out n);
                return Tuple.Create(rc, n);
            }));
        }

        /// <summary>
        /// A key of size bytes from password and salt: PBKDF2-HMAC-SHA1, 1000 rounds,
        /// PyCryptodome's defaults (p2psecure's encryption_key_from_password).
        /// </summary>
        public static byte[] EncryptionKeyFromPassword(byte[] salt, byte[] password, int size)
        {
            NotNull(salt, "salt");
            NotNull(password, "password");
            if (size < 1)
            {
                throw new ArgumentOutOfRangeException("size");
            }
            var key = new byte[size];
            Proxy.Check(NativeMethods.p2p_secure_derive_key(password, (UIntPtr)password.Length, salt, (UIntPtr)salt.Length, key, (UIntPtr)size));
            return key;
        }

        /// <summary>A password as p2psecure (PyCryptodome) takes a str: Latin-1, else UTF-8.</summary>
        public static byte[] PasswordBytes(string password)
        {
            NotNull(password, "password");
            foreach (char c in password)
            {
                if (c > '\u00ff')
                {
                    return Encoding.UTF8.GetBytes(password);
                }
            }
            var b = new byte[password.Length];
            for (int i = 0; i < password.Length; i++)
            {
                b[i] = (byte)password[i];
            }
            return b;
        }

        /// <summary>data and 1 to 16 zero bytes, up to a multiple of 16 (encrypt_aes_pad).</summary>
        public static byte[] EncryptAesPad(byte[] data)
        {
            NotNull(data, "data");
            return Out(data.Length + 16, (buf, cap) =>
            {
                UIntPtr n;
                int rc = NativeMethods.p2p_secure_aes_pad(data, (UIntPtr)data.Length, buf, cap, out n);
                return Tuple.Create(rc, n);
            });
        }

        /// <summary>iv + AES-CBC of the zero-padded plaintext under key (16, 24 or 32 bytes) (encrypt_aes).</summary>
        public static byte[] EncryptAes(byte[] plaintext, byte[] key)
        {
            return Aes(NativeMethods.p2p_secure_aes_encrypt, NotNull(key, "key"), NotNull(plaintext, "plaintext"), plaintext.Length + 32);
        }

        /// <summary>The plaintext of iv + ciphertext, trailing zero bytes stripped (decrypt_aes).</summary>
        public static byte[] DecryptAes(byte[] ciphertext, byte[] key)
        {
            return Aes(NativeMethods.p2p_secure_aes_decrypt, NotNull(key, "key"), NotNull(ciphertext, "ciphertext"), ciphertext.Length);
        }

        /// <summary>salt + iv + AES-256-CBC under the key PBKDF2 makes of password (encrypt_aes_pw).</summary>
        public static byte[] EncryptAesPw(byte[] plaintext, byte[] password)
        {
            return Aes(NativeMethods.p2p_secure_aes_encrypt_pw, NotNull(password, "password"), NotNull(plaintext, "plaintext"), plaintext.Length + 64);
        }

        /// <summary>EncryptAesPw with a string password (<see cref="PasswordBytes"/>).</summary>
        public static byte[] EncryptAesPw(byte[] plaintext, string password)
        {
            return EncryptAesPw(plaintext, PasswordBytes(password));
        }

        /// <summary>The plaintext of salt + iv + ciphertext (decrypt_aes_pw).</summary>
        public static byte[] DecryptAesPw(byte[] ciphertext, byte[] password)
        {
            return Aes(NativeMethods.p2p_secure_aes_decrypt_pw, NotNull(password, "password"), NotNull(ciphertext, "ciphertext"), ciphertext.Length);
        }

        /// <summary>DecryptAesPw with a string password (<see cref="PasswordBytes"/>).</summary>
        public static byte[] DecryptAesPw(byte[] ciphertext, string password)
        {
            return DecryptAesPw(ciphertext, PasswordBytes(password));
        }

        /// <summary>Writes EncryptAes(plaintext, key) to path, mode 0600, replaced at once (encrypt_aes_file).</summary>
        /// <exception cref="P2PException">Key (cannot write), InvalidArgument.</exception>
        public static void EncryptAesFile(string path, byte[] plaintext, byte[] key)
        {
            NotNull(plaintext, "plaintext");
            NotNull(key, "key");
            Proxy.Check(NativeMethods.p2p_secure_aes_encrypt_file(Utf8.ToNative(NotNull(path, "path")), key, (UIntPtr)key.Length, plaintext, (UIntPtr)plaintext.Length));
        }

        /// <summary>DecryptAes of the file path (decrypt_aes_file).</summary>
        /// <exception cref="P2PException">Key (cannot read), InvalidArgument.</exception>
        public static byte[] DecryptAesFile(string path, byte[] key)
        {
            byte[] p = Utf8.ToNative(NotNull(path, "path"));
            NotNull(key, "key");
            return Out(4096, (buf, cap) =>
            {
                UIntPtr n;
                int rc = NativeMethods.p2p_secure_aes_decrypt_file(p, key, (UIntPtr)key.Length, buf, cap, out n);
                return Tuple.Create(rc, n);
            });
        }

        /// <summary>Writes EncryptAesPw(plaintext, password) to path, mode 0600 (encrypt_aes_file_pw).</summary>
        public static void EncryptAesFilePw(string path, byte[] plaintext, byte[] password)
        {
            NotNull(plaintext, "plaintext");
            NotNull(password, "password");
            Proxy.Check(NativeMethods.p2p_secure_aes_encrypt_file_pw(Utf8.ToNative(NotNull(path, "path")), password, (UIntPtr)password.Length, plaintext, (UIntPtr)plaintext.Length));
        }

        /// <summary>DecryptAesPw of the file path (decrypt_aes_file_pw).</summary>
        public static byte[] DecryptAesFilePw(string path, byte[] password)
        {
            byte[] p = Utf8.ToNative(NotNull(path, "path"));
            NotNull(password, "password");
            return Out(4096, (buf, cap) =>
            {
                UIntPtr n;
                int rc = NativeMethods.p2p_secure_aes_decrypt_file_pw(p, password, (UIntPtr)password.Length, buf, cap, out n);
                return Tuple.Create(rc, n);
            });
        }

        private delegate int AesFn(byte[] secret, UIntPtr secretLen, byte[] data, UIntPtr len, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        private static byte[] Aes(AesFn fn, byte[] secret, byte[] data, int guess)
        {
            return Out(guess, (buf, cap) =>
            {
                UIntPtr n;
                int rc = fn(secret, (UIntPtr)secret.Length, data, (UIntPtr)data.Length, buf, cap, out n);
                return Tuple.Create(rc, n);
            });
        }

        /// <summary>
        /// Calls a helper that writes variable-size bytes: with guess bytes, then with the
        /// exact length it asked for (P2P_ERANGE).
        /// </summary>
        private static byte[] Out(int guess, Func<byte[], UIntPtr, Tuple<int, UIntPtr>> call)
        {
            var buf = new byte[Math.Max(guess, 1)];
            for (int i = 0; i < 3; i++)
            {
                Tuple<int, UIntPtr> r = call(buf, (UIntPtr)buf.Length);
                int n = checked((int)r.Item2.ToUInt64());
                if (r.Item1 == 0)
                {
                    var result = new byte[n];
                    Array.Copy(buf, result, n);
                    return result;
                }
                if (r.Item1 != (int)ErrorCode.Range)
                {
                    throw Proxy.Error(r.Item1);
                }
                buf = new byte[Math.Max(n, 1)];
            }
            throw new P2PException(ErrorCode.Range, "the result kept growing");
        }

        private static T NotNull<T>(T value, string name) where T : class
        {
            if (value == null)
            {
                throw new ArgumentNullException(name);
            }
            return value;
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
