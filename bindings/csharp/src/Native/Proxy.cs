using System;
using System.Runtime.InteropServices;
using System.Text;
using static P2PNode.Native.NativeConstants;
using N = P2PNode.Native.NativeMethods;

namespace P2PNode.Native
{
    /// <summary>
    /// The one layer between the public classes and <see cref="NativeMethods"/>: it converts
    /// arguments and results, and turns every failing status code into a <see cref="P2PException"/>
    /// carrying the code and the library's message for this thread.
    /// </summary>
    internal static class Proxy
    {
        /// <summary>A call that fills buf (capacity cap) and says in len how much it wrote, or needs.</summary>
        internal delegate int Fill<T>(T[] buf, UIntPtr cap, out UIntPtr len);

        internal static int Check(int rc) => rc < 0 ? throw Error(rc) : rc;

        internal static P2PException Error(int rc)
        {
            // Read on the failing thread, before any other call into the library.
            string message = Str(N.p2p_errmsg());
            return new P2PException((ErrorCode)rc, message.Length > 0 ? message : StrError(rc));
        }

        internal static string StrError(int rc) => Str(N.p2p_strerror(rc));
        internal static string Version() => Str(N.p2p_version());

        // ---- UTF-8 at the boundary ----

        /// <summary>The NUL-terminated UTF-8 of s; null stays null.</summary>
        internal static byte[] Z(string s) => s == null ? null : Encoding.UTF8.GetBytes(s + "\0");

        /// <summary>The NUL-terminated UTF-8 string at p ("" for a null pointer).</summary>
        internal static string Str(IntPtr p)
        {
            if (p == IntPtr.Zero) return string.Empty;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            return Encoding.UTF8.GetString(Bytes(p, n));
        }

        /// <summary>The text in buf up to its first NUL.</summary>
        internal static string Str(byte[] buf)
        {
            int n = Array.IndexOf(buf, (byte)0);
            return Encoding.UTF8.GetString(buf, 0, n < 0 ? buf.Length : n);
        }

        /// <summary>A copy of the n bytes at p.</summary>
        internal static byte[] Bytes(IntPtr p, long n)
        {
            var b = new byte[n];
            if (n > 0) Marshal.Copy(p, b, 0, (int)n);
            return b;
        }

        private static UIntPtr Len(Array a) => (UIntPtr)(a?.Length ?? 0);

        // ---- Results the library copies out ----

        /// <summary>
        /// Calls fill with a buffer of guess elements and, when the library answers ERANGE with the
        /// size it needs, once more with that size (the one place that does so); null when it answers
        /// <paramref name="absent"/>.
        /// </summary>
        internal static T[] Sized<T>(int guess, Fill<T> fill, int absent = 1)
        {
            var buf = new T[Math.Max(guess, 1)];
            for (int tries = 0; ; tries++)
            {
                UIntPtr len;
                int rc = fill(buf, Len(buf), out len);
                long n = checked((long)len.ToUInt64());
                if (rc == absent) return null;
                if ((rc == P2P_ERANGE || (rc >= 0 && n > buf.Length)) && tries < 3)
                {
                    buf = new T[Math.Max(n, 1)];
                    continue;
                }
                Check(rc);
                var result = new T[n];
                Array.Copy(buf, result, n);
                return result;
            }
        }

        /// <summary>A NUL-terminated string the library writes into a buffer of at most max bytes; null when it answers absent.</summary>
        internal static string Text(int max, Func<byte[], UIntPtr, int> call, int absent = 1, bool wipe = false)
        {
            var buf = new byte[max + 1];
            int rc = call(buf, Len(buf));
            if (rc == absent) return null;
            Check(rc);
            string s = Str(buf);
            if (wipe) Array.Clear(buf, 0, buf.Length);
            return s;
        }

        // ---- Node ----

        internal static NodeHandle NodeNew(string host, int port, string id, int maxConnections)
        {
            NodeHandle h;
            return Made(N.p2p_node_new(Z(host ?? ""), port, Z(id ?? ""), maxConnections, out h), h);
        }

        internal static NodeHandle SecureNodeNew(string host, int port, string id, int maxConnections, P2PSecureConfig cfg)
        {
            NodeHandle h;
            return Made(N.p2p_secure_node_new(Z(host ?? ""), port, Z(id ?? ""), maxConnections, ref cfg, out h), h);
        }

