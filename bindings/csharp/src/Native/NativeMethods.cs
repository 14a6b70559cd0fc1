using System;
using System.Runtime.InteropServices;

namespace P2PNode.Native
{
    /// <summary>Every entry point of include/p2pnode.h this binding uses: the only class that calls the library.
    /// Strings go in as NUL-terminated UTF-8 byte arrays (no "ANSI" code page); layouts come from Constants.g.cs.</summary>
    internal static class NativeMethods
    {
        /// <summary>Resolves to libp2pnode.so (Linux), libp2pnode.dylib or p2pnode.dll.</summary>
        internal const string Library = "p2pnode";
        private const CallingConvention C = CallingConvention.Cdecl;

        /// <summary>p2p_ev_fn. The instance passed to p2p_node_set_handler must stay reachable.</summary>
        [UnmanagedFunctionPointer(C)]
        internal delegate int p2p_ev_fn(IntPtr userData, IntPtr ev);

        [DllImport(Library, CallingConvention = C)] internal static extern IntPtr p2p_version();
        [DllImport(Library, CallingConvention = C)] internal static extern IntPtr p2p_strerror(int code);
        [DllImport(Library, CallingConvention = C)] internal static extern IntPtr p2p_errmsg();
        [DllImport(Library, CallingConvention = C)] internal static extern void p2p_buf_free(ref P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_new(byte[] host, int port, byte[] id, int maxConnections, out NodeHandle node);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_set_handler(NodeHandle node, p2p_ev_fn fn, IntPtr userData);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_set_limit(NodeHandle node, int limit, long value);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_get_limit(NodeHandle node, int limit, out long value);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_set_debug(NodeHandle node, int on);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_get_debug(NodeHandle node, out int on);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_start(NodeHandle node);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_stop(NodeHandle node);
        /// <summary>Takes the raw pointer: called from <see cref="NodeHandle.ReleaseHandle"/> only.</summary>
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_free(IntPtr node);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_port(NodeHandle node, out int port);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_stats(NodeHandle node, ref NodeCounters stats);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_peer_stats(NodeHandle node, ulong peer, ref NodeCounters stats);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_connect(NodeHandle node, byte[] host, int port, int reconnect, out ulong peer);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_disconnect(NodeHandle node, ulong peer);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_send(NodeHandle node, ulong peer, byte[] data, UIntPtr len, int compression);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_broadcast(NodeHandle node, byte[] data, UIntPtr len, ulong[] exclude, UIntPtr nExclude, int compression);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_peer_set_info(NodeHandle node, ulong peer, byte[] key, byte[] value, UIntPtr len);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_id_buf(NodeHandle node, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_host_buf(NodeHandle node, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_peers_buf(NodeHandle node, int direction, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_peer_facts(NodeHandle node, ulong peer, ref P2PPeer facts);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_peer_get_info_buf(NodeHandle node, ulong peer, byte[] key, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_set_identity(NodeHandle node, byte[] pem, UIntPtr len);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_identity_buf(NodeHandle node, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_identity_load(NodeHandle node, byte[] path);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_identity_save(NodeHandle node, byte[] path);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_public_key_buf(NodeHandle node, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_pin(NodeHandle node, byte[] id, UIntPtr idLen, byte[] key, UIntPtr keyLen);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_pinned_key_buf(NodeHandle node, byte[] id, UIntPtr idLen, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_allow(NodeHandle node, byte[] id, UIntPtr idLen, byte[] key, UIntPtr keyLen);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_discover(NodeHandle node, int targetPeers);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_known_peers_buf(NodeHandle node, out P2PBuf buf, out UIntPtr count);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_subscribe(NodeHandle node, byte[] topic, UIntPtr len);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_unsubscribe(NodeHandle node, byte[] topic, UIntPtr len);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_node_publish(NodeHandle node, byte[] topic, UIntPtr topicLen, byte[] data, UIntPtr len, int compression);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_node_create(byte[] host, int port, byte[] id, int maxConnections, ref P2PSecureOpts opts, out NodeHandle node);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_key_generate(NodeHandle node, int bits);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_key_load(NodeHandle node, byte[] path, byte[] password);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_key_save(NodeHandle node, byte[] path, byte[] password, int format);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_send_message(NodeHandle node, byte[] json, UIntPtr len);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_send(NodeHandle node, ulong peer, byte[] json, UIntPtr len);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_broadcast(NodeHandle node, byte[] json, UIntPtr len, ulong[] exclude, UIntPtr nExclude);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_send_ping(NodeHandle node);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_send_discovery(NodeHandle node);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_check_message(byte[] json, UIntPtr len, out int reject);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_pin(NodeHandle node, byte[] id, byte[] pem);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_set_delegate(NodeHandle node, int types);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_handle(NodeHandle node, ulong peer, int step, byte[] json, UIntPtr len);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_verify(byte[] pem, byte[] text, UIntPtr len, byte[] signature);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_derive_key(byte[] password, UIntPtr passwordLen, byte[] salt, UIntPtr saltLen, byte[] key, UIntPtr keyLen);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_aes_encrypt_file(byte[] path, byte[] key, UIntPtr keyLen, byte[] data, UIntPtr len);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_aes_encrypt_file_pw(byte[] path, byte[] password, UIntPtr passwordLen, byte[] data, UIntPtr len);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_password(byte[] text, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_public_key_buf(NodeHandle node, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_private_key_buf(NodeHandle node, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_pinned_key_buf(NodeHandle node, byte[] id, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_create_message_buf(NodeHandle node, byte[] json, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_canonical_buf(byte[] json, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_sign_buf(NodeHandle node, byte[] text, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_encrypt_buf(byte[] pem, byte[] data, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_decrypt_buf(NodeHandle node, byte[] text, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_aes_pad_buf(byte[] data, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_aes_encrypt_buf(byte[] key, UIntPtr keyLen, byte[] data, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_aes_decrypt_buf(byte[] key, UIntPtr keyLen, byte[] data, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_aes_encrypt_pw_buf(byte[] password, UIntPtr passwordLen, byte[] data, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_aes_decrypt_pw_buf(byte[] password, UIntPtr passwordLen, byte[] data, UIntPtr len, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_aes_decrypt_file_buf(byte[] path, byte[] key, UIntPtr keyLen, out P2PBuf buf);
        [DllImport(Library, CallingConvention = C)] internal static extern int p2p_secure_aes_decrypt_file_pw_buf(byte[] path, byte[] password, UIntPtr passwordLen, out P2PBuf buf);
    }

    /// <summary>Owns one p2p_node; releasing it (Dispose, or the finalizer) calls p2p_node_free, which stops the node first.</summary>
    internal sealed class NodeHandle : SafeHandle
    {
        public NodeHandle() : base(IntPtr.Zero, true) { } // for the marshaller (out parameters)
        public override bool IsInvalid => handle == IntPtr.Zero;

        // p2p_node_free never crashes, whatever the handle; its status has nowhere to go from a finalizer.
        protected override bool ReleaseHandle() { NativeMethods.p2p_node_free(handle); return true; }
    }
}
