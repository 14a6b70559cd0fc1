using System;
using System.Collections.Generic;

namespace P2PNode
{
    /// <summary>
    /// The one layer that calls <see cref="NativeMethods"/>: it converts arguments,
    /// and turns every failing status code into a <see cref="P2PException"/>
    /// carrying the code and the library's message for this thread.
    /// </summary>
    internal static class Proxy
    {
        internal static void Check(int status)
        {
            if (status < 0)
            {
                throw Error(status);
            }
        }

        internal static P2PException Error(int status)
        {
            // Read on the failing thread, before any other call into the library.
            string message = Utf8.FromPointer(NativeMethods.p2p_errmsg());
            if (string.IsNullOrEmpty(message))
            {
                message = StrError(status);
            }
            return new P2PException((ErrorCode)status, message);
        }

        internal static string StrError(int status)
        {
            return Utf8.FromPointer(NativeMethods.p2p_strerror(status));
        }

        internal static string Version()
        {
            return Utf8.FromPointer(NativeMethods.p2p_version());
        }

        internal static NodeHandle NodeNew(string host, int port, string id, int maxConnections)
        {
            NodeHandle h;
            int rc = NativeMethods.p2p_node_new(Utf8.ToNative(host ?? string.Empty), port, Utf8.ToNative(id ?? string.Empty), maxConnections, out h);
            return Made(rc, h);
        }

        // Made returns the handle a constructor made, or throws its error (releasing
        // whatever handle came back with it).
        private static NodeHandle Made(int rc, NodeHandle h)
        {
            if (rc < 0)
            {
                var e = Error(rc);
                if (h != null)
                {
                    h.Dispose();
                }
                throw e;
            }
            return h;
        }

        internal static void SetCallback(NodeHandle h, NativeMethods.p2p_event_fn fn, IntPtr userData)
        {
            Check(NativeMethods.p2p_node_set_callback(h, fn, userData));
        }

        internal static void SetLimit(NodeHandle h, Limit limit, long value)
        {
            Check(NativeMethods.p2p_node_set_limit(h, (int)limit, value));
        }

        internal static long GetLimit(NodeHandle h, Limit limit)
        {
            long v;
            Check(NativeMethods.p2p_node_get_limit(h, (int)limit, out v));
            return v;
        }

        internal static void SetDebug(NodeHandle h, bool on)
        {
            Check(NativeMethods.p2p_node_set_debug(h, on ? 1 : 0));
        }

        internal static bool GetDebug(NodeHandle h)
        {
            int on;
            Check(NativeMethods.p2p_node_get_debug(h, out on));
            return on != 0;
        }

        internal static void Start(NodeHandle h)
        {
            Check(NativeMethods.p2p_node_start(h));
        }

        internal static void Stop(NodeHandle h)
        {
            Check(NativeMethods.p2p_node_stop(h));
        }

        internal static string NodeId(NodeHandle h)
        {
            var buf = new byte[NativeMethods.MaxIdLen + 1];
            Check(NativeMethods.p2p_node_id(h, buf, (UIntPtr)buf.Length));
            return Utf8.FromBuffer(buf);
        }

        internal static string NodeHost(NodeHandle h)
        {
            var buf = new byte[NativeMethods.MaxHostLen + 1];
            Check(NativeMethods.p2p_node_host(h, buf, (UIntPtr)buf.Length));
            return Utf8.FromBuffer(buf);
        }

        internal static int NodePort(NodeHandle h)
        {
            int port;
            Check(NativeMethods.p2p_node_port(h, out port));
            return port;
        }

        internal static NodeCounters Counters(NodeHandle h)
        {
            NativeMethods.p2p_counters c;
            Check(NativeMethods.p2p_node_counters(h, out c));
            return new NodeCounters(c);
        }

        internal static NodeCounters PeerCounters(NodeHandle h, ulong peer)
        {
            NativeMethods.p2p_counters c;
            Check(NativeMethods.p2p_peer_counters(h, peer, out c));
            return new NodeCounters(c);
        }

        /// <summary>The handles of the node's peers of one direction (2 = all).</summary>
        internal static ulong[] Peers(NodeHandle h, int direction)
        {
            var buf = new ulong[16];
            while (true)
            {
                UIntPtr count;
                int rc = NativeMethods.p2p_node_peers(h, direction, buf, (UIntPtr)buf.Length, out count);
                int n = (int)count.ToUInt64();
                if (rc == (int)ErrorCode.Range || n > buf.Length)
                {
                    buf = new ulong[n + 16];
                    continue;
                }
                Check(rc);
                var result = new ulong[n];
                Array.Copy(buf, result, n);
                return result;
            }
        }

