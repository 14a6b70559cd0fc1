using System;
using System.Collections.Generic;
using System.Text;
using P2PNode.Native;
using static P2PNode.Native.Proxy;
using N = P2PNode.Native.NativeMethods;

namespace P2PNode
{
    /// <summary>A node whose messages are JSON objects signed with its RSA key and checked on receipt, as p2psecure's SecureNode
    /// (README: what it receives, keys, unsigned sends).</summary>
    public class SecureNode : Node
    {
        /// <summary>Creates a secure node without a key and binds its listening socket, as a <see cref="Node"/>; config (copied, null
        /// for the defaults) sets the checks made on what it receives.</summary>
        /// <exception cref="P2PException">InvalidArgument (also for a bad config), Bind.</exception>
        public SecureNode(string host, int port = 0, string id = null, int maxConnections = 0, SecureConfig config = null)
            : base(New(host, port, id, maxConnections, SecureConfig.ToNative(config))) { }

        private static NodeHandle New(string host, int port, string id, int maxConnections, P2PSecureOpts opts) =>
            Made(N.p2p_secure_node_create(Z(host ?? ""), port, Z(id ?? ""), maxConnections, ref opts, out NodeHandle h), h);
        /// <summary>A received message passed every check.</summary>
        public event EventHandler<SecureMessageEventArgs> SecureMessageReceived;
        /// <summary>A received message failed a check (the connection stays up).</summary>
        public event EventHandler<MessageRejectedEventArgs> MessageRejected;
        /// <summary>An answer to <see cref="SendDiscovery"/> arrived.</summary>
        public event EventHandler<DiscoveryAnswerEventArgs> DiscoveryAnswerReceived;
        /// <summary>The node's public key as PEM (as it travels in _public_key); null while the node has no key.</summary>
        public string PublicKey => Text((out P2PBuf b) => N.p2p_secure_public_key_buf(H, out b), (int)ErrorCode.Key);
        /// <summary>Checks a signed message as p2psecure's check_message does, without any node (no pinning, no replay check):
        /// true when it is good, else false, the check it failed and why.</summary>
        public static bool CheckMessage(string json, out Reject reject, out string reason) => CheckMessage(Node.Utf8(json, nameof(json)), out reject, out reason);
        /// <summary>Checks a signed message given as its bytes (a rejected <see cref="Message.Data"/>, say).</summary>
        public static bool CheckMessage(byte[] json, out Reject reject, out string reason)
        {
            int rc = N.p2p_secure_check_message(NotNull(json, nameof(json)), Len(json), out int why);
            reason = rc == (int)ErrorCode.Rejected ? Str(N.p2p_errmsg()) : null; // read before any other call
            reject = reason == null ? Reject.None : why == (int)Reject.None ? Reject.Malformed : (Reject)why;
            if (reason == null) Check(rc);
            return reason == null;
        }

