using System;
using System.Runtime.InteropServices;

namespace P2PNode
{
    /// <summary>
    /// Owns one native p2p_node. Releasing it (Dispose, or the finalizer of an
    /// abandoned node) calls p2p_node_free, which stops the node first. The
    /// SafeHandle reference count keeps it alive across P/Invoke calls in flight.
    /// </summary>
    internal sealed class NodeHandle : SafeHandle
    {
        /// <summary>Used by the marshaller for p2p_node_new's out parameter.</summary>
        public NodeHandle() : base(IntPtr.Zero, true)
        {
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        protected override bool ReleaseHandle()
        {
            // p2p_node_free never crashes, whatever the handle; its status has
            // nowhere to go from a finalizer.
            NativeMethods.p2p_node_free(handle);
            return true;
        }
    }
}
