using System;

namespace P2PNode
{
    /// <summary>A native call failed: <see cref="Code"/> is its status code, <see cref="Exception.Message"/> the library's message.</summary>
    public class P2PException : Exception
    {
        /// <summary>Creates an exception for a status code and message.</summary>
        public P2PException(ErrorCode code, string message) : base(message) => Code = code;
        /// <summary>The status code the native call returned.</summary>
        public ErrorCode Code { get; }
        /// <summary>The status code as the C header spells it (a negative number).</summary>
        public int NativeCode => (int)Code;
    }
}