        internal static ulong Connect(NodeHandle h, string host, int port, bool reconnect, out int status)
        {
            ulong peer;
            status = NativeMethods.p2p_node_connect(h, Utf8.ToNative(host), port, reconnect ? 1 : 0, out peer);
            return peer;
        }

        internal static void Disconnect(NodeHandle h, ulong peer)
        {
            Check(NativeMethods.p2p_node_disconnect(h, peer));
        }

        internal static void Send(NodeHandle h, ulong peer, byte[] data, Compression compression)
        {
            Check(NativeMethods.p2p_node_send(h, peer, data, (UIntPtr)data.Length, (int)compression));
        }

        internal static void Broadcast(NodeHandle h, byte[] data, ulong[] exclude, Compression compression)
        {
            Check(NativeMethods.p2p_node_broadcast(h, data, (UIntPtr)data.Length, exclude, (UIntPtr)exclude.Length, (int)compression));
        }

        /// <summary>Reads a peer's facts; false when the peer is gone (ENOPEER).</summary>
        internal static bool PeerInfo(NodeHandle h, ulong peer, out string id, out string host, out int port, out Direction direction)
        {
            id = null;
            host = null;
            port = 0;
            direction = Direction.Inbound;
            var idBuf = new byte[NativeMethods.MaxIdLen + 1];
            int rc = NativeMethods.p2p_peer_id(h, peer, idBuf, (UIntPtr)idBuf.Length);
            if (rc == (int)ErrorCode.NoPeer)
            {
                return false;
            }
            Check(rc);
            var hostBuf = new byte[NativeMethods.MaxHostLen + 1];
            rc = NativeMethods.p2p_peer_host(h, peer, hostBuf, (UIntPtr)hostBuf.Length);
            if (rc == (int)ErrorCode.NoPeer)
            {
                return false;
            }
            Check(rc);
            rc = NativeMethods.p2p_peer_port(h, peer, out port);
            if (rc == (int)ErrorCode.NoPeer)
            {
                return false;
            }
            Check(rc);
            int dir;
            rc = NativeMethods.p2p_peer_direction(h, peer, out dir);
            if (rc == (int)ErrorCode.NoPeer)
            {
                return false;
            }
            Check(rc);
            id = Utf8.FromBuffer(idBuf);
            host = Utf8.FromBuffer(hostBuf);
            direction = (Direction)dir;
            return true;
        }

        internal static void PeerSetInfo(NodeHandle h, ulong peer, string key, byte[] value)
        {
            Check(NativeMethods.p2p_peer_set_info(h, peer, Utf8.ToNative(key), value, (UIntPtr)value.Length));
        }

        /// <summary>The value under key, or null when there is none (ENOTFOUND).</summary>
        internal static byte[] PeerGetInfo(NodeHandle h, ulong peer, string key)
        {
            byte[] k = Utf8.ToNative(key);
            UIntPtr len;
            int rc = NativeMethods.p2p_peer_get_info(h, peer, k, null, UIntPtr.Zero, out len);
            while (true)
            {
                if (rc == (int)ErrorCode.NotFound)
                {
                    return null;
                }
                if (rc < 0 && rc != (int)ErrorCode.Range)
                {
                    throw Error(rc);
                }
                var buf = new byte[(int)len.ToUInt64()];
                UIntPtr got;
                rc = NativeMethods.p2p_peer_get_info(h, peer, k, buf, (UIntPtr)buf.Length, out got);
                if (rc == 0 && got.ToUInt64() == (ulong)buf.Length)
                {
                    return buf;
                }
                // The value changed between the two calls: try again with its new length.
                len = got;
            }
        }
    
        // ---- Secure node ----

        internal static NodeHandle SecureNodeNew(string host, int port, string id, int maxConnections, NativeMethods.p2p_secure_config cfg)
        {
            NodeHandle h;
            int rc = NativeMethods.p2p_secure_node_new(Utf8.ToNative(host ?? string.Empty), port, Utf8.ToNative(id ?? string.Empty), maxConnections, ref cfg, out h);
            return Made(rc, h);
        }

        internal static void KeyGenerate(NodeHandle h, int bits)
        {
            Check(NativeMethods.p2p_secure_key_generate(h, bits));
        }