        /// <summary>Checks a signed message; true when it is good.</summary>
        public static bool CheckMessage(string json) => CheckMessage(json, out Reject reject, out string reason);
        /// <summary>Makes a new RSA key pair of bits (0: 4096, else at least 2048) the node's key (key_pair_generate); any time.</summary>
        public void KeyPairGenerate(int bits = 0) => Check(N.p2p_secure_key_generate(H, bits));
        /// <summary>Reads a private key file (p2psecure's, p2pnode's or PEM) and makes it the node's key (key_pair_load).</summary>
        /// <exception cref="P2PException">Key (cannot read, wrong password, not a key).</exception>
        public void KeyPairLoad(string path, string password = null) => Check(N.p2p_secure_key_load(H, Z(NotNull(path, nameof(path))), Z(password)));
        /// <summary>Writes the node's private key to a file with mode 0600 (key_pair_save); <see cref="KeyFormat.P2PSecure"/> needs a password.</summary>
        /// <exception cref="P2PException">Key (no key, or the file cannot be written), InvalidArgument.</exception>
        public void KeyPairSave(string path, string password = null, KeyFormat format = KeyFormat.P2PNode) =>
            Check(N.p2p_secure_key_save(H, Z(NotNull(path, nameof(path))), Z(password), (int)format));
        /// <summary>Signs {"_type": "message", "message": json} and sends it to every peer (send_message).</summary>
        /// <exception cref="P2PException">InvalidArgument (not JSON), Key (no key), or the first failing peer's code.</exception>
        public void SendMessage(string json) => Check(Utf8Call(json, nameof(json), (d, n) => N.p2p_secure_send_message(H, d, n)));
        /// <summary>Signs a JSON object (its underscore fields replaced) and sends it to one peer.</summary>
        /// <exception cref="P2PException">InvalidArgument (not a JSON object), Key, NoPeer, QueueFull, TooBig.</exception>
        public void Send(Peer peer, string jsonObject) => Check(Utf8Call(jsonObject, nameof(jsonObject), (d, n) => N.p2p_secure_send(H, Mine(peer).Handle, d, n)));
        /// <summary>Signs a JSON object once and sends it to every peer but those excluded (send_to_nodes(create_message(data))).</summary>
        public void SendToNodes(string jsonObject, params Peer[] exclude) => SendToNodes(jsonObject, (IEnumerable<Peer>)exclude);
        /// <summary>Signs a JSON object once and sends it to every peer but those excluded.</summary>
        public void SendToNodes(string jsonObject, IEnumerable<Peer> exclude)
        {
            ulong[] ex = Handles(exclude);
            Check(Utf8Call(jsonObject, nameof(jsonObject), (d, n) => N.p2p_secure_broadcast(H, d, n, ex, Len(ex))));
        }

        /// <summary>Pings every peer; each latency in seconds is then stored in the peer's info "ping" as JSON number text.</summary>
        public void SendPing() => Check(N.p2p_secure_send_ping(H));
        /// <summary>Asks the network for its connections; each node's answer arrives as <see cref="OnDiscoveryAnswer"/>.</summary>
        public void SendDiscovery() => Check(N.p2p_secure_send_discovery(H));
        /// <summary>Signs a JSON object as p2psecure's create_message does and returns the signed JSON text.</summary>
        public string CreateMessage(string jsonObject) => Encoding.UTF8.GetString(Data(jsonObject, nameof(jsonObject),
            (byte[] j, UIntPtr n, out P2PBuf b) => N.p2p_secure_create_message_buf(H, j, n, out b)));
        /// <summary>Sets the public key (PEM) accepted from a node id; its messages signed with another key are rejected (KeyMismatch).</summary>
        public void Pin(string id, string publicKeyPem) => Check(N.p2p_secure_pin(H, Z(NotNull(id, nameof(id))), Z(NotNull(publicKeyPem, nameof(publicKeyPem)))));
        /// <summary>Forgets the key pinned for a node id.</summary>
        public void Unpin(string id) => Check(N.p2p_secure_pin(H, Z(NotNull(id, nameof(id))), null));
        /// <summary>The PEM of the key pinned for a node id, or null when none is.</summary>
        public string PinnedKey(string id) => Text((out P2PBuf b) => N.p2p_secure_pinned_key_buf(H, Z(NotNull(id, nameof(id))), out b), (int)ErrorCode.NotFound);
        /// <summary>Hands the verified messages of these types to <see cref="OnSecureMessage"/> instead of handling them
        /// (as a p2psecure subclass overriding received_ping does); <see cref="HandleStep"/> does the node's own steps.</summary>
        public void SetDelegate(SecureDelegate types) => Check(N.p2p_secure_set_delegate(H, (int)types));
        /// <summary>Does one step of the node's own handling of a delegated message from peer (p2p_secure_handle in the header).</summary>
        /// <returns>Ok, AlreadyConnected (a discovery seen before) or NotFound (not an answer this node relays).</returns>
        public ErrorCode HandleStep(Peer peer, SecureStep step, string json)
        {
            int rc = Utf8Call(json, nameof(json), (d, n) => N.p2p_secure_handle(H, peer != null ? peer.Handle : 0UL, (int)step, d, n));
            return (ErrorCode)(rc == (int)ErrorCode.AlreadyConnected || rc == (int)ErrorCode.NotFound ? rc : Check(rc));
        }

