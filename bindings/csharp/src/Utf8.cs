using System;
using System.Runtime.InteropServices;
using System.Text;

namespace P2PNode
{
    /// <summary>UTF-8 conversions at the native boundary.</summary>
    internal static class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>The NUL-terminated UTF-8 of s; null stays null.</summary>
        internal static byte[] ToNative(string s)
        {
            if (s == null)
            {
                return null;
            }
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>The text in buf up to its first NUL.</summary>
        internal static string FromBuffer(byte[] buf)
        {
            int n = Array.IndexOf(buf, (byte)0);
            if (n < 0)
            {
                n = buf.Length;
            }
            return Encoding.UTF8.GetString(buf, 0, n);
        }

        /// <summary>The NUL-terminated UTF-8 string at p ("" for a null pointer).</summary>
        internal static string FromPointer(IntPtr p)
        {
            if (p == IntPtr.Zero)
            {
                return string.Empty;
            }
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0)
            {
                n++;
            }
            if (n == 0)
            {
                return string.Empty;
            }
            var bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Decodes valid UTF-8; null when the bytes are not valid UTF-8.</summary>
        internal static string TryDecode(byte[] data)
        {
            try
            {
                return Strict.GetString(data);
            }
            catch (ArgumentException)
            {
                return null;
            }
        }
    }
}
