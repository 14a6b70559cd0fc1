using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using P2PNode.Native;
using static P2PNode.Native.NativeConstants;

namespace P2PNode
{
    /// <summary>A peer-to-peer node (p2pnetwork's Node): it listens on TCP, connects with other nodes, sends them messages and raises events.</summary>
    /// <remarks>
    /// <para>Handle events in either of two ways, or both: subclass Node and override
    /// the protected virtual methods (<see cref="OnMessage"/>, ...), or subscribe to
    /// the .NET events (<see cref="MessageReceived"/>, ...). The base methods raise
    /// the events, so an override that does not call base suppresses its event.</para>
    /// <para>Events of one node arrive in order, one at a time, on a thread the
    /// native library owns; it ends when the node stops. Handlers may call any
    /// method of the node, Stop and Dispose included. An exception thrown by a
    /// handler is caught and reported (see <see cref="OnHandlerException"/>); the node goes on.</para>
    /// <para>A started node stays alive, like a running thread, until <see cref="Stop"/> or
    /// <see cref="Dispose()"/>. Dispose stops the node and frees it; an unstarted or stopped
    /// node that is not disposed is freed by the finalizer.</para>
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
        private static readonly NativeMethods.p2p_ev_fn StaticCallback = Dispatch;

        // Started nodes by key (the callback's user_data): a started node stays
        // reachable while the library may call into it, and an event for a key
        // that is no longer here is ignored, never dereferenced.
        private static readonly Dictionary<long, Node> Running = new Dictionary<long, Node>();
        private static long lastKey;

        [ThreadStatic]
        private static Node dispatching;

        // Node threads must be gone before the runtime shuts down: mono aborts the threads it
        // knows at exit and waits for them, and a running node's event thread ends only at stop.
        static Node() => AppDomain.CurrentDomain.ProcessExit += StopAllAtExit;

