using System;
using P2PNode.Native;

namespace P2PNode
{
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