        // The handle a constructor made, or its error (releasing whatever handle came back with it).
        private static NodeHandle Made(int rc, NodeHandle h)
        {
            if (rc >= 0) return h;
            var e = Error(rc);
            h?.Dispose();
            throw e;
        }

        internal static void SetCallback(NodeHandle h, N.p2p_event_fn fn, IntPtr userData) => Check(N.p2p_node_set_callback(h, fn, userData));
        internal static void SetLimit(NodeHandle h, Limit limit, long value) => Check(N.p2p_node_set_limit(h, (int)limit, value));
        internal static long GetLimit(NodeHandle h, Limit limit) { long v; Check(N.p2p_node_get_limit(h, (int)limit, out v)); return v; }
        internal static void SetDebug(NodeHandle h, bool on) => Check(N.p2p_node_set_debug(h, on ? 1 : 0));
        internal static bool GetDebug(NodeHandle h) { int on; Check(N.p2p_node_get_debug(h, out on)); return on != 0; }
        internal static void Start(NodeHandle h) => Check(N.p2p_node_start(h));
        internal static void Stop(NodeHandle h) => Check(N.p2p_node_stop(h));
        /// <summary>Stops without throwing (at exit, after dispose): its status has nowhere to go.</summary>
        internal static void StopQuietly(NodeHandle h) => N.p2p_node_stop(h);
        internal static string NodeId(NodeHandle h) => Text(P2P_MAX_ID_LEN, (b, n) => N.p2p_node_id(h, b, n));
        internal static string NodeHost(NodeHandle h) => Text(P2P_MAX_HOST_LEN, (b, n) => N.p2p_node_host(h, b, n));
        internal static int NodePort(NodeHandle h) { int p; Check(N.p2p_node_port(h, out p)); return p; }
        internal static NodeCounters Counters(NodeHandle h) { P2PCounters c; Check(N.p2p_node_counters(h, out c)); return new NodeCounters(c); }
        internal static NodeCounters PeerCounters(NodeHandle h, ulong peer) { P2PCounters c; Check(N.p2p_peer_counters(h, peer, out c)); return new NodeCounters(c); }

        /// <summary>The handles of the node's peers of one direction ((int)P2PDirection.All: every peer).</summary>
        internal static ulong[] Peers(NodeHandle h, int direction) => Sized<ulong>(16, (ulong[] b, UIntPtr cap, out UIntPtr n) => N.p2p_node_peers(h, direction, b, cap, out n));

        /// <summary>Dials; the status comes back as it is, for the caller to throw after its own bookkeeping.</summary>
        internal static int Connect(NodeHandle h, string host, int port, bool reconnect, out ulong peer) => N.p2p_node_connect(h, Z(host), port, reconnect ? 1 : 0, out peer);
        internal static void Disconnect(NodeHandle h, ulong peer) => Check(N.p2p_node_disconnect(h, peer));
        internal static void Send(NodeHandle h, ulong peer, byte[] data, Compression c) => Check(N.p2p_node_send(h, peer, data, Len(data), (int)c));
        internal static void Broadcast(NodeHandle h, byte[] data, ulong[] exclude, Compression c) => Check(N.p2p_node_broadcast(h, data, Len(data), exclude, Len(exclude), (int)c));

        /// <summary>A peer's facts; null when the peer is gone (ENOPEER).</summary>
        internal static Peer PeerInfo(Node node, NodeHandle h, ulong peer)
        {
            var id = new byte[P2P_MAX_ID_LEN + 1];
            var host = new byte[P2P_MAX_HOST_LEN + 1];
            int port, dir, rc = N.p2p_peer_id(h, peer, id, Len(id));
            if (rc >= 0) rc = N.p2p_peer_host(h, peer, host, Len(host));
            if (rc >= 0) rc = N.p2p_peer_port(h, peer, out port); else port = 0;
            if (rc >= 0) rc = N.p2p_peer_direction(h, peer, out dir); else dir = 0;
            if (rc == P2P_ENOPEER) return null;
            Check(rc);
            return new Peer(node, peer, Str(id), Str(host), port, (Direction)dir);
        }