        private readonly long key;
        private readonly object sync = new object();
        private readonly Dictionary<ulong, Peer> peers = new Dictionary<ulong, Peer>();
        private bool started, stopped, disposed;

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
            NativeHandle = handle;
            try
            {
                key = Interlocked.Increment(ref lastKey);
                Proxy.SetHandler(handle, StaticCallback, new IntPtr(key));
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
        public static string LibraryVersion => Proxy.Version();
        /// <summary>The node's id.</summary>
        public string Id { get; }
        /// <summary>The host the node listens on, as given.</summary>
        public string Host { get; }
        /// <summary>The port the node listens on (the chosen one when 0 was given).</summary>
        public int Port { get; }

        /// <summary>The node's native handle, for subclasses in this assembly.</summary>
        internal NodeHandle NativeHandle { get; }

        /// <summary>The native handle, once the node is known not to be disposed.</summary>
        internal NodeHandle H => disposed ? throw new ObjectDisposedException(GetType().Name) : NativeHandle;

        /// <summary>True between <see cref="Start"/> and <see cref="Stop"/>.</summary>
        public bool IsRunning { get { lock (sync) return started && !stopped; } }

        /// <summary>Debug lines ("DEBUG (id): ...") on standard error. Any time.</summary>
        public bool Debug { get => Proxy.GetDebug(H); set => Proxy.SetDebug(H, value); }

        /// <summary>Most inbound peers (0 = unlimited). May change at any time; applies to connections accepted from then on.</summary>
        public int MaxConnections { get => (int)GetLimit(Limit.MaxConnections); set => SetLimit(Limit.MaxConnections, value); }

        /// <summary>The node's counters (see <see cref="NodeCounters"/>).</summary>
        public NodeCounters Counters => Proxy.Counters(H);

        /// <summary>One peer's counters; also inside its disconnected event, where they are final.</summary>
        public NodeCounters CountersOf(Peer peer) => Proxy.PeerCounters(H, Mine(peer).Handle);

        /// <summary>The peers that connected to this node (p2pnetwork's nodes_inbound).</summary>
        public IReadOnlyList<Peer> InboundPeers => ListPeers((int)P2PDirection.Inbound);
        /// <summary>The peers this node connected to (p2pnetwork's nodes_outbound).</summary>
        public IReadOnlyList<Peer> OutboundPeers => ListPeers((int)P2PDirection.Outbound);
        /// <summary>Every peer: inbound, then outbound (p2pnetwork's all_nodes).</summary>
        public IReadOnlyList<Peer> AllPeers => ListPeers((int)P2PDirection.All);

        /// <summary>Reads a limit, its default filled in.</summary>
        public long GetLimit(Limit limit) => Proxy.GetLimit(H, limit);

        /// <summary>Sets a limit (0 restores its default). Only before <see cref="Start"/>, except <see cref="Limit.MaxConnections"/>.</summary>
        /// <exception cref="P2PException">InvalidArgument (negative value), InvalidState (already started).</exception>
        public void SetLimit(Limit limit, long value) => Proxy.SetLimit(H, limit, value);

        /// <summary>Starts accepting connections, delivering events and reconnecting lost peers.</summary>
        /// <exception cref="P2PException">InvalidState (already started), Stopped; Key for a
        /// secure node that has no key yet.</exception>
        public void Start()
        {
            NodeHandle h = H;
            lock (Running) Running[key] = this;
            try
            {
                Proxy.Start(h);
            }
            catch
            {
                if (!IsRunning) Unregister();
                throw;
            }
            lock (sync) started = true;
        }

        /// <summary>
        /// Stops the node: raises <see cref="RequestToStop"/> (a last chance to send), closes every
        /// peer after flushing what was queued for it, delivers their disconnected events, and returns
        /// when the node's thread is gone. Called from a handler of this node it returns at once and
        /// the rest follows when the handler returns. Idempotent.
        /// </summary>
        public void Stop()
        {
            Proxy.Stop(H);
            lock (sync) stopped = true;
            if (dispatching != this)
            {
                Unregister();
                return;
            }
            // The library finishes stopping once this handler returns; a second stop
            // from another thread waits for that, then lets the node go.
            new Thread(() =>
            {
                try { Proxy.StopQuietly(NativeHandle); } catch (ObjectDisposedException) { } // disposed meanwhile: let go
                Unregister();
            }) { IsBackground = true, Name = "P2PNode stop" }.Start();
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
            NotNull(host, nameof(host));
            ulong h;
            Proxy.Check(Proxy.Connect(H, host, port, reconnect, out h));
            return FindPeer(h) ?? new Peer(this, h, null, host, port, Direction.Outbound);
        }

        /// <summary>Sends bytes to a peer (empty, holding 0x04, not UTF-8: all arrive exactly).</summary>
        /// <exception cref="P2PException">NoPeer, QueueFull, TooBig.</exception>
        public void Send(Peer peer, byte[] data, Compression compression = Compression.None) =>
            Proxy.Send(H, Mine(peer).Handle, NotNull(data, nameof(data)), compression);

        /// <summary>Sends text, as UTF-8, to a peer (p2pnetwork's str; for a dict send its JSON text).</summary>
        public void Send(Peer peer, string text, Compression compression = Compression.None) =>
            Send(peer, Utf8(text, nameof(text)), compression);

        /// <summary>Sends bytes to every peer but those excluded (p2pnetwork's send_to_nodes).</summary>
        /// <exception cref="P2PException">The code of the first peer that could not take it (the others have it), or TooBig.</exception>
        public void Broadcast(byte[] data, IEnumerable<Peer> exclude = null, Compression compression = Compression.None) =>
            Proxy.Broadcast(H, NotNull(data, nameof(data)), Handles(exclude), compression);

        /// <summary>Sends bytes to every peer with a compression.</summary>
        public void Broadcast(byte[] data, Compression compression) => Broadcast(data, null, compression);

        /// <summary>Sends text, as UTF-8, to every peer but those excluded.</summary>
        public void Broadcast(string text, IEnumerable<Peer> exclude = null, Compression compression = Compression.None) =>
            Broadcast(Utf8(text, nameof(text)), exclude, compression);

        /// <summary>Sends text, as UTF-8, to every peer with a compression.</summary>
        public void Broadcast(string text, Compression compression) => Broadcast(text, null, compression);

        /// <summary>
        /// Closes the connection with a peer after flushing what was queued for it. For an outbound
        /// peer <see cref="OnDisconnectWithOutbound"/> comes first and the peer is no longer
        /// reconnected. The disconnected event follows.
        /// </summary>
        /// <exception cref="P2PException">NoPeer.</exception>
        public void Disconnect(Peer peer) => Proxy.Disconnect(H, Mine(peer).Handle);

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
            if (!disposing) return;
            lock (sync)
            {
                if (disposed) return;
                disposed = stopped = true;
            }
            // Stop first, so that the events of stopping reach the handlers; the library returns once
            // the event thread is gone. From inside a handler the library frees the node when the
            // handler returns; the events after that are not delivered.
            if (dispatching != this) Proxy.StopQuietly(NativeHandle);
            Unregister();
            NativeHandle.Dispose();
        }

