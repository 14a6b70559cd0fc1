using System;
using System.Collections.Generic;
using System.Text;
using P2PNode.Native;
using static P2PNode.Native.NativeConstants;

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

        /// <summary>The node's public key as PEM ("-----BEGIN PUBLIC KEY-----", as it travels in _public_key); null while the node has no key.</summary>
        public string PublicKey => Proxy.PublicKey(H);

        /// <summary>
        /// Checks a signed message as p2psecure's check_message does (signature, _hash,
        /// _message_id, and that _id is a string and _timestamp a number), without any node:
        /// no key pinning, no replay check.
        /// </summary>
        /// <param name="json">The signed JSON text.</param>
        /// <param name="reject">The check it failed; <see cref="Reject.None"/> when it is good.</param>
        /// <param name="reason">Why, in a sentence; null when it is good.</param>
        /// <returns>True when the message is good.</returns>
        public static bool CheckMessage(string json, out Reject reject, out string reason) => CheckMessage(Utf8(json, nameof(json)), out reject, out reason);

        /// <summary>Checks a signed message given as its bytes (a rejected <see cref="Message.Data"/>, say).</summary>
        public static bool CheckMessage(byte[] json, out Reject reject, out string reason) =>
            (reject = Proxy.CheckMessage(NotNull(json, nameof(json)), out reason)) == Reject.None;

        /// <summary>Checks a signed message; true when it is good.</summary>
        public static bool CheckMessage(string json) => CheckMessage(json, out Reject reject, out string reason);

        /// <summary>
        /// Makes a new RSA key pair and makes it the node's key (p2psecure's key_pair_generate).
        /// Any time; peers that pinned the old key reject messages signed with the new one.
        /// A 4096-bit key takes about a second, sometimes several.
        /// </summary>
        /// <param name="bits">Key size: 0 for 4096 (as p2psecure), else at least 2048.</param>
        /// <exception cref="P2PException">InvalidArgument (too small).</exception>
        public void KeyPairGenerate(int bits = 0) => Proxy.KeyGenerate(H, bits);

        /// <summary>
        /// Reads a private key file and makes it the node's key (p2psecure's key_pair_load):
        /// p2psecure's format, p2pnode's (<see cref="KeyFormat"/>), or PEM (PKCS#1 or PKCS#8,
        /// encrypted or not).
        /// </summary>
        /// <param name="path">The key file.</param>
        /// <param name="password">Its password; null or "" for none.</param>
        /// <exception cref="P2PException">Key (cannot read, wrong password, not a key).</exception>
        public void KeyPairLoad(string path, string password = null) => Proxy.KeyLoad(H, NotNull(path, nameof(path)), password);

        /// <summary>Writes the node's private key to a file with mode 0600 (p2psecure's key_pair_save).</summary>
        /// <param name="path">The key file.</param>
        /// <param name="password">Its password; null or "" for none (<see cref="KeyFormat.P2PSecure"/> needs one).</param>
        /// <param name="format">The file format.</param>
        /// <exception cref="P2PException">Key (no key, or the file cannot be written), InvalidArgument.</exception>
        public void KeyPairSave(string path, string password = null, KeyFormat format = KeyFormat.P2PNode) =>
            Proxy.KeySave(H, NotNull(path, nameof(path)), password, format);

        /// <summary>Signs {"_type": "message", "message": json} and sends it to every peer (p2psecure's send_message).</summary>
        /// <param name="json">The text of any JSON value ("1.0", big integers and Unicode survive exactly).</param>
        /// <exception cref="P2PException">InvalidArgument (not JSON), Key (no key), or the first failing peer's code.</exception>
        public void SendMessage(string json) => Proxy.SecureSendMessage(H, Utf8(json, nameof(json)));

        /// <summary>
        /// Signs a JSON object (its underscore fields are replaced) and sends it to one peer.
        /// Unlike the byte and compression overloads of <see cref="Node.Send(Peer, byte[], Compression)"/>,
        /// which send unsigned bytes.
        /// </summary>
        /// <param name="peer">A peer of this node.</param>
        /// <param name="jsonObject">The text of a JSON object.</param>
        /// <exception cref="P2PException">InvalidArgument (not a JSON object), Key, NoPeer, QueueFull, TooBig.</exception>
        public void Send(Peer peer, string jsonObject) => Proxy.SecureSend(H, Mine(peer).Handle, Utf8(jsonObject, nameof(jsonObject)));

        /// <summary>Signs a JSON object once and sends it to every peer but those excluded (p2psecure's send_to_nodes(create_message(data))).</summary>
        /// <param name="jsonObject">The text of a JSON object.</param>
        /// <param name="exclude">Peers not to send it to.</param>
        /// <exception cref="P2PException">InvalidArgument (not a JSON object), Key, or the first failing peer's code.</exception>
        public void SendToNodes(string jsonObject, params Peer[] exclude) => SendToNodes(jsonObject, (IEnumerable<Peer>)exclude);

        /// <summary>Signs a JSON object once and sends it to every peer but those excluded.</summary>
        public void SendToNodes(string jsonObject, IEnumerable<Peer> exclude) =>
            Proxy.SecureBroadcast(H, Utf8(jsonObject, nameof(jsonObject)), Handles(exclude));

        /// <summary>
        /// Pings every peer. Each answers with a pong, and the latency in seconds is then
        /// stored in that peer's info under "ping" as JSON number text
        /// (<c>peer.GetInfo("ping")</c>, UTF-8).
        /// </summary>
        /// <exception cref="P2PException">Key, or the first failing peer's code.</exception>
        public void SendPing() => Proxy.SendPing(H);

        /// <summary>
        /// Asks the network for its connections: every node reached answers with its list of
        /// peers, relayed back the way the discovery came; each answer arrives as
        /// <see cref="OnDiscoveryAnswer"/>.
        /// </summary>
        /// <exception cref="P2PException">Key, or the first failing peer's code.</exception>
        public void SendDiscovery() => Proxy.SendDiscovery(H);

        /// <summary>
        /// Signs a JSON object as p2psecure's create_message does, with the node's id, key,
        /// counters and clock, and returns the signed JSON text (each call signs anew).
        /// </summary>
        /// <param name="jsonObject">The text of a JSON object.</param>
        /// <exception cref="P2PException">InvalidArgument (not a JSON object), Key.</exception>
        public string CreateMessage(string jsonObject) => Encoding.UTF8.GetString(Proxy.CreateMessage(H, Utf8(jsonObject, nameof(jsonObject))));

        /// <summary>Sets the public key accepted from a node id (any time): its messages signed with another key are rejected with <see cref="Reject.KeyMismatch"/>.</summary>
        /// <param name="id">The node id.</param>
        /// <param name="publicKeyPem">An RSA public key as PEM (a <see cref="PublicKey"/>).</param>
        /// <exception cref="P2PException">InvalidArgument (not an RSA public key).</exception>
        public void Pin(string id, string publicKeyPem) => Proxy.Pin(H, NotNull(id, nameof(id)), NotNull(publicKeyPem, nameof(publicKeyPem)));

        /// <summary>Forgets the key pinned for a node id, so that under <see cref="KeyPolicy.TrustOnFirstUse"/> the next key seen for it is pinned.</summary>
        public void Unpin(string id) => Proxy.Pin(H, NotNull(id, nameof(id)), null);

        /// <summary>The PEM of the key pinned for a node id, or null when none is.</summary>
        public string PinnedKey(string id) => Proxy.PinnedKey(H, NotNull(id, nameof(id)));

        /// <summary>
        /// Hands the verified messages of these types to <see cref="OnSecureMessage"/>
        /// (<see cref="SecureMessage.Type"/> "ping", ...) instead of handling them, as a
        /// p2psecure subclass that overrides received_ping and the like does;
        /// <see cref="HandleStep"/> does the node's own steps. <see cref="SecureDelegate.None"/>
        /// (the default) leaves them to the node. Any time.
        /// </summary>
        /// <exception cref="P2PException">InvalidArgument (unknown bits).</exception>
        public void SetDelegate(SecureDelegate types) => Proxy.SetDelegate(H, types);

        /// <summary>Does one step of the node's own handling of a delegated message from peer (see p2p_secure_handle in the C header).</summary>
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
            byte[] data = Utf8(json, nameof(json));
            return Proxy.Handle(H, peer != null ? peer.Handle : 0UL, step, data);
        }

        // ---- p2psecure's helpers, in its formats (see the C header) ----

        /// <summary>The private key, PEM PKCS#1 ("-----BEGIN RSA PRIVATE KEY-----"), as p2psecure's get_private_key: the secret key in clear.</summary>
        /// <exception cref="P2PException">Key (no key yet).</exception>
        public string GetPrivateKey() => Proxy.PrivateKey(H);

        /// <summary>Encrypts message to an RSA public key (PEM) with PKCS#1 v1.5; base64 (p2psecure's encrypt).</summary>
        /// <exception cref="P2PException">InvalidArgument (not an RSA key, message too long).</exception>
        public static string Encrypt(byte[] message, string publicKeyPem) =>
            Encoding.ASCII.GetString(Proxy.Encrypt(Proxy.Z(NotNull(publicKeyPem, nameof(publicKeyPem))), NotNull(message, nameof(message))));

        /// <summary>Decrypts a base64 ciphertext made to this node's public key (p2psecure's decrypt).</summary>
        /// <exception cref="P2PException">InvalidArgument (not base64, not for this key), Key (no key).</exception>
        public byte[] Decrypt(string ciphertext)
        {
            byte[] text = Encoding.ASCII.GetBytes(NotNull(ciphertext, nameof(ciphertext)));
            return Proxy.Decrypt(H, text);
        }

        /// <summary>The base64 RSA PKCS#1 v1.5 SHA-512 signature of message's UTF-8 (p2psecure's sign).</summary>
        /// <exception cref="P2PException">Key (no key).</exception>
        public string Sign(string message)
        {
            byte[] text = Utf8(message, nameof(message));
            return Proxy.Sign(H, text);
        }

        /// <summary>Sign(Canonical(json)): the signature of a JSON value as messages carry it (sign_data).</summary>
        public string SignData(string json) => Sign(Canonical(json));

        /// <summary>Whether signature is publicKeyPem's signature of message (p2psecure's verify).</summary>
        /// <exception cref="P2PException">InvalidArgument (not an RSA public key).</exception>
        public static bool Verify(string message, string publicKeyPem, string signature) =>
            Proxy.Verify(NotNull(publicKeyPem, nameof(publicKeyPem)), Utf8(message, nameof(message)), NotNull(signature, nameof(signature)));

        /// <summary>Verify(Canonical(json), ...) (p2psecure's verify_data).</summary>
        public static bool VerifyData(string json, string publicKeyPem, string signature) => Verify(Canonical(json), publicKeyPem, signature);

        /// <summary>Python's json.dumps(value, sort_keys=True) of the JSON text json: what is hashed and signed (p2psecure's get_data_uniq_string).</summary>
        /// <exception cref="P2PException">InvalidArgument (not JSON).</exception>
        public static string Canonical(string json) => Encoding.UTF8.GetString(Proxy.Canonical(Utf8(json, nameof(json))));

        /// <summary>A key of size bytes from password and salt: PBKDF2-HMAC-SHA1, 1000 rounds, PyCryptodome's defaults (p2psecure's encryption_key_from_password).</summary>
        public static byte[] EncryptionKeyFromPassword(byte[] salt, byte[] password, int size) => size < 1
            ? throw new ArgumentOutOfRangeException(nameof(size))
            : Proxy.DeriveKey(NotNull(password, nameof(password)), NotNull(salt, nameof(salt)), size);

        /// <summary>A password as p2psecure (PyCryptodome) takes a str: Latin-1, else UTF-8.</summary>
        public static byte[] PasswordBytes(string password) => Proxy.Password(NotNull(password, nameof(password)));

        /// <summary>data and 1 to 16 zero bytes, up to a multiple of 16 (encrypt_aes_pad).</summary>
        public static byte[] EncryptAesPad(byte[] data) => Proxy.AesPad(NotNull(data, nameof(data)));

        /// <summary>iv + AES-CBC of the zero-padded plaintext under key (16, 24 or 32 bytes) (encrypt_aes).</summary>
        public static byte[] EncryptAes(byte[] plaintext, byte[] key) =>
            Proxy.Aes(Proxy.AesEncrypt, NotNull(key, nameof(key)), NotNull(plaintext, nameof(plaintext)));

        /// <summary>The plaintext of iv + ciphertext, trailing zero bytes stripped (decrypt_aes).</summary>
        public static byte[] DecryptAes(byte[] ciphertext, byte[] key) =>
            Proxy.Aes(Proxy.AesDecrypt, NotNull(key, nameof(key)), NotNull(ciphertext, nameof(ciphertext)));

        /// <summary>salt + iv + AES-256-CBC under the key PBKDF2 makes of password (encrypt_aes_pw).</summary>
        public static byte[] EncryptAesPw(byte[] plaintext, byte[] password) =>
            Proxy.Aes(Proxy.AesEncryptPw, NotNull(password, nameof(password)), NotNull(plaintext, nameof(plaintext)));

        /// <summary>EncryptAesPw with a string password (<see cref="PasswordBytes"/>).</summary>
        public static byte[] EncryptAesPw(byte[] plaintext, string password) => EncryptAesPw(plaintext, PasswordBytes(password));

        /// <summary>The plaintext of salt + iv + ciphertext (decrypt_aes_pw).</summary>
        public static byte[] DecryptAesPw(byte[] ciphertext, byte[] password) =>
            Proxy.Aes(Proxy.AesDecryptPw, NotNull(password, nameof(password)), NotNull(ciphertext, nameof(ciphertext)));

        /// <summary>DecryptAesPw with a string password (<see cref="PasswordBytes"/>).</summary>
        public static byte[] DecryptAesPw(byte[] ciphertext, string password) => DecryptAesPw(ciphertext, PasswordBytes(password));

        /// <summary>Writes EncryptAes(plaintext, key) to path, mode 0600, replaced at once (encrypt_aes_file).</summary>
        /// <exception cref="P2PException">Key (cannot write), InvalidArgument.</exception>
        public static void EncryptAesFile(string path, byte[] plaintext, byte[] key) =>
            Proxy.AesEncryptFile(NotNull(path, nameof(path)), NotNull(key, nameof(key)), NotNull(plaintext, nameof(plaintext)), false);

        /// <summary>DecryptAes of the file path (decrypt_aes_file).</summary>
        /// <exception cref="P2PException">Key (cannot read), InvalidArgument.</exception>
        public static byte[] DecryptAesFile(string path, byte[] key) => Proxy.AesDecryptFile(NotNull(path, nameof(path)), NotNull(key, nameof(key)), false);

        /// <summary>Writes EncryptAesPw(plaintext, password) to path, mode 0600 (encrypt_aes_file_pw).</summary>
        public static void EncryptAesFilePw(string path, byte[] plaintext, byte[] password) =>
            Proxy.AesEncryptFile(NotNull(path, nameof(path)), NotNull(password, nameof(password)), NotNull(plaintext, nameof(plaintext)), true);

        /// <summary>DecryptAesPw of the file path (decrypt_aes_file_pw).</summary>
        public static byte[] DecryptAesFilePw(string path, byte[] password) => Proxy.AesDecryptFile(NotNull(path, nameof(path)), NotNull(password, nameof(password)), true);

        /// <summary>A message passed every check. The base method raises <see cref="SecureMessageReceived"/>.</summary>
        /// <param name="peer">The neighbour it came from (not necessarily its signer, <see cref="SecureMessage.SenderId"/>).</param>
        /// <param name="message">The message.</param>
        protected virtual void OnSecureMessage(Peer peer, SecureMessage message) =>
            Raise(SecureMessageReceived, new SecureMessageEventArgs(peer, message), nameof(SecureMessageReceived));

        /// <summary>A message failed a check; the connection stays up. The base method raises <see cref="MessageRejected"/>.</summary>
        /// <param name="peer">The neighbour it came from.</param>
        /// <param name="raw">The payload that was refused, as received.</param>
        /// <param name="reject">The check it failed.</param>
        /// <param name="reason">Why, in a sentence for people.</param>
        protected virtual void OnMessageRejected(Peer peer, Message raw, Reject reject, string reason) =>
            Raise(MessageRejected, new MessageRejectedEventArgs(peer, raw, reject, reason), nameof(MessageRejected));

        /// <summary>An answer to <see cref="SendDiscovery"/> arrived. The base method raises <see cref="DiscoveryAnswerReceived"/>.</summary>
        /// <param name="peer">The neighbour that relayed it.</param>
        /// <param name="answer">Who answered, and its peers.</param>
        protected virtual void OnDiscoveryAnswer(Peer peer, DiscoveryAnswer answer) =>
            Raise(DiscoveryAnswerReceived, new DiscoveryAnswerEventArgs(peer, answer), nameof(DiscoveryAnswerReceived));

        /// <summary>Copies a secure event out of native memory and calls its event method.</summary>
        internal override void DeliverMore(ref P2PEv ev, Peer peer)
        {
            switch ((P2PEventType)ev.type)
            {
                case P2PEventType.SecureMessage:
                    Message m = Proxy.MessageOf(ref ev);
                    OnSecureMessage(peer, new SecureMessage(Proxy.Str(ev.sender_id), Proxy.Str(ev.msg_type), m.Text ?? "", m.Compression));
                    break;
                case P2PEventType.MessageRejected:
                    OnMessageRejected(peer, Proxy.MessageOf(ref ev), (Reject)ev.reject, Proxy.Str(ev.reason));
                    break;
                case P2PEventType.DiscoveryAnswer:
                    OnDiscoveryAnswer(peer, new DiscoveryAnswer(Proxy.Str(ev.sender_id), Proxy.Str(ev.msg_type), Proxy.MessageOf(ref ev).Text ?? "", Proxy.NodesOf(ref ev)));
                    break;
            }
        }
    }
}