        internal static void PeerSetInfo(NodeHandle h, ulong peer, string key, byte[] value) => Check(N.p2p_peer_set_info(h, peer, Z(key), value, Len(value)));

        /// <summary>The value under key, or null when there is none (ENOTFOUND).</summary>
        internal static byte[] PeerGetInfo(NodeHandle h, ulong peer, string key)
        {
            byte[] k = Z(key);
            return Sized<byte>(64, (byte[] b, UIntPtr cap, out UIntPtr n) => N.p2p_peer_get_info(h, peer, k, b, cap, out n), P2P_ENOTFOUND);
        }

        // ---- Event payloads ----

        internal static Message MessageOf(ref P2PEvent ev) =>
            new Message((MessageKind)ev.kind, Bytes(ev.data, (long)ev.data_len.ToUInt64()), (Compression)ev.compression);

        private static readonly int DiscoveredSize = Marshal.SizeOf(typeof(P2PDiscovered));

        internal static DiscoveredNode[] NodesOf(ref P2PEvent ev)
        {
            long n = ev.nodes == IntPtr.Zero ? 0 : (long)ev.n_nodes.ToUInt64();
            var nodes = new DiscoveredNode[n];
            for (long i = 0; i < n; i++)
            {
                var d = (P2PDiscovered)Marshal.PtrToStructure(new IntPtr(ev.nodes.ToInt64() + i * DiscoveredSize), typeof(P2PDiscovered));
                nodes[i] = new DiscoveredNode(Str(d.id), Str(d.host), d.port, (Direction)d.direction);
            }
            return nodes;
        }

        // ---- Secure node ----

        internal static void KeyGenerate(NodeHandle h, int bits) => Check(N.p2p_secure_key_generate(h, bits));
        internal static void KeyLoad(NodeHandle h, string path, string password) => Check(N.p2p_secure_key_load(h, Z(path), Z(password)));
        internal static void KeySave(NodeHandle h, string path, string password, KeyFormat format) => Check(N.p2p_secure_key_save(h, Z(path), Z(password), (int)format));
        /// <summary>The node's public key PEM, or null when it has no key yet (EKEY).</summary>
        internal static string PublicKey(NodeHandle h) => Text(P2P_MAX_KEY_PEM_LEN, (b, n) => N.p2p_secure_public_key(h, b, n), P2P_EKEY);
        /// <summary>The PEM pinned for id, or null when none is (ENOTFOUND).</summary>
        internal static string PinnedKey(NodeHandle h, string id) => Text(P2P_MAX_KEY_PEM_LEN, (b, n) => N.p2p_secure_pinned_key(h, Z(id), b, n), P2P_ENOTFOUND);
        internal static string PrivateKey(NodeHandle h) => Text(P2P_MAX_PRIVATE_KEY_PEM_LEN, (b, n) => N.p2p_secure_private_key(h, b, n), wipe: true);
        internal static void Pin(NodeHandle h, string id, string pem) => Check(N.p2p_secure_pin(h, Z(id), Z(pem)));
        internal static void SecureSendMessage(NodeHandle h, byte[] json) => Check(N.p2p_secure_send_message(h, json, Len(json)));
        internal static void SecureSend(NodeHandle h, ulong peer, byte[] json) => Check(N.p2p_secure_send(h, peer, json, Len(json)));
        internal static void SecureBroadcast(NodeHandle h, byte[] json, ulong[] exclude) => Check(N.p2p_secure_broadcast(h, json, Len(json), exclude, Len(exclude)));
        internal static void SendPing(NodeHandle h) => Check(N.p2p_secure_send_ping(h));
        internal static void SendDiscovery(NodeHandle h) => Check(N.p2p_secure_send_discovery(h));
        internal static void SetDelegate(NodeHandle h, SecureDelegate types) => Check(N.p2p_secure_set_delegate(h, (int)types));

        /// <summary>Runs one step; EALREADY and ENOTFOUND are answers, not errors.</summary>
        internal static ErrorCode Handle(NodeHandle h, ulong peer, SecureStep step, byte[] json)
        {
            int rc = N.p2p_secure_handle(h, peer, (int)step, json, Len(json));
            return (ErrorCode)(rc == P2P_EALREADY || rc == P2P_ENOTFOUND ? rc : Check(rc));
        }

