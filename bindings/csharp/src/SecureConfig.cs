using System;

using P2PNode.Native;

namespace P2PNode
{
    /// <summary>
    /// The checks a <see cref="SecureNode"/> makes on what it receives (p2p_secure_config).
    /// Every property left at its zero value means the library's default.
    /// </summary>
    public sealed class SecureConfig
    {
        /// <summary>Which public key is accepted for a sender's node id (default <see cref="KeyPolicy.TrustOnFirstUse"/>).</summary>
        public KeyPolicy KeyPolicy { get; set; }

        /// <summary>Smallest RSA key accepted in a message, in bits; 0 is the default, 2048.</summary>
        public int MinKeyBits { get; set; }

        /// <summary>
        /// How old a message's _timestamp may be, at millisecond precision. <see cref="TimeSpan.Zero"/>
        /// is the default (5 minutes); a negative value turns the timestamp and replay checks off.
        /// </summary>
        public TimeSpan ReplayWindow { get; set; }

        /// <summary>
        /// How far ahead of our clock a message's _timestamp may be, at millisecond precision.
        /// <see cref="TimeSpan.Zero"/> is the default (1 minute); it may not be negative.
        /// </summary>
        public TimeSpan MaxClockSkew { get; set; }

        /// <summary>Keys pinned on first use at most; 0 is the default, 65536.</summary>
        public int MaxPinnedKeys { get; set; }

        /// <summary>The native struct for config (all defaults for null).</summary>
        internal static P2PSecureOpts ToNative(SecureConfig config) => config == null ? Proxy.Sized<P2PSecureOpts>() : new P2PSecureOpts
        {
            size = Proxy.Sized<P2PSecureOpts>().size,
            key_policy = (int)config.KeyPolicy,
            min_key_bits = config.MinKeyBits,
            replay_window_ms = Milliseconds(config.ReplayWindow),
            max_clock_skew_ms = Milliseconds(config.MaxClockSkew),
            max_pinned_keys = config.MaxPinnedKeys,
        };

        // Whole milliseconds; a negative span stays negative (under a millisecond it
        // would otherwise round to 0, the default).
        private static long Milliseconds(TimeSpan span) => (long)span.TotalMilliseconds == 0 && span < TimeSpan.Zero ? -1 : (long)span.TotalMilliseconds;
    }
}