        internal static void KeyLoad(NodeHandle h, string path, string password)
        {
            Check(NativeMethods.p2p_secure_key_load(h, Utf8.ToNative(path), Utf8.ToNative(password)));
        }

        internal static void KeySave(NodeHandle h, string path, string password, KeyFormat format)
        {
            Check(NativeMethods.p2p_secure_key_save(h, Utf8.ToNative(path), Utf8.ToNative(password), (int)format));
        }

        /// <summary>The node's public key PEM, or null when it has no key yet (EKEY).</summary>
        internal static string PublicKey(NodeHandle h)
        {
            return GrowingString((buf, len) => NativeMethods.p2p_secure_public_key(h, buf, len), (int)ErrorCode.Key);
        }

        /// <summary>The PEM pinned for id, or null when none is (ENOTFOUND).</summary>
        internal static string PinnedKey(NodeHandle h, string id)
        {
            byte[] k = Utf8.ToNative(id);
            return GrowingString((buf, len) => NativeMethods.p2p_secure_pinned_key(h, k, buf, len), (int)ErrorCode.NotFound);
        }

        internal static void Pin(NodeHandle h, string id, string pem)
        {
            Check(NativeMethods.p2p_secure_pin(h, Utf8.ToNative(id), Utf8.ToNative(pem)));
        }

        internal static void SecureSendMessage(NodeHandle h, byte[] json)
        {
            Check(NativeMethods.p2p_secure_send_message(h, json, (UIntPtr)json.Length));
        }

        internal static void SecureSend(NodeHandle h, ulong peer, byte[] json)
        {
            Check(NativeMethods.p2p_secure_send(h, peer, json, (UIntPtr)json.Length));
        }

        internal static void SecureBroadcast(NodeHandle h, byte[] json, ulong[] exclude)
        {
            Check(NativeMethods.p2p_secure_broadcast(h, json, (UIntPtr)json.Length, exclude, (UIntPtr)exclude.Length));
        }

        internal static void SendPing(NodeHandle h)
        {
            Check(NativeMethods.p2p_secure_send_ping(h));
        }

        internal static void SendDiscovery(NodeHandle h)
        {
            Check(NativeMethods.p2p_secure_send_discovery(h));
        }

        /// <summary>Signs json; returns the signed JSON's UTF-8 bytes.</summary>
        internal static byte[] CreateMessage(NodeHandle h, byte[] json)
        {
            // A signed message of a 4096-bit key and a small object is under 3 KB;
            // each call signs anew, so a retry may need a few bytes more.
            var buf = new byte[4096 + 2 * json.Length];
            while (true)
            {
                UIntPtr len;
                int rc = NativeMethods.p2p_secure_create_message(h, json, (UIntPtr)json.Length, buf, (UIntPtr)buf.Length, out len);
                int n = (int)len.ToUInt64();
                if (rc == (int)ErrorCode.Range)
                {
                    buf = new byte[n + n / 8 + 64];
                    continue;
                }
                Check(rc);
                var result = new byte[n];
                Array.Copy(buf, result, n);
                return result;
            }
        }

        /// <summary>Checks a signed message; its p2p_reject code (0: good) and, when rejected, the library's reason.</summary>
        internal static Reject CheckMessage(byte[] json, out string reason)
        {
            int reject;
            int rc = NativeMethods.p2p_secure_check_message(json, (UIntPtr)json.Length, out reject);
            reason = null;
            if (rc == (int)ErrorCode.Rejected)
            {
                reason = Utf8.FromPointer(NativeMethods.p2p_errmsg());
                return reject == 0 ? Reject.Malformed : (Reject)reject;
            }
            Check(rc);
            return Reject.None;
        }

        /// <summary>
        /// Calls a function that copies a NUL-terminated string into a buffer, with buffers
        /// that grow while it answers ERANGE; null when it answers <paramref name="absent"/>.
        /// </summary>
        private static string GrowingString(Func<byte[], UIntPtr, int> call, int absent)
        {
            for (int size = 1024; ; size *= 4)
            {
                var buf = new byte[size];
                int rc = call(buf, (UIntPtr)buf.Length);
                if (rc == absent)
                {
                    return null;
                }
                if (rc == (int)ErrorCode.Range && size < (1 << 24))
                {
                    continue;
                }
                Check(rc);
                return Utf8.FromBuffer(buf);
            }
        }
    }
}