        /// <summary>The private key, PEM PKCS#1, as p2psecure's get_private_key: the secret key in clear.</summary>
        public string GetPrivateKey() => Text((out P2PBuf b) => N.p2p_secure_private_key_buf(H, out b), wipe: true);
        /// <summary>Encrypts message to an RSA public key (PEM) with PKCS#1 v1.5; base64 (p2psecure's encrypt).</summary>
        public static string Encrypt(byte[] message, string publicKeyPem) => Encoding.ASCII.GetString(Data(message, nameof(message),
            (byte[] d, UIntPtr n, out P2PBuf b) => N.p2p_secure_encrypt_buf(Z(NotNull(publicKeyPem, nameof(publicKeyPem))), d, n, out b)));
        /// <summary>Decrypts a base64 ciphertext made to this node's public key (p2psecure's decrypt).</summary>
        public byte[] Decrypt(string ciphertext) => Data(Encoding.ASCII.GetBytes(NotNull(ciphertext, nameof(ciphertext))), nameof(ciphertext),
            (byte[] t, UIntPtr n, out P2PBuf b) => N.p2p_secure_decrypt_buf(H, t, n, out b));
        /// <summary>The base64 RSA PKCS#1 v1.5 SHA-512 signature of message's UTF-8 (p2psecure's sign).</summary>
        public string Sign(string message) => Encoding.UTF8.GetString(Data(message, nameof(message),
            (byte[] t, UIntPtr n, out P2PBuf b) => N.p2p_secure_sign_buf(H, t, n, out b)));
        /// <summary>Sign(Canonical(json)): the signature of a JSON value as messages carry it (sign_data).</summary>
        public string SignData(string json) => Sign(Canonical(json));
        /// <summary>Whether signature is publicKeyPem's signature of message (p2psecure's verify).</summary>
        public static bool Verify(string message, string publicKeyPem, string signature)
        {
            byte[] pem = Z(NotNull(publicKeyPem, nameof(publicKeyPem))), sig = Z(NotNull(signature, nameof(signature)));
            int rc = Utf8Call(message, nameof(message), (d, n) => N.p2p_secure_verify(pem, d, n, sig));
            return rc != (int)ErrorCode.Rejected && Check(rc) >= 0;
        }

        /// <summary>Verify(Canonical(json), ...) (p2psecure's verify_data).</summary>
        public static bool VerifyData(string json, string publicKeyPem, string signature) => Verify(Canonical(json), publicKeyPem, signature);
        /// <summary>Python's json.dumps(value, sort_keys=True) of the JSON text json: what is hashed and signed (get_data_uniq_string).</summary>
        public static string Canonical(string json) => Encoding.UTF8.GetString(Data(json, nameof(json), N.p2p_secure_canonical_buf));
        /// <summary>A key of size bytes from password and salt: PBKDF2-HMAC-SHA1, 1000 rounds (encryption_key_from_password).</summary>
        public static byte[] EncryptionKeyFromPassword(byte[] salt, byte[] password, int size)
        {
            var key = new byte[size < 1 ? throw new ArgumentOutOfRangeException(nameof(size)) : size];
            Check(N.p2p_secure_derive_key(NotNull(password, nameof(password)), Len(password), NotNull(salt, nameof(salt)), Len(salt), key, Len(key)));
            return key;
        }

