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

        /// <summary>A copy of the n bytes at p.</summary>
        internal static byte[] Bytes(IntPtr p, long n)
        {
            var b = new byte[n];
            if (n > 0) Marshal.Copy(p, b, 0, (int)n);
            return b;
        }

        private static UIntPtr Len(Array a) => (UIntPtr)(a?.Length ?? 0);

        // ---- Sized structs (0.3): each starts with its size ----

        /// <summary>A struct of type T with its leading size field set to T's size (the header's P2P_INIT).</summary>
        internal static T Sized<T>() where T : struct
        {
            object boxed = default(T);
            typeof(T).GetField("size").SetValue(boxed, (UIntPtr)Marshal.SizeOf(typeof(T)));
            return (T)boxed;
        }

        /// <summary>
        /// The sized struct at p: its first size bytes (the size the library filled), the fields
        /// of a smaller, older struct left zero; the fields a newer library added are not read.
        /// </summary>
        internal static T Read<T>(IntPtr p) where T : struct
        {
            int ours = Marshal.SizeOf(typeof(T)), theirs = (int)Math.Min((ulong)Marshal.ReadIntPtr(p).ToInt64(), (ulong)ours);
            if (theirs == ours) return (T)Marshal.PtrToStructure(p, typeof(T));
            IntPtr copy = Marshal.AllocHGlobal(ours);
            try
            {
                Marshal.Copy(new byte[ours], 0, copy, ours);
                var bytes = new byte[theirs];
                Marshal.Copy(p, bytes, 0, theirs);
                Marshal.Copy(bytes, 0, copy, theirs);
                return (T)Marshal.PtrToStructure(copy, typeof(T));
            }
            finally
            {
                Marshal.FreeHGlobal(copy);
            }
        }

        // ---- Results the library hands out ----

        /// <summary>A call that hands its result out in a library-owned p2p_buf.</summary>
        internal delegate int BufFn(out P2PBuf buf);

        /// <summary>A copy of the bytes a call hands out (the p2p_buf freed, wiped first when asked); null when it answers absent.</summary>
        internal static byte[] Buf(BufFn call, int absent = 1, bool wipe = false)
        {
            P2PBuf b;
            int rc = call(out b);
            try
            {
                if (rc == absent) return null;
                Check(rc);
                return Bytes(b.data, checked((long)b.len.ToUInt64()));
            }
            finally
            {
                for (long i = 0; wipe && b.data != IntPtr.Zero && i < (long)b.len.ToUInt64(); i++) Marshal.WriteByte(b.data, (int)i, 0);
                N.p2p_buf_free(ref b);
            }
        }

        /// <summary>The text a call hands out; null when it answers absent.</summary>
        internal static string BufText(BufFn call, int absent = 1)
        {
            byte[] b = Buf(call, absent);
            return b == null ? null : Encoding.UTF8.GetString(b);
        }

        // ---- Node ----

        internal static NodeHandle NodeNew(string host, int port, string id, int maxConnections)
        {
            NodeHandle h;
            return Made(N.p2p_node_new(Z(host ?? ""), port, Z(id ?? ""), maxConnections, out h), h);
        }

        internal static NodeHandle SecureNodeNew(string host, int port, string id, int maxConnections, P2PSecureOpts opts)
        {
            NodeHandle h;
            return Made(N.p2p_secure_node_create(Z(host ?? ""), port, Z(id ?? ""), maxConnections, ref opts, out h), h);
        }

        // The handle a constructor made, or its error (releasing whatever handle came back with it).
        private static NodeHandle Made(int rc, NodeHandle h)
        {
            if (rc >= 0) return h;
            var e = Error(rc);
            h?.Dispose();
            throw e;
        }

        internal static void SetHandler(NodeHandle h, N.p2p_ev_fn fn, IntPtr userData) => Check(N.p2p_node_set_handler(h, fn, userData));
        internal static void SetLimit(NodeHandle h, Limit limit, long value) => Check(N.p2p_node_set_limit(h, (int)limit, value));
        internal static long GetLimit(NodeHandle h, Limit limit) { long v; Check(N.p2p_node_get_limit(h, (int)limit, out v)); return v; }
        internal static void SetDebug(NodeHandle h, bool on) => Check(N.p2p_node_set_debug(h, on ? 1 : 0));
        internal static bool GetDebug(NodeHandle h) { int on; Check(N.p2p_node_get_debug(h, out on)); return on != 0; }
        internal static void Start(NodeHandle h) => Check(N.p2p_node_start(h));
        internal static void Stop(NodeHandle h) => Check(N.p2p_node_stop(h));
        /// <summary>Stops without throwing (at exit, after dispose): its status has nowhere to go.</summary>
        internal static void StopQuietly(NodeHandle h) => N.p2p_node_stop(h);
        internal static string NodeId(NodeHandle h) => BufText((out P2PBuf b) => N.p2p_node_id_buf(h, out b));
        internal static string NodeHost(NodeHandle h) => BufText((out P2PBuf b) => N.p2p_node_host_buf(h, out b));
        internal static int NodePort(NodeHandle h) { int p; Check(N.p2p_node_port(h, out p)); return p; }
        internal static NodeCounters Counters(NodeHandle h) { var s = Sized<P2PStats>(); Check(N.p2p_node_stats(h, ref s)); return new NodeCounters(s); }
        internal static NodeCounters PeerCounters(NodeHandle h, ulong peer) { var s = Sized<P2PStats>(); Check(N.p2p_peer_stats(h, peer, ref s)); return new NodeCounters(s); }

        /// <summary>The handles of the node's peers of one direction (P2PDirection.All: every peer).</summary>
        internal static ulong[] Peers(NodeHandle h, int direction)
        {
            byte[] b = Buf((out P2PBuf buf) => N.p2p_node_peers_buf(h, direction, out buf));
            var peers = new ulong[b.Length / sizeof(ulong)];
            Buffer.BlockCopy(b, 0, peers, 0, peers.Length * sizeof(ulong));
            return peers;
        }

        /// <summary>Dials; the status comes back as it is, for the caller to throw after its own bookkeeping.</summary>
        internal static int Connect(NodeHandle h, string host, int port, bool reconnect, out ulong peer) => N.p2p_node_connect(h, Z(host), port, reconnect ? 1 : 0, out peer);
        internal static void Disconnect(NodeHandle h, ulong peer) => Check(N.p2p_node_disconnect(h, peer));
        internal static void Send(NodeHandle h, ulong peer, byte[] data, Compression c) => Check(N.p2p_node_send(h, peer, data, Len(data), (int)c));
        internal static void Broadcast(NodeHandle h, byte[] data, ulong[] exclude, Compression c) => Check(N.p2p_node_broadcast(h, data, Len(data), exclude, Len(exclude), (int)c));

        /// <summary>A peer's facts, in one call; null when the peer is gone (ENOPEER).</summary>
        internal static Peer PeerInfo(Node node, NodeHandle h, ulong peer)
        {
            var p = Sized<P2PPeer>();
            int rc = N.p2p_peer_facts(h, peer, ref p);
            try
            {
                if (rc == P2P_ENOPEER) return null;
                Check(rc);
                return new Peer(node, peer, Str(p.id), Str(p.host), p.port, (Direction)p.direction);
            }
            finally
            {
                N.p2p_buf_free(ref p.mem);
            }
        }

        internal static void PeerSetInfo(NodeHandle h, ulong peer, string key, byte[] value) => Check(N.p2p_peer_set_info(h, peer, Z(key), value, Len(value)));

        /// <summary>The value under key, or null when there is none (ENOTFOUND).</summary>
        internal static byte[] PeerGetInfo(NodeHandle h, ulong peer, string key) => Buf((out P2PBuf b) => N.p2p_peer_get_info_buf(h, peer, Z(key), out b), P2P_ENOTFOUND);

        // ---- Event payloads ----

        internal static Message MessageOf(ref P2PEv ev) =>
            new Message((MessageKind)ev.kind, Bytes(ev.data, (long)ev.data_len.ToUInt64()), (Compression)ev.compression);

        /// <summary>A discovery answer's entries (P2P_EV_NODE: the stride is the library's sizeof(p2p_peer)).</summary>
        internal static DiscoveredNode[] NodesOf(ref P2PEv ev)
        {
            long n = ev.nodes == IntPtr.Zero ? 0 : (long)ev.n_nodes.ToUInt64();
            long stride = n == 0 ? 0 : Marshal.ReadIntPtr(ev.nodes).ToInt64();
            var nodes = new DiscoveredNode[n];
            for (long i = 0; i < n; i++)
            {
                var d = Read<P2PPeer>(new IntPtr(ev.nodes.ToInt64() + i * stride));
                nodes[i] = new DiscoveredNode(Str(d.id), Str(d.host), d.port, (Direction)d.direction);
            }
            return nodes;
        }

        // ---- Secure node ----

        internal static void KeyGenerate(NodeHandle h, int bits) => Check(N.p2p_secure_key_generate(h, bits));
        internal static void KeyLoad(NodeHandle h, string path, string password) => Check(N.p2p_secure_key_load(h, Z(path), Z(password)));
        internal static void KeySave(NodeHandle h, string path, string password, KeyFormat format) => Check(N.p2p_secure_key_save(h, Z(path), Z(password), (int)format));
        /// <summary>The node's public key PEM, or null when it has no key yet (EKEY).</summary>
        internal static string PublicKey(NodeHandle h) => BufText((out P2PBuf b) => N.p2p_secure_public_key_buf(h, out b), P2P_EKEY);
        /// <summary>The PEM pinned for id, or null when none is (ENOTFOUND).</summary>
        internal static string PinnedKey(NodeHandle h, string id) => BufText((out P2PBuf b) => N.p2p_secure_pinned_key_buf(h, Z(id), out b), P2P_ENOTFOUND);
        internal static string PrivateKey(NodeHandle h)
        {
            byte[] b = Buf((out P2PBuf buf) => N.p2p_secure_private_key_buf(h, out buf), wipe: true);
            string pem = Encoding.UTF8.GetString(b);
            Array.Clear(b, 0, b.Length);
            return pem;
        }
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

        internal static byte[] CreateMessage(NodeHandle h, byte[] json) => Buf((out P2PBuf b) => N.p2p_secure_create_message_buf(h, json, Len(json), out b));

        /// <summary>Checks a signed message: its p2p_reject code (none: good) and, when rejected, the library's reason.</summary>
        internal static Reject CheckMessage(byte[] json, out string reason)
        {
            int reject, rc = N.p2p_secure_check_message(json, Len(json), out reject);
            reason = rc == P2P_EREJECTED ? Str(N.p2p_errmsg()) : null;
            if (rc == P2P_EREJECTED) return reject == (int)P2PReject.None ? Reject.Malformed : (Reject)reject;
            Check(rc);
            return Reject.None;
        }

        internal static byte[] Encrypt(byte[] pem, byte[] data) => Buf((out P2PBuf b) => N.p2p_secure_encrypt_buf(pem, data, Len(data), out b));
        internal static byte[] Decrypt(NodeHandle h, byte[] text) => Buf((out P2PBuf b) => N.p2p_secure_decrypt_buf(h, text, Len(text), out b));
        internal static string Sign(NodeHandle h, byte[] text) => BufText((out P2PBuf b) => N.p2p_secure_sign_buf(h, text, Len(text), out b));

        /// <summary>True when the signature verifies, false when it does not (EREJECTED).</summary>
        internal static bool Verify(string pem, byte[] text, string signature)
        {
            int rc = N.p2p_secure_verify(Z(pem), text, Len(text), Z(signature));
            return rc != P2P_EREJECTED && Check(rc) >= 0;
        }

        internal static byte[] Canonical(byte[] json) => Buf((out P2PBuf b) => N.p2p_secure_canonical_buf(json, Len(json), out b));

        /// <summary>A text password as p2psecure's formats take it (the core's rule: Latin-1, else UTF-8).</summary>
        internal static byte[] Password(string text)
        {
            byte[] t = Encoding.UTF8.GetBytes(text);
            return Buf((out P2PBuf b) => N.p2p_secure_password(t, Len(t), out b));
        }

        internal static byte[] DeriveKey(byte[] password, byte[] salt, int size)
        {
            var key = new byte[size];
            Check(N.p2p_secure_derive_key(password, Len(password), salt, Len(salt), key, Len(key)));
            return key;
        }

        internal static byte[] AesPad(byte[] data) => Buf((out P2PBuf b) => N.p2p_secure_aes_pad_buf(data, Len(data), out b));

        /// <summary>One of the four p2p_secure_aes_*_buf calls on memory: secret (key or password), data.</summary>
        internal delegate int AesFn(byte[] secret, UIntPtr secretLen, byte[] data, UIntPtr len, out P2PBuf buf);
        internal static readonly AesFn AesEncrypt = N.p2p_secure_aes_encrypt_buf, AesDecrypt = N.p2p_secure_aes_decrypt_buf,
            AesEncryptPw = N.p2p_secure_aes_encrypt_pw_buf, AesDecryptPw = N.p2p_secure_aes_decrypt_pw_buf;

        internal static byte[] Aes(AesFn fn, byte[] secret, byte[] data) => Buf((out P2PBuf b) => fn(secret, Len(secret), data, Len(data), out b));

        internal static void AesEncryptFile(string path, byte[] secret, byte[] data, bool password) => Check(password
            ? N.p2p_secure_aes_encrypt_file_pw(Z(path), secret, Len(secret), data, Len(data))
            : N.p2p_secure_aes_encrypt_file(Z(path), secret, Len(secret), data, Len(data)));

        internal static byte[] AesDecryptFile(string path, byte[] secret, bool password) => Buf((out P2PBuf b) => password
            ? N.p2p_secure_aes_decrypt_file_pw_buf(Z(path), secret, Len(secret), out b)
            : N.p2p_secure_aes_decrypt_file_buf(Z(path), secret, Len(secret), out b));
    }
}
