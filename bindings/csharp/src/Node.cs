using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace P2PNode
{
    /// <summary>
    /// A peer-to-peer node (p2pnetwork's Node): it listens on TCP, connects with
    /// other nodes, sends them messages and raises events.
    /// </summary>
    /// <remarks>
    /// <para>Handle events in either of two ways, or both: subclass Node and override
    /// the protected virtual methods (<see cref="OnMessage"/>, ...), or subscribe to
    /// the .NET events (<see cref="MessageReceived"/>, ...). The base methods raise
    /// the events, so an override that does not call base suppresses its event.</para>
    /// <para>Events of one node arrive in order, one at a time, on a thread the
    /// native library owns; it ends when the node stops. Handlers may call any
    /// method of the node, Stop and Dispose included. An exception thrown by a
    /// handler is caught and reported to <see cref="Console.Error"/> (see
    /// <see cref="OnHandlerException"/>); the node goes on.</para>
    /// <para>A started node stays alive, like a running thread, until
    /// <see cref="Stop"/> or <see cref="Dispose()"/>. Dispose stops the node and
    /// frees it; an unstarted or stopped node that is not disposed is freed by
    /// the finalizer.</para>
    /// <example><code>
    /// using (var node = new Node("127.0.0.1", 0))
    /// {
    ///     node.MessageReceived += (s, e) => Console.WriteLine(e.Peer.Id + ": " + e.Message);
    ///     node.Start();
    ///     node.Connect("127.0.0.1", 8002).Send("hello");
    /// }
    /// </code></example>
    /// </remarks>
    public class Node : IDisposable
    {
        // The one unmanaged entry point for every node. Held by a static field, so
        // the delegate (and the native thunk made for it) is never collected.
        private static readonly NativeMethods.p2p_event_fn StaticCallback = Dispatch;

        // Started nodes by key (the callback's user_data): a started node stays
        // reachable while the library may call into it, and an event for a key
        // that is no longer here is ignored, never dereferenced.
        private static readonly Dictionary<long, Node> Running = new Dictionary<long, Node>();
        private static long lastKey;

        [ThreadStatic]
        private static Node dispatching;

        static Node()
        {
            // Node threads must be gone before the runtime shuts down: mono aborts
            // the threads it knows at exit and waits for them to end, and the event
            // thread of a running node only ends when the node stops.
            AppDomain.CurrentDomain.ProcessExit += StopAllAtExit;
        }

        private readonly NodeHandle handle;
        private readonly NativeMethods.p2p_event_fn callback;
        private readonly long key;
        private readonly object sync = new object();
        private readonly Dictionary<ulong, Peer> peers = new Dictionary<ulong, Peer>();
        private bool started;
        private bool stopped;
        private bool disposed;

        /// <summary>
        /// Creates a node and binds its listening socket, so that <see cref="Port"/> is known at once.
        /// It accepts and delivers nothing until <see cref="Start"/>.
        /// </summary>
        /// <param name="host">Address to listen on; null or "" listens on all interfaces.</param>
        /// <param name="port">Port to listen on; 0 picks a free port.</param>
        /// <param name="id">The node's id; null or "" generates one as p2pnetwork does (128 hex characters).</param>
        /// <param name="maxConnections">Most inbound peers; 0 is unlimited.</param>
        /// <exception cref="P2PException">InvalidArgument, or Bind when the address cannot be listened on.</exception>
        public Node(string host, int port = 0, string id = null, int maxConnections = 0)
            : this(Proxy.NodeNew(host, port, id, maxConnections))
        {
        }

        /// <summary>Takes over a node the library has made (a plain or a secure one); frees it if this fails.</summary>
        internal Node(NodeHandle handle)
        {
            this.handle = handle;
            try
            {
                key = Interlocked.Increment(ref lastKey);
                callback = StaticCallback;
                Proxy.SetCallback(handle, callback, new IntPtr(key));
                Id = Proxy.NodeId(handle);
                Host = Proxy.NodeHost(handle);
                Port = Proxy.NodePort(handle);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>Raised when this node has connected with another (outbound_node_connected).</summary>
        public event EventHandler<PeerEventArgs> OutboundConnected;

        /// <summary>Raised when another node has connected with this one (inbound_node_connected).</summary>
        public event EventHandler<PeerEventArgs> InboundConnected;

        /// <summary>Raised when an outbound peer has gone (outbound_node_disconnected).</summary>
        public event EventHandler<PeerEventArgs> OutboundDisconnected;

        /// <summary>Raised when an inbound peer has gone (inbound_node_disconnected).</summary>
        public event EventHandler<PeerEventArgs> InboundDisconnected;

        /// <summary>Raised for every message received (node_message).</summary>
        public event EventHandler<MessageEventArgs> MessageReceived;

        /// <summary>Raised before an outbound peer is dropped on request (node_disconnect_with_outbound_node).</summary>
        public event EventHandler<PeerEventArgs> DisconnectWithOutbound;

        /// <summary>Raised when the node begins to stop, peers still connected (node_request_to_stop).</summary>
        public event EventHandler RequestToStop;

        /// <summary>Raised before a lost peer is dialled again (node_reconnection_error); set Reconnect to answer.</summary>
        public event EventHandler<ReconnectionErrorEventArgs> ReconnectionError;

        /// <summary>The version of the native library, "MAJOR.MINOR.PATCH".</summary>
        public static string LibraryVersion
        {
            get { return Proxy.Version(); }
        }

        /// <summary>The node's id.</summary>
        public string Id { get; private set; }

        /// <summary>The host the node listens on, as given.</summary>
        public string Host { get; private set; }

        /// <summary>The port the node listens on (the chosen one when 0 was given).</summary>
        public int Port { get; private set; }

        /// <summary>True between <see cref="Start"/> and <see cref="Stop"/>.</summary>
        public bool IsRunning
        {
            get
            {
                lock (sync)
                {
                    return started && !stopped;
                }
            }
        }

        /// <summary>Debug lines ("DEBUG (id): ...") on standard error. Any time.</summary>
        public bool Debug
        {
            get
            {
                ThrowIfDisposed();
                return Proxy.GetDebug(handle);
            }

            set
            {
                ThrowIfDisposed();
                Proxy.SetDebug(handle, value);
            }
        }

        /// <summary>Most inbound peers (0 = unlimited). May change at any time; applies to connections accepted from then on.</summary>
        public int MaxConnections
        {
            get { return (int)GetLimit(Limit.MaxConnections); }
            set { SetLimit(Limit.MaxConnections, value); }
        }

        /// <summary>The node's counters (see <see cref="NodeCounters"/>).</summary>
        public NodeCounters Counters
        {
            get
            {
                ThrowIfDisposed();
                return Proxy.Counters(handle);
            }
        }

        /// <summary>One peer's counters; also inside its disconnected event, where they are final.</summary>
        public NodeCounters CountersOf(Peer peer)
        {
            CheckPeer(peer);
            ThrowIfDisposed();
            return Proxy.PeerCounters(handle, peer.Handle);
        }

        /// <summary>The peers that connected to this node (p2pnetwork's nodes_inbound).</summary>
        public IReadOnlyList<Peer> InboundPeers
        {
            get { return ListPeers(0); }
        }

        /// <summary>The peers this node connected to (p2pnetwork's nodes_outbound).</summary>
        public IReadOnlyList<Peer> OutboundPeers
        {
            get { return ListPeers(1); }
        }

        /// <summary>Every peer: inbound, then outbound (p2pnetwork's all_nodes).</summary>
        public IReadOnlyList<Peer> AllPeers
        {
            get { return ListPeers(2); }
        }

        /// <summary>Reads a limit, its default filled in.</summary>
        public long GetLimit(Limit limit)
        {
            ThrowIfDisposed();
            return Proxy.GetLimit(handle, limit);
        }

        /// <summary>Sets a limit (0 restores its default). Only before <see cref="Start"/>, except <see cref="Limit.MaxConnections"/>.</summary>
        /// <exception cref="P2PException">InvalidArgument (negative value), InvalidState (already started).</exception>
        public void SetLimit(Limit limit, long value)
        {
            ThrowIfDisposed();
            Proxy.SetLimit(handle, limit, value);
        }

        /// <summary>Starts accepting connections, delivering events and reconnecting lost peers.</summary>
        /// <exception cref="P2PException">InvalidState (already started), Stopped; Key for a
        /// <see cref="SecureNode"/> that has no key yet.</exception>
        public void Start()
        {
            ThrowIfDisposed();
            lock (Running)
            {
                Running[key] = this;
            }
            try
            {
                Proxy.Start(handle);
            }
            catch
            {
                bool running;
                lock (sync)
                {
                    running = started && !stopped;
                }
                if (!running)
                {
                    Unregister();
                }
                throw;
            }
            lock (sync)
            {
                started = true;
            }
        }

        /// <summary>
        /// Stops the node: raises <see cref="RequestToStop"/> (a last chance to send), closes every
        /// peer after flushing what was queued for it, delivers their disconnected events, and returns
        /// when the node's thread is gone. Called from a handler of this node it returns at once and
        /// the rest follows when the handler returns. Idempotent.
        /// </summary>
        public void Stop()
        {
            ThrowIfDisposed();
            Proxy.Stop(handle);
            lock (sync)
            {
                stopped = true;
            }
            if (dispatching == this)
            {
                // The library finishes stopping once this handler returns; a second
                // stop from another thread waits for that, then lets the node go.
                var t = new Thread(FinishStop);
                t.IsBackground = true;
                t.Name = "P2PNode stop";
                t.Start();
                return;
            }
            Unregister();
        }

        /// <summary>
        /// Dials host:port and exchanges ids. With reconnect the node re-dials the peer whenever the
        /// connection is lost, asking <see cref="OnReconnectionError"/> before each attempt.
        /// Blocks for the dial and the handshake.
        /// </summary>
        /// <returns>The new peer.</returns>
        /// <exception cref="P2PException">InvalidState (not started), Stopped, Self, AlreadyConnected,
        /// ConnectFailed, HandshakeFailed.</exception>
        public Peer Connect(string host, int port, bool reconnect = false)
        {
            if (host == null)
            {
                throw new ArgumentNullException("host");
            }
            ThrowIfDisposed();
            int status;
            ulong h = Proxy.Connect(handle, host, port, reconnect, out status);
            if (status < 0)
            {
                throw Proxy.Error(status);
            }
            Peer peer = FindPeer(h);
            return peer ?? new Peer(this, h, null, host, port, Direction.Outbound);
        }

        /// <summary>Sends bytes to a peer (empty, holding 0x04, not UTF-8: all arrive exactly).</summary>
        /// <exception cref="P2PException">NoPeer, QueueFull, TooBig.</exception>
        public void Send(Peer peer, byte[] data, Compression compression = Compression.None)
        {
            CheckPeer(peer);
            if (data == null)
            {
                throw new ArgumentNullException("data");
            }
            ThrowIfDisposed();
            Proxy.Send(handle, peer.Handle, data, compression);
        }

        /// <summary>Sends text, as UTF-8, to a peer (p2pnetwork's str; for a dict send its JSON text).</summary>
        public void Send(Peer peer, string text, Compression compression = Compression.None)
        {
            if (text == null)
            {
                throw new ArgumentNullException("text");
            }
            Send(peer, Encoding.UTF8.GetBytes(text), compression);
        }

        /// <summary>Sends bytes to every peer but those excluded (p2pnetwork's send_to_nodes).</summary>
        /// <exception cref="P2PException">The code of the first peer that could not take it (the others have it), or TooBig.</exception>
        public void Broadcast(byte[] data, IEnumerable<Peer> exclude = null, Compression compression = Compression.None)
        {
            if (data == null)
            {
                throw new ArgumentNullException("data");
            }
            ulong[] handles = Handles(exclude);
            ThrowIfDisposed();
            Proxy.Broadcast(handle, data, handles, compression);
        }

        /// <summary>Sends bytes to every peer with a compression.</summary>
        public void Broadcast(byte[] data, Compression compression)
        {
            Broadcast(data, null, compression);
        }

        /// <summary>Sends text, as UTF-8, to every peer but those excluded.</summary>
        public void Broadcast(string text, IEnumerable<Peer> exclude = null, Compression compression = Compression.None)
        {
            if (text == null)
            {
                throw new ArgumentNullException("text");
            }
            Broadcast(Encoding.UTF8.GetBytes(text), exclude, compression);
        }

        /// <summary>Sends text, as UTF-8, to every peer with a compression.</summary>
        public void Broadcast(string text, Compression compression)
        {
            Broadcast(text, null, compression);
        }

        /// <summary>
        /// Closes the connection with a peer after flushing what was queued for it. For an outbound
        /// peer <see cref="OnDisconnectWithOutbound"/> comes first and the peer is no longer
        /// reconnected. The disconnected event follows.
        /// </summary>
        /// <exception cref="P2PException">NoPeer.</exception>
        public void Disconnect(Peer peer)
        {
            CheckPeer(peer);
            ThrowIfDisposed();
            Proxy.Disconnect(handle, peer.Handle);
        }

        /// <summary>Stops the node (see <see cref="Stop"/>) and frees it. Its peers see it disconnect.</summary>
        public void Dispose()
        {
            Dispose(true);
            GC.SuppressFinalize(this);
        }

        /// <summary>Frees the node; override to release what a subclass holds, and call base.</summary>
        /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
        protected virtual void Dispose(bool disposing)
        {
            if (!disposing)
            {
                return;
            }
            lock (sync)
            {
                if (disposed)
                {
                    return;
                }
                disposed = true;
                stopped = true;
            }
            if (dispatching != this)
            {
                // Stop first, so that the events of stopping reach the handlers.
                // The library returns once the event thread is gone, so mono
                // does not wait for it at exit.
                NativeMethods.p2p_node_stop(handle);
            }
            // From inside a handler the library frees the node when the handler
            // returns; the events after that are not delivered.
            Unregister();
            handle.Dispose();
        }

        /// <summary>This node has connected with another. The base method raises <see cref="OutboundConnected"/>.</summary>
        protected virtual void OnOutboundConnected(Peer peer)
        {
            Raise(OutboundConnected, new PeerEventArgs(peer), "OutboundConnected");
        }

        /// <summary>Another node has connected with this one. The base method raises <see cref="InboundConnected"/>.</summary>
        protected virtual void OnInboundConnected(Peer peer)
        {
            Raise(InboundConnected, new PeerEventArgs(peer), "InboundConnected");
        }

        /// <summary>An outbound peer has gone. The base method raises <see cref="OutboundDisconnected"/>.</summary>
        protected virtual void OnOutboundDisconnected(Peer peer)
        {
            Raise(OutboundDisconnected, new PeerEventArgs(peer), "OutboundDisconnected");
        }

        /// <summary>An inbound peer has gone. The base method raises <see cref="InboundDisconnected"/>.</summary>
        protected virtual void OnInboundDisconnected(Peer peer)
        {
            Raise(InboundDisconnected, new PeerEventArgs(peer), "InboundDisconnected");
        }

        /// <summary>A peer sent a message. The base method raises <see cref="MessageReceived"/>.</summary>
        protected virtual void OnMessage(Peer peer, Message message)
        {
            Raise(MessageReceived, new MessageEventArgs(peer, message), "MessageReceived");
        }

        /// <summary>An outbound peer is about to be dropped on request. The base method raises <see cref="DisconnectWithOutbound"/>.</summary>
        protected virtual void OnDisconnectWithOutbound(Peer peer)
        {
            Raise(DisconnectWithOutbound, new PeerEventArgs(peer), "DisconnectWithOutbound");
        }

        /// <summary>The node begins to stop; its peers are still connected. The base method raises <see cref="RequestToStop"/>.</summary>
        protected virtual void OnRequestToStop()
        {
            Raise(RequestToStop, EventArgs.Empty, "RequestToStop");
        }

        /// <summary>
        /// A lost outbound peer connected with reconnect is about to be dialled again.
        /// The base method raises <see cref="ReconnectionError"/> and returns its answer (true by default).
        /// An exception counts as true.
        /// </summary>
        /// <param name="host">The lost peer's host.</param>
        /// <param name="port">The lost peer's port.</param>
        /// <param name="trials">Attempts so far, from 1.</param>
        /// <returns>True to dial again, false to give up and forget the peer.</returns>
        protected virtual bool OnReconnectionError(string host, int port, int trials)
        {
            var args = new ReconnectionErrorEventArgs(host, port, trials);
            bool threw = Raise(ReconnectionError, args, "ReconnectionError");
            return threw || args.Reconnect;
        }

        /// <summary>
        /// An event handler threw. The default writes the exception to <see cref="Console.Error"/>.
        /// Whatever this does, the exception goes no further and the node goes on.
        /// </summary>
        /// <param name="handler">The event method or event whose handler threw.</param>
        /// <param name="exception">What it threw.</param>
        protected virtual void OnHandlerException(string handler, Exception exception)
        {
            Console.Error.WriteLine("P2PNode: unhandled exception in {0} of node {1}: {2}", handler, ShortId, exception);
        }

        private string ShortId
        {
            get { return Id != null && Id.Length > 10 ? Id.Substring(0, 10) : Id; }
        }

        /// <summary>The native callback of every node. Nothing may escape it.</summary>
        private static int Dispatch(IntPtr userData, IntPtr eventPtr)
        {
            Node node = null;
            try
            {
                lock (Running)
                {
                    Running.TryGetValue(userData.ToInt64(), out node);
                }
                if (node == null || eventPtr == IntPtr.Zero)
                {
                    return 1;
                }
                var ev = (NativeMethods.p2p_event)Marshal.PtrToStructure(eventPtr, typeof(NativeMethods.p2p_event));
                Node outer = dispatching;
                dispatching = node;
                try
                {
                    return node.Deliver(ref ev) ? 1 : 0;
                }
                finally
                {
                    dispatching = outer;
                }
            }
            catch (ThreadAbortException)
            {
                // The runtime is shutting down and aborts the threads it knows. This one
                // belongs to the library: the abort must not unwind into native code.
                try
                {
                    Thread.ResetAbort();
                }
                catch (Exception)
                {
                    // ResetAbort is not supported everywhere; nothing else to do.
                }
                return 1;
            }
            catch (Exception e)
            {
                try
                {
                    Console.Error.WriteLine("P2PNode: exception in the event callback: {0}", e);
                }
                catch
                {
                    // Nowhere left to report it; native code must not see it.
                }
                return 1;
            }
        }

        /// <summary>Copies the event out of native memory and calls the event method.</summary>
        private bool Deliver(ref NativeMethods.p2p_event ev)
        {
            Peer peer = null;
            if (ev.peer != 0)
            {
                peer = PeerOf(ref ev);
            }
            string name = ((EventType)ev.type).ToString();
            try
            {
                switch ((EventType)ev.type)
                {
                    case EventType.OutboundConnected:
                        OnOutboundConnected(peer);
                        break;
                    case EventType.InboundConnected:
                        OnInboundConnected(peer);
                        break;
                    case EventType.OutboundDisconnected:
                        peer.Dropped = ev.dropped;
                        peer.DroppedBytes = ev.dropped_bytes;
                        try
                        {
                            OnOutboundDisconnected(peer);
                        }
                        finally
                        {
                            Forget(ev.peer);
                        }
                        break;
                    case EventType.InboundDisconnected:
                        peer.Dropped = ev.dropped;
                        peer.DroppedBytes = ev.dropped_bytes;
                        try
                        {
                            OnInboundDisconnected(peer);
                        }
                        finally
                        {
                            Forget(ev.peer);
                        }
                        break;
                    case EventType.Message:
                        OnMessage(peer, MessageOf(ref ev));
                        break;
                    case EventType.DisconnectWithOutbound:
                        OnDisconnectWithOutbound(peer);
                        break;
                    case EventType.RequestToStop:
                        OnRequestToStop();
                        break;
                    case EventType.ReconnectionError:
                        return OnReconnectionError(Utf8.FromPointer(ev.host), ev.port, ev.trials);
                    default:
                        DeliverMore(ref ev, peer);
                        break;
                }
            }
            catch (Exception e)
            {
                Report("On" + name, e);
            }
            return true;
        }

        /// <summary>Delivers the events a plain node never raises (a <see cref="SecureNode"/>'s); ignores them here.</summary>
        internal virtual void DeliverMore(ref NativeMethods.p2p_event ev, Peer peer)
        {
        }

        /// <summary>The node's native handle, for subclasses in this assembly.</summary>
        internal NodeHandle NativeHandle
        {
            get { return handle; }
        }

        internal static Message MessageOf(ref NativeMethods.p2p_event ev)
        {
            ulong n = ev.data_len.ToUInt64();
            var data = new byte[n];
            if (n > 0)
            {
                Marshal.Copy(ev.data, data, 0, (int)n);
            }
            return new Message((MessageKind)ev.kind, data, (Compression)ev.compression);
        }

        /// <summary>The peer an event names: the one object for its handle, made at its first event.</summary>
        private Peer PeerOf(ref NativeMethods.p2p_event ev)
        {
            lock (peers)
            {
                Peer p;
                if (!peers.TryGetValue(ev.peer, out p))
                {
                    p = new Peer(this, ev.peer, Utf8.FromPointer(ev.peer_id), Utf8.FromPointer(ev.peer_host), ev.peer_port, (Direction)ev.direction);
                    peers[ev.peer] = p;
                }
                return p;
            }
        }

        private void Forget(ulong peerHandle)
        {
            lock (peers)
            {
                peers.Remove(peerHandle);
            }
        }

        /// <summary>The peer object for a handle: from the event cache, else asked of the library; null when gone.</summary>
        private Peer FindPeer(ulong h)
        {
            lock (peers)
            {
                Peer p;
                if (peers.TryGetValue(h, out p))
                {
                    return p;
                }
            }
            string id, host;
            int port;
            Direction direction;
            if (!Proxy.PeerInfo(handle, h, out id, out host, out port, out direction))
            {
                return null;
            }
            return new Peer(this, h, id, host, port, direction);
        }

        private IReadOnlyList<Peer> ListPeers(int direction)
        {
            ThrowIfDisposed();
            var result = new List<Peer>();
            foreach (ulong h in Proxy.Peers(handle, direction))
            {
                Peer p = FindPeer(h);
                if (p != null)
                {
                    result.Add(p);
                }
            }
            return result.AsReadOnly();
        }

        internal void SetPeerInfo(Peer peer, string key, byte[] value)
        {
            CheckPeer(peer);
            if (key == null)
            {
                throw new ArgumentNullException("key");
            }
            if (value == null)
            {
                throw new ArgumentNullException("value");
            }
            ThrowIfDisposed();
            Proxy.PeerSetInfo(handle, peer.Handle, key, value);
        }

        internal byte[] GetPeerInfo(Peer peer, string key)
        {
            CheckPeer(peer);
            if (key == null)
            {
                throw new ArgumentNullException("key");
            }
            ThrowIfDisposed();
            return Proxy.PeerGetInfo(handle, peer.Handle, key);
        }

        /// <summary>Calls each subscriber on its own, so that one that throws does not silence the others.</summary>
        /// <returns>True when a subscriber threw.</returns>
        internal bool Raise<T>(EventHandler<T> handlers, T args, string name)
        {
            if (handlers == null)
            {
                return false;
            }
            bool threw = false;
            foreach (EventHandler<T> h in handlers.GetInvocationList())
            {
                try
                {
                    h(this, args);
                }
                catch (Exception e)
                {
                    threw = true;
                    Report(name, e);
                }
            }
            return threw;
        }

        private bool Raise(EventHandler handlers, EventArgs args, string name)
        {
            if (handlers == null)
            {
                return false;
            }
            bool threw = false;
            foreach (EventHandler h in handlers.GetInvocationList())
            {
                try
                {
                    h(this, args);
                }
                catch (Exception e)
                {
                    threw = true;
                    Report(name, e);
                }
            }
            return threw;
        }

        private void Report(string name, Exception e)
        {
            try
            {
                OnHandlerException(name, e);
            }
            catch (Exception again)
            {
                try
                {
                    Console.Error.WriteLine("P2PNode: exception in {0}: {1}; then in OnHandlerException: {2}", name, e, again);
                }
                catch
                {
                    // Nowhere left to report it.
                }
            }
        }

        private void FinishStop()
        {
            try
            {
                NativeMethods.p2p_node_stop(handle);
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile: Dispose has let the node go.
            }
            Unregister();
        }

        /// <summary>Stops every running node when the process exits (handlers still get the stop events).</summary>
        private static void StopAllAtExit(object sender, EventArgs e)
        {
            Node[] all;
            lock (Running)
            {
                all = new Node[Running.Count];
                Running.Values.CopyTo(all, 0);
            }
            foreach (Node node in all)
            {
                try
                {
                    NativeMethods.p2p_node_stop(node.handle);
                    lock (node.sync)
                    {
                        node.stopped = true;
                    }
                    node.Unregister();
                }
                catch (Exception)
                {
                    // Disposed meanwhile, or the runtime is going down: nothing to stop.
                }
            }
        }

        private void Unregister()
        {
            lock (Running)
            {
                Running.Remove(key);
            }
        }

        internal void CheckPeer(Peer peer)
        {
            if (peer == null)
            {
                throw new ArgumentNullException("peer");
            }
            if (!ReferenceEquals(peer.Node, this))
            {
                throw new ArgumentException("the peer belongs to another node", "peer");
            }
        }

        internal void ThrowIfDisposed()
        {
            if (disposed)
            {
                throw new ObjectDisposedException(GetType().Name);
            }
        }

        private enum EventType
        {
            OutboundConnected = 1,
            InboundConnected = 2,
            OutboundDisconnected = 3,
            InboundDisconnected = 4,
            Message = 5,
            DisconnectWithOutbound = 6,
            RequestToStop = 7,
            ReconnectionError = 8,
            SecureMessage = 9,
            MessageRejected = 10,
            DiscoveryAnswer = 11,
        }

        // Handles lists the handles of the peers given (null ones and a null list skipped).
        internal static ulong[] Handles(IEnumerable<Peer> peers)
        {
            var handles = new List<ulong>();
            if (peers != null)
            {
                foreach (Peer p in peers)
                {
                    if (p != null)
                    {
                        handles.Add(p.Handle);
                    }
                }
            }
            return handles.ToArray();
        }
    }
}