        /// <summary>A password as p2psecure (PyCryptodome) takes a str: Latin-1, else UTF-8.</summary>
        public static byte[] PasswordBytes(string password) => Data(password, nameof(password), N.p2p_secure_password);
        /// <summary>data and 1 to 16 zero bytes, up to a multiple of 16 (encrypt_aes_pad).</summary>
        public static byte[] EncryptAesPad(byte[] data) => Data(data, nameof(data), N.p2p_secure_aes_pad_buf);
        /// <summary>iv + AES-CBC of the zero-padded plaintext under key (16, 24 or 32 bytes) (encrypt_aes).</summary>
        public static byte[] EncryptAes(byte[] plaintext, byte[] key) => Aes(N.p2p_secure_aes_encrypt_buf, key, nameof(key), plaintext, nameof(plaintext));
        /// <summary>The plaintext of iv + ciphertext, trailing zero bytes stripped (decrypt_aes).</summary>
        public static byte[] DecryptAes(byte[] ciphertext, byte[] key) => Aes(N.p2p_secure_aes_decrypt_buf, key, nameof(key), ciphertext, nameof(ciphertext));
        /// <summary>salt + iv + AES-256-CBC under the key PBKDF2 makes of password (encrypt_aes_pw).</summary>
        public static byte[] EncryptAesPw(byte[] plaintext, byte[] password) => Aes(N.p2p_secure_aes_encrypt_pw_buf, password, nameof(password), plaintext, nameof(plaintext));
        /// <summary>EncryptAesPw with a string password (<see cref="PasswordBytes"/>).</summary>
        public static byte[] EncryptAesPw(byte[] plaintext, string password) => EncryptAesPw(plaintext, PasswordBytes(password));
        /// <summary>The plaintext of salt + iv + ciphertext (decrypt_aes_pw).</summary>
        public static byte[] DecryptAesPw(byte[] ciphertext, byte[] password) => Aes(N.p2p_secure_aes_decrypt_pw_buf, password, nameof(password), ciphertext, nameof(ciphertext));
        /// <summary>DecryptAesPw with a string password (<see cref="PasswordBytes"/>).</summary>
        public static byte[] DecryptAesPw(byte[] ciphertext, string password) => DecryptAesPw(ciphertext, PasswordBytes(password));
        /// <summary>Writes EncryptAes(plaintext, key) to path, mode 0600, replaced at once (encrypt_aes_file).</summary>
        public static void EncryptAesFile(string path, byte[] plaintext, byte[] key) => AesFile(N.p2p_secure_aes_encrypt_file, path, key, nameof(key), plaintext);
        /// <summary>DecryptAes of the file path (decrypt_aes_file).</summary>
        public static byte[] DecryptAesFile(string path, byte[] key) => AesFile(N.p2p_secure_aes_decrypt_file_buf, path, key, nameof(key));
        /// <summary>Writes EncryptAesPw(plaintext, password) to path, mode 0600 (encrypt_aes_file_pw).</summary>
        public static void EncryptAesFilePw(string path, byte[] plaintext, byte[] password) => AesFile(N.p2p_secure_aes_encrypt_file_pw, path, password, nameof(password), plaintext);
        /// <summary>DecryptAesPw of the file path (decrypt_aes_file_pw).</summary>
        public static byte[] DecryptAesFilePw(string path, byte[] password) => AesFile(N.p2p_secure_aes_decrypt_file_pw_buf, path, password, nameof(password));
        /// <summary>A message passed every check; raises <see cref="SecureMessageReceived"/>. peer is the neighbour it came from.</summary>
        protected virtual void OnSecureMessage(Peer peer, SecureMessage message) =>
            Raise(SecureMessageReceived, new SecureMessageEventArgs(peer, message), nameof(SecureMessageReceived));
        /// <summary>A message failed a check (the connection stays up); raises <see cref="MessageRejected"/>.</summary>
        protected virtual void OnMessageRejected(Peer peer, Message raw, Reject reject, string reason) =>
            Raise(MessageRejected, new MessageRejectedEventArgs(peer, raw, reject, reason), nameof(MessageRejected));
        /// <summary>An answer to <see cref="SendDiscovery"/> arrived (peer relayed it); raises <see cref="DiscoveryAnswerReceived"/>.</summary>
        protected virtual void OnDiscoveryAnswer(Peer peer, DiscoveryAnswer answer) =>
            Raise(DiscoveryAnswerReceived, new DiscoveryAnswerEventArgs(peer, answer), nameof(DiscoveryAnswerReceived));

