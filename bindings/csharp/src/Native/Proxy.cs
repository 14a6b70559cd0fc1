using System;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using N = P2PNode.Native.NativeMethods;

namespace P2PNode.Native
{
    /// <summary>The conversions at the boundary: status codes to <see cref="P2PException"/>, UTF-8, sized structs, p2p_buf.</summary>
    internal static class Proxy
    {
        /// <summary>rc, or the exception for a failing rc (with the library's message for this thread).</summary>
        internal static int Check(int rc) => rc < 0 ? throw Error(rc) : rc;

        internal static P2PException Error(int rc)
        {
            string message = Str(N.p2p_errmsg()); // read on the failing thread, before any other call
            return new P2PException((ErrorCode)rc, message.Length > 0 ? message : Str(N.p2p_strerror(rc)));
        }

        /// <summary>The NUL-terminated UTF-8 of s; null stays null.</summary>
        internal static byte[] Z(string s) => s == null ? null : Encoding.UTF8.GetBytes(s + "\0");
        /// <summary>The NUL-terminated UTF-8 string at p ("" for a null pointer).</summary>
        internal static string Str(IntPtr p)
        {
            int n = 0;
            while (p != IntPtr.Zero && Marshal.ReadByte(p, n) != 0) n++;
            return Encoding.UTF8.GetString(Bytes(p, n));
        }

        /// <summary>A copy of the n bytes at p.</summary>
        internal static byte[] Bytes(IntPtr p, long n)
        {
            var b = new byte[n];
            if (n > 0) Marshal.Copy(p, b, 0, (int)n);
            return b;
        }

        internal static UIntPtr Len(Array a) => (UIntPtr)(a?.Length ?? 0);
        /// <summary>A T with its leading size field set (the header's P2P_INIT).</summary>
        internal static T Sized<T>() where T : struct
        {
            object boxed = default(T);
            const BindingFlags any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic; // NodeCounters.size is internal
            typeof(T).GetField("size", any).SetValue(boxed, (UIntPtr)Marshal.SizeOf(typeof(T)));
            return (T)boxed;
        }

        /// <summary>The sized struct at p, read up to the size the library filled: fields an older library lacks stay zero.</summary>
        internal static T Read<T>(IntPtr p) where T : struct
        {
            int ours = Marshal.SizeOf(typeof(T)), theirs = (int)Math.Min((ulong)Marshal.ReadIntPtr(p).ToInt64(), (ulong)ours);
            if (theirs == ours) return (T)Marshal.PtrToStructure(p, typeof(T));
            var bytes = new byte[ours];
            Marshal.Copy(p, bytes, 0, theirs);
            GCHandle pin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
            try { return (T)Marshal.PtrToStructure(pin.AddrOfPinnedObject(), typeof(T)); }
            finally { pin.Free(); }
        }

        /// <summary>A call that hands its result out in a library-owned p2p_buf.</summary>
        internal delegate int BufFn(out P2PBuf buf);
        /// <summary>A copy of the bytes a call hands out (the p2p_buf freed, wiped first when asked); null when rc is absent.</summary>
        internal static byte[] Buf(BufFn call, int absent = 1, bool wipe = false)
        {
            int rc = call(out P2PBuf b);
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

        /// <summary>The UTF-8 text a call hands out (with wipe, a secret: its bytes wiped in both copies); null when rc is absent.</summary>
        internal static string Text(BufFn call, int absent = 1, bool wipe = false)
        {
            byte[] b = Buf(call, absent, wipe);
            try { return b != null ? Encoding.UTF8.GetString(b) : null; }
            finally { if (wipe && b != null) Array.Clear(b, 0, b.Length); }
        }

        /// <summary>The handle a constructor made, or its error (releasing whatever handle came back with it).</summary>
        internal static NodeHandle Made(int rc, NodeHandle h)
        {
            try { Check(rc); } // the exception holds the message before the handle goes
            catch { h?.Dispose(); throw; }
            return h;
        }

        internal static Message MessageOf(ref P2PEv ev) =>
            new Message((MessageKind)ev.kind, Bytes(ev.data, (long)ev.data_len.ToUInt64()), (Compression)ev.compression);
        /// <summary>What make makes of each of n p2p_peer entries at p (the stride is the library's sizeof(p2p_peer), their first field).</summary>
        internal static T[] Entries<T>(IntPtr p, UIntPtr count, Func<P2PPeer, T> make)
        {
            long at = p.ToInt64(), n = at == 0 ? 0 : (long)count.ToUInt64(), stride = n == 0 ? 0 : Marshal.ReadIntPtr(p).ToInt64();
            return Enumerable.Range(0, checked((int)n)).Select(i => make(Read<P2PPeer>(new IntPtr(at + i * stride)))).ToArray();
        }
    }
}