        /// <summary>This node has connected with another. The base method raises <see cref="OutboundConnected"/>.</summary>
        protected virtual void OnOutboundConnected(Peer peer) => Raise(OutboundConnected, new PeerEventArgs(peer), nameof(OutboundConnected));
        /// <summary>Another node has connected with this one. The base method raises <see cref="InboundConnected"/>.</summary>
        protected virtual void OnInboundConnected(Peer peer) => Raise(InboundConnected, new PeerEventArgs(peer), nameof(InboundConnected));
        /// <summary>An outbound peer has gone. The base method raises <see cref="OutboundDisconnected"/>.</summary>
        protected virtual void OnOutboundDisconnected(Peer peer) => Raise(OutboundDisconnected, new PeerEventArgs(peer), nameof(OutboundDisconnected));
        /// <summary>An inbound peer has gone. The base method raises <see cref="InboundDisconnected"/>.</summary>
        protected virtual void OnInboundDisconnected(Peer peer) => Raise(InboundDisconnected, new PeerEventArgs(peer), nameof(InboundDisconnected));
        /// <summary>A peer sent a message. The base method raises <see cref="MessageReceived"/>.</summary>
        protected virtual void OnMessage(Peer peer, Message message) => Raise(MessageReceived, new MessageEventArgs(peer, message), nameof(MessageReceived));
        /// <summary>An outbound peer is about to be dropped on request. The base method raises <see cref="DisconnectWithOutbound"/>.</summary>
        protected virtual void OnDisconnectWithOutbound(Peer peer) => Raise(DisconnectWithOutbound, new PeerEventArgs(peer), nameof(DisconnectWithOutbound));
        /// <summary>The node begins to stop; its peers are still connected. The base method raises <see cref="RequestToStop"/>.</summary>
        protected virtual void OnRequestToStop() => Raise(RequestToStop, EventArgs.Empty, nameof(RequestToStop));

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
            return Raise(ReconnectionError, args, nameof(ReconnectionError)) || args.Reconnect;
        }

        /// <summary>
        /// An event handler threw. The default writes the exception to <see cref="Console.Error"/>.
        /// Whatever this does, the exception goes no further and the node goes on.
        /// </summary>
        /// <param name="handler">The event method or event whose handler threw.</param>
        /// <param name="exception">What it threw.</param>
        protected virtual void OnHandlerException(string handler, Exception exception) =>
            Console.Error.WriteLine("P2PNode: unhandled exception in {0} of node {1}: {2}", handler, Id.Length > 10 ? Id.Substring(0, 10) : Id, exception);

        /// <summary>The native callback of every node. Nothing may escape it.</summary>
        private static int Dispatch(IntPtr userData, IntPtr eventPtr)
        {
            try
            {
                Node node;
                lock (Running) Running.TryGetValue(userData.ToInt64(), out node);
                if (node == null || eventPtr == IntPtr.Zero) return 1;
                var ev = Proxy.Read<P2PEv>(eventPtr);
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
                // The runtime is shutting down and aborts the threads it knows. This one belongs to
                // the library: the abort must not unwind into native code (ResetAbort is not everywhere).
                try { Thread.ResetAbort(); } catch (Exception) { }
                return 1;
            }
            catch (Exception e)
            {
                try { Console.Error.WriteLine("P2PNode: exception in the event callback: {0}", e); } catch { }
                return 1;
            }
        }

        /// <summary>Copies the event out of native memory and calls the event method; its answer (for reconnection errors).</summary>
        private bool Deliver(ref P2PEv ev)
        {
            Peer peer = ev.peer != 0 ? PeerOf(ref ev) : null;
            string name = "On" + (P2PEventType)ev.type; // the generated enum names the header's types
            try
            {
                switch ((P2PEventType)ev.type)
                {
                    case P2PEventType.OutboundConnected: OnOutboundConnected(peer); break;
                    case P2PEventType.InboundConnected: OnInboundConnected(peer); break;
                    case P2PEventType.OutboundDisconnected:
                    case P2PEventType.InboundDisconnected:
                        peer.Dropped = ev.dropped;
                        peer.DroppedBytes = ev.dropped_bytes;
                        try
                        {
                            if (ev.type == (int)P2PEventType.OutboundDisconnected) OnOutboundDisconnected(peer);
                            else OnInboundDisconnected(peer);
                        }
                        finally
                        {
                            lock (peers) peers.Remove(ev.peer);
                        }
                        break;
                    case P2PEventType.Message: OnMessage(peer, Proxy.MessageOf(ref ev)); break;
                    case P2PEventType.DisconnectWithOutbound: OnDisconnectWithOutbound(peer); break;
                    case P2PEventType.RequestToStop: OnRequestToStop(); break;
                    case P2PEventType.ReconnectionError: return OnReconnectionError(Proxy.Str(ev.host), ev.port, ev.trials);
                    default: DeliverMore(ref ev, peer); break;
                }
            }
            catch (Exception e)
            {
                Report(name, e);
            }
            return true;
        }

        /// <summary>Delivers the event types this class does not know (a subclass's); ignores them here.</summary>
        internal virtual void DeliverMore(ref P2PEv ev, Peer peer)
        {
        }

        /// <summary>The peer an event names: the one object for its handle, made at its first event.</summary>
        private Peer PeerOf(ref P2PEv ev)
        {
            lock (peers)
            {
                Peer p;
                if (!peers.TryGetValue(ev.peer, out p))
                {
                    peers[ev.peer] = p = new Peer(this, ev.peer, Proxy.Str(ev.peer_id), Proxy.Str(ev.peer_host), ev.peer_port, (Direction)ev.direction);
                }
                return p;
            }
        }

        /// <summary>The peer object for a handle: from the event cache, else asked of the library; null when gone.</summary>
        private Peer FindPeer(ulong h)
        {
            Peer p;
            lock (peers) if (peers.TryGetValue(h, out p)) return p;
            return Proxy.PeerInfo(this, H, h);
        }

        private IReadOnlyList<Peer> ListPeers(int direction)
        {
            var result = new List<Peer>();
            foreach (ulong h in Proxy.Peers(H, direction))
            {
                Peer p = FindPeer(h);
                if (p != null) result.Add(p);
            }
            return result.AsReadOnly();
        }

        internal void SetPeerInfo(Peer peer, string key, byte[] value) =>
            Proxy.PeerSetInfo(H, Mine(peer).Handle, NotNull(key, nameof(key)), NotNull(value, nameof(value)));

        internal byte[] GetPeerInfo(Peer peer, string key) => Proxy.PeerGetInfo(H, Mine(peer).Handle, NotNull(key, nameof(key)));

        /// <summary>Calls each subscriber on its own, so that one that throws does not silence the others.</summary>
        /// <returns>True when a subscriber threw.</returns>
        internal bool Raise<T>(EventHandler<T> handlers, T args, string name) => Each(handlers, d => ((EventHandler<T>)d)(this, args), name);

        private bool Raise(EventHandler handlers, EventArgs args, string name) => Each(handlers, d => ((EventHandler)d)(this, args), name);

        private bool Each(Delegate handlers, Action<Delegate> call, string name)
        {
            bool threw = false;
            foreach (Delegate d in handlers?.GetInvocationList() ?? new Delegate[0])
            {
                try
                {
                    call(d);
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
                try { Console.Error.WriteLine("P2PNode: exception in {0}: {1}; then in OnHandlerException: {2}", name, e, again); } catch { }
            }
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
                    Proxy.StopQuietly(node.NativeHandle);
                    lock (node.sync) node.stopped = true;
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
            lock (Running) Running.Remove(key);
        }

        /// <summary>The peer, checked to be one of this node's.</summary>
        internal Peer Mine(Peer peer)
        {
            if (!ReferenceEquals(NotNull(peer, nameof(peer)).Node, this)) throw new ArgumentException("the peer belongs to another node", nameof(peer));
            return peer;
        }

        internal static T NotNull<T>(T value, string name) where T : class => value ?? throw new ArgumentNullException(name);

        internal static byte[] Utf8(string text, string name) => Encoding.UTF8.GetBytes(NotNull(text, name));

        /// <summary>The handles of the peers given (null ones and a null list skipped).</summary>
        internal static ulong[] Handles(IEnumerable<Peer> peers)
        {
            var handles = new List<ulong>();
            foreach (Peer p in peers ?? new Peer[0]) if (p != null) handles.Add(p.Handle);
            return handles.ToArray();
        }
    }
}