        internal override void DeliverMore(ref P2PEv ev, Peer peer)
        {
            switch ((P2PEventType)ev.type)
            {
                case P2PEventType.SecureMessage:
                    Message m = MessageOf(ref ev);
                    OnSecureMessage(peer, new SecureMessage(Str(ev.sender_id), Str(ev.msg_type), m.Text ?? "", m.Compression));
                    break;
                case P2PEventType.MessageRejected: OnMessageRejected(peer, MessageOf(ref ev), (Reject)ev.reject, Str(ev.reason)); break;
                case P2PEventType.DiscoveryAnswer:
                    OnDiscoveryAnswer(peer, new DiscoveryAnswer(Str(ev.sender_id), Str(ev.msg_type), MessageOf(ref ev).Text ?? "",
                        Entries(ev.nodes, ev.n_nodes, d => new DiscoveredNode(Str(d.id), Str(d.host), d.port, (Direction)d.direction)),
                        (Compression)ev.compression));
                    break;
            }
        }

        // ---- the shapes of the p2psecure helpers' native calls ----
        private delegate int DataFn(byte[] data, UIntPtr len, out P2PBuf buf);
        private delegate int AesFn(byte[] secret, UIntPtr secretLen, byte[] data, UIntPtr len, out P2PBuf buf);
        private delegate int FileWriteFn(byte[] path, byte[] secret, UIntPtr secretLen, byte[] data, UIntPtr len);
        private delegate int FileReadFn(byte[] path, byte[] secret, UIntPtr secretLen, out P2PBuf buf);

        private static byte[] Data(string text, string name, DataFn fn) => Data(Node.Utf8(text, name), name, fn);
        private static byte[] Data(byte[] data, string name, DataFn fn) => Buf((out P2PBuf b) => fn(NotNull(data, name), Len(data), out b));

        private static byte[] Aes(AesFn fn, byte[] secret, string secretName, byte[] data, string dataName) =>
            Buf((out P2PBuf b) => fn(NotNull(secret, secretName), Len(secret), NotNull(data, dataName), Len(data), out b));

        private static void AesFile(FileWriteFn fn, string path, byte[] secret, string secretName, byte[] plaintext) =>
            Check(fn(Z(NotNull(path, nameof(path))), NotNull(secret, secretName), Len(secret), NotNull(plaintext, nameof(plaintext)), Len(plaintext)));

        private static byte[] AesFile(FileReadFn fn, string path, byte[] secret, string secretName) =>
            Buf((out P2PBuf b) => fn(Z(NotNull(path, nameof(path))), NotNull(secret, secretName), Len(secret), out b));
    }

    /// <summary>The checks a <see cref="SecureNode"/> makes on what it receives (p2p_secure_opts); a zero property means the default.</summary>
    public sealed class SecureConfig
    {
        /// <summary>Which public key is accepted for a sender's node id (default <see cref="KeyPolicy.TrustOnFirstUse"/>).</summary>
        public KeyPolicy KeyPolicy { get; set; }
        /// <summary>Smallest RSA key accepted in a message, in bits (default 2048).</summary>
        public int MinKeyBits { get; set; }
        /// <summary>How old a message's _timestamp may be, in milliseconds (default 5 minutes); negative turns the timestamp and replay checks off.</summary>
        public TimeSpan ReplayWindow { get; set; }
        /// <summary>How far ahead of our clock a message's _timestamp may be, in milliseconds (default 1 minute); not negative.</summary>
        public TimeSpan MaxClockSkew { get; set; }
        /// <summary>Keys pinned on first use at most (default 65536).</summary>
        public int MaxPinnedKeys { get; set; }

        internal static P2PSecureOpts ToNative(SecureConfig config)
        {
            var o = Proxy.Sized<P2PSecureOpts>();
            if (config == null) return o;
            o.key_policy = (int)config.KeyPolicy;
            o.min_key_bits = config.MinKeyBits;
            o.replay_window_ms = Milliseconds(config.ReplayWindow);
            o.max_clock_skew_ms = Milliseconds(config.MaxClockSkew);
            o.max_pinned_keys = config.MaxPinnedKeys;
            return o;
        }

        // Whole milliseconds; a negative span under a millisecond stays negative (not 0, the default).
        private static long Milliseconds(TimeSpan span) => (long)span.TotalMilliseconds == 0 && span < TimeSpan.Zero ? -1 : (long)span.TotalMilliseconds;
    }
}