        /// <summary>Signs json (a fresh signature each call, so its length may vary by a few bytes).</summary>
        internal static byte[] CreateMessage(NodeHandle h, byte[] json) =>
            Sized<byte>(4096 + 2 * json.Length, (byte[] b, UIntPtr cap, out UIntPtr n) => N.p2p_secure_create_message(h, json, Len(json), b, cap, out n));

        /// <summary>Checks a signed message: its p2p_reject code (none: good) and, when rejected, the library's reason.</summary>
        internal static Reject CheckMessage(byte[] json, out string reason)
        {
            int reject, rc = N.p2p_secure_check_message(json, Len(json), out reject);
            reason = rc == P2P_EREJECTED ? Str(N.p2p_errmsg()) : null;
            if (rc == P2P_EREJECTED) return reject == (int)P2PReject.None ? Reject.Malformed : (Reject)reject;
            Check(rc);
            return Reject.None;
        }

        internal static byte[] Encrypt(byte[] pem, byte[] data) => Sized<byte>(1024, (byte[] b, UIntPtr cap, out UIntPtr n) => N.p2p_secure_encrypt(pem, data, Len(data), b, cap, out n));
        internal static byte[] Decrypt(NodeHandle h, byte[] text) => Sized<byte>(text.Length, (byte[] b, UIntPtr cap, out UIntPtr n) => N.p2p_secure_decrypt(h, text, Len(text), b, cap, out n));
        internal static string Sign(NodeHandle h, byte[] text) => Text(P2P_MAX_KEY_PEM_LEN, (b, n) => N.p2p_secure_sign(h, text, Len(text), b, n));

        /// <summary>True when the signature verifies, false when it does not (EREJECTED).</summary>
        internal static bool Verify(string pem, byte[] text, string signature)
        {
            int rc = N.p2p_secure_verify(Z(pem), text, Len(text), Z(signature));
            return rc != P2P_EREJECTED && Check(rc) >= 0;
        }

        internal static byte[] Canonical(byte[] json) => Sized<byte>(json.Length + 64, (byte[] b, UIntPtr cap, out UIntPtr n) => N.p2p_secure_canonical(json, Len(json), b, cap, out n));

        internal static byte[] DeriveKey(byte[] password, byte[] salt, int size)
        {
            var key = new byte[size];
            Check(N.p2p_secure_derive_key(password, Len(password), salt, Len(salt), key, Len(key)));
            return key;
        }

        internal static byte[] AesPad(byte[] data) => Sized<byte>(data.Length + 16, (byte[] b, UIntPtr cap, out UIntPtr n) => N.p2p_secure_aes_pad(data, Len(data), b, cap, out n));

        /// <summary>One of the four p2p_secure_aes_* calls on memory: secret (key or password), data, buffer.</summary>
        internal delegate int AesFn(byte[] secret, UIntPtr secretLen, byte[] data, UIntPtr len, byte[] buf, UIntPtr cap, out UIntPtr outLen);
        internal static readonly AesFn AesEncrypt = N.p2p_secure_aes_encrypt, AesDecrypt = N.p2p_secure_aes_decrypt,
            AesEncryptPw = N.p2p_secure_aes_encrypt_pw, AesDecryptPw = N.p2p_secure_aes_decrypt_pw;

        internal static byte[] Aes(AesFn fn, byte[] secret, byte[] data, int guess) =>
            Sized<byte>(guess, (byte[] b, UIntPtr cap, out UIntPtr n) => fn(secret, Len(secret), data, Len(data), b, cap, out n));

        internal static void AesEncryptFile(string path, byte[] secret, byte[] data, bool password) => Check(password
            ? N.p2p_secure_aes_encrypt_file_pw(Z(path), secret, Len(secret), data, Len(data))
            : N.p2p_secure_aes_encrypt_file(Z(path), secret, Len(secret), data, Len(data)));

        internal static byte[] AesDecryptFile(string path, byte[] secret, bool password)
        {
            byte[] p = Z(path);
            return Sized<byte>(4096, (byte[] b, UIntPtr cap, out UIntPtr n) => password
                ? N.p2p_secure_aes_decrypt_file_pw(p, secret, Len(secret), b, cap, out n)
                : N.p2p_secure_aes_decrypt_file(p, secret, Len(secret), b, cap, out n));
        }
    }
}
