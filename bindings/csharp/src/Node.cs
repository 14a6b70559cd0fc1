using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using P2PNode.Native;
using static P2PNode.Native.Proxy;
using N = P2PNode.Native.NativeMethods;

namespace P2PNode
{
    /// <summary>A peer-to-peer node (p2pnetwork's Node) that raises events through virtual On* methods and .NET events (README: threads, lifetime).</summary>
    public class Node : IDisposable
    {
        // The one native callback, held by a static field so that its thunk is never collected.
        private static readonly N.p2p_ev_fn StaticCallback = Dispatch;

        // Started nodes by key (the callback's user_data): an event for a key no longer here is ignored.
        private static readonly Dictionary<long, Node> Running = new Dictionary<long, Node>();
        private static long lastKey;

        [ThreadStatic]
        private static Node dispatching;

        // mono aborts the threads it knows at exit and waits for them; a node's event thread ends only at stop.
        static Node() => AppDomain.CurrentDomain.ProcessExit += StopAllAtExit;

        private readonly long key;
        private readonly object sync = new object();
        private readonly Dictionary<ulong, Peer> peers = new Dictionary<ulong, Peer>(); // one Peer per connection
        private bool started, stopped, disposed;
        /// <summary>Creates a node and binds its listening socket (host null or "": every interface; port 0: a free one; id null
        /// or "": generated as p2pnetwork does; maxConnections 0: unlimited). Nothing happens until <see cref="Start"/>.</summary>
        /// <exception cref="P2PException">InvalidArgument, Bind.</exception>
        public Node(string host, int port = 0, string id = null, int maxConnections = 0)
            : this(New(host, port, id, maxConnections)) { }

        private static NodeHandle New(string host, int port, string id, int maxConnections) =>
            Made(N.p2p_node_new(Z(host ?? ""), port, Z(id ?? ""), maxConnections, out NodeHandle h), h);
        /// <summary>Takes over a node the library has made (a plain or a secure one); frees it if this fails.</summary>
        internal Node(NodeHandle handle)
        {
            NativeHandle = handle;
            try
            {
                key = Interlocked.Increment(ref lastKey);
                Check(N.p2p_node_set_handler(handle, StaticCallback, new IntPtr(key)));
                Id = Text((out P2PBuf b) => N.p2p_node_id_buf(handle, out b));
                Host = Text((out P2PBuf b) => N.p2p_node_host_buf(handle, out b));
                Check(N.p2p_node_port(handle, out int p));
                Port = p;
            }
            catch { handle.Dispose(); throw; }
        }

        /// <summary>This node has connected with another (outbound_node_connected).</summary>
        public event EventHandler<PeerEventArgs> OutboundConnected;
        /// <summary>Another node has connected with this one (inbound_node_connected).</summary>
        public event EventHandler<PeerEventArgs> InboundConnected;
        /// <summary>An outbound peer has gone (outbound_node_disconnected).</summary>
        public event EventHandler<PeerEventArgs> OutboundDisconnected;
        /// <summary>An inbound peer has gone (inbound_node_disconnected).</summary>
        public event EventHandler<PeerEventArgs> InboundDisconnected;
        /// <summary>A message was received (node_message).</summary>
        public event EventHandler<MessageEventArgs> MessageReceived;
        /// <summary>An outbound peer is about to be dropped on request (node_disconnect_with_outbound_node).</summary>
        public event EventHandler<PeerEventArgs> DisconnectWithOutbound;
        /// <summary>The node begins to stop, peers still connected (node_request_to_stop).</summary>
        public event EventHandler RequestToStop;
        /// <summary>A lost peer is about to be dialled again (node_reconnection_error); set Reconnect to answer.</summary>
        public event EventHandler<ReconnectionErrorEventArgs> ReconnectionError;
        /// <summary>A publish on a topic this node subscribed to (node_topic_message).</summary>
        public event EventHandler<TopicMessageEventArgs> TopicMessage;
        /// <summary>The version of the native library, "MAJOR.MINOR.PATCH".</summary>
        public static string LibraryVersion => Str(N.p2p_version());
        /// <summary>The node's id.</summary>
        public string Id { get; }
        /// <summary>The host the node listens on, as given.</summary>
        public string Host { get; }
        /// <summary>The port the node listens on (the chosen one when 0 was given).</summary>
        public int Port { get; }

        internal NodeHandle NativeHandle { get; }
        /// <summary>The native handle, once the node is known not to be disposed.</summary>
        internal NodeHandle H => disposed ? throw new ObjectDisposedException(GetType().Name) : NativeHandle;
        /// <summary>True between <see cref="Start"/> and <see cref="Stop"/>.</summary>
        public bool IsRunning { get { lock (sync) return started && !stopped; } }
        /// <summary>Debug lines ("DEBUG (id): ...") on standard error. Any time.</summary>
        public bool Debug { get { Check(N.p2p_node_get_debug(H, out int on)); return on != 0; } set => Check(N.p2p_node_set_debug(H, value ? 1 : 0)); }

        /// <summary>Most inbound peers (0 = unlimited); any time, for connections accepted from then on.</summary>
        public int MaxConnections { get => (int)GetLimit(Limit.MaxConnections); set => SetLimit(Limit.MaxConnections, value); }
        /// <summary>The node's counters.</summary>
        public NodeCounters Counters { get { var s = Sized<NodeCounters>(); Check(N.p2p_node_stats(H, ref s)); return s; } }
        /// <summary>One peer's counters; also inside its disconnected event, where they are final.</summary>
        public NodeCounters CountersOf(Peer peer) { var s = Sized<NodeCounters>(); Check(N.p2p_peer_stats(H, Mine(peer).Handle, ref s)); return s; }
        /// <summary>The peers that connected to this node (nodes_inbound).</summary>
        public IReadOnlyList<Peer> InboundPeers => ListPeers(P2PDirection.Inbound);
        /// <summary>The peers this node connected to (nodes_outbound).</summary>
        public IReadOnlyList<Peer> OutboundPeers => ListPeers(P2PDirection.Outbound);
        /// <summary>Every peer: inbound, then outbound (all_nodes).</summary>
        public IReadOnlyList<Peer> AllPeers => ListPeers(P2PDirection.All);
        /// <summary>The native protocol with our own nodes: Preferred (the default), Off or Required; set before <see cref="Start"/>.</summary>
        public Encryption Encryption { get => (Encryption)GetLimit(Limit.Encryption); set => SetLimit(Limit.Encryption, (long)value); }
        /// <summary>The public half of the node's ed25519 identity key (32 bytes): its native peers' <see cref="Peer.PeerKey"/>.</summary>
        public byte[] PublicIdentityKey => Buf((out P2PBuf b) => N.p2p_node_public_key_buf(H, out b));
        /// <summary>The identity key, PEM PKCS#8 (a secret; generated when never set); set before <see cref="Start"/>.</summary>
        public byte[] Identity { get => Buf((out P2PBuf b) => N.p2p_node_identity_buf(H, out b), wipe: true); set => Check(N.p2p_node_set_identity(H, NotNull(value, nameof(value)), Len(value))); }
        /// <summary>Loads the identity key from a file <see cref="SaveIdentity"/> wrote; before <see cref="Start"/>.</summary>
        public void LoadIdentity(string path) => Check(N.p2p_node_identity_load(H, Z(NotNull(path, nameof(path)))));
        /// <summary>Saves the identity key (PEM, file mode 0600, atomically).</summary>
        public void SaveIdentity(string path) => Check(N.p2p_node_identity_save(H, Z(NotNull(path, nameof(path)))));
        /// <summary>Binds a node id to an identity key (32 bytes): a peer claiming the id with another key, or in plaintext, is refused.</summary>
        public void PinPeer(string id, byte[] key) => Check(Utf8Call(id, nameof(id), (i, n) => N.p2p_node_pin(H, i, n, NotNull(key, nameof(key)), Len(key))));
        /// <summary>The identity key pinned for a node id (on first use or by <see cref="PinPeer"/>), or null.</summary>
        public byte[] PinnedPeerKey(string id) { byte[] i = Utf8(id, nameof(id)); return Buf((out P2PBuf b) => N.p2p_node_pinned_key_buf(H, i, Len(i), out b), (int)ErrorCode.NotFound); }
        /// <summary>Adds a key (for that id only, if given) to the allow-list: once it holds one, only native peers it names are accepted.</summary>
        public void AllowPeer(byte[] key, string id = null) { byte[] i = id == null ? null : Utf8(id, nameof(id)); Check(N.p2p_node_allow(H, i, Len(i), NotNull(key, nameof(key)), Len(key))); }
        /// <summary>Learns addresses from peers, dials until the node has at least targetPeers connections and replaces lost ones.</summary>
        public void Discover(int targetPeers) => Check(N.p2p_node_discover(H, targetPeers));
        /// <summary>Every address the node knows of (from discovery).</summary>
        public IReadOnlyList<KnownPeer> KnownPeers { get { Check(N.p2p_node_known_peers_buf(H, out P2PBuf b, out UIntPtr n));
            try { return Array.AsReadOnly(Entries(b.data, n, p => new KnownPeer(Str(p.id), Str(p.host), p.port))); } finally { N.p2p_buf_free(ref b); } } }
        /// <summary>Receives the publishes on topic from now on (<see cref="OnTopicMessage"/>); relaying needs no subscription.</summary>
        public void Subscribe(string topic) => Check(Utf8Call(topic, nameof(topic), (t, n) => N.p2p_node_subscribe(H, t, n)));
        /// <summary>Stops receiving topic's publishes.</summary>
        public void Unsubscribe(string topic) => Check(Utf8Call(topic, nameof(topic), (t, n) => N.p2p_node_unsubscribe(H, t, n)));
        /// <summary>Sends bytes to every subscriber of topic in the network, once each, never back to this node.</summary>
        public void Publish(string topic, byte[] data) => Check(Utf8Call(topic, nameof(topic), (t, n) => N.p2p_node_publish(H, t, n, NotNull(data, nameof(data)), Len(data), 0)));
        /// <summary>Publishes text, as UTF-8.</summary>
        public void Publish(string topic, string text) => Publish(topic, Utf8(text, nameof(text)));
        /// <summary>Reads a limit, its default filled in.</summary>
        public long GetLimit(Limit limit) { Check(N.p2p_node_get_limit(H, (int)limit, out long v)); return v; }
        /// <summary>Sets a limit (0 restores its default); before <see cref="Start"/>, except <see cref="Limit.MaxConnections"/>.</summary>
        /// <exception cref="P2PException">InvalidArgument, InvalidState (already started).</exception>
        public void SetLimit(Limit limit, long value) => Check(N.p2p_node_set_limit(H, (int)limit, value));
        /// <summary>Starts accepting connections, delivering events and reconnecting lost peers.</summary>
        /// <exception cref="P2PException">InvalidState (already started), Stopped; Key for a secure node without a key.</exception>
        public void Start()
        {
            NodeHandle h = H;
            lock (Running) Running[key] = this;
            try { Check(N.p2p_node_start(h)); }
            catch { if (!IsRunning) Unregister(); throw; }
            lock (sync) started = true;
        }

        /// <summary>Stops the node: <see cref="RequestToStop"/>, every peer flushed and closed, their disconnected
        /// events; returns when the node's thread is gone (from a handler of this node: at once). Idempotent.</summary>
        public void Stop()
        {
            Check(N.p2p_node_stop(H));
            lock (sync) stopped = true;
            if (dispatching != this) { Unregister(); return; }
            // The library finishes stopping once this handler returns; a stop from another thread waits for that.
            new Thread(() => { try { N.p2p_node_stop(NativeHandle); } catch (ObjectDisposedException) { } Unregister(); }) // disposed meanwhile: let go
                { IsBackground = true, Name = "P2PNode stop" }.Start();
        }

        /// <summary>Dials host:port and exchanges ids (blocks for both). With reconnect a lost connection is dialled
        /// again, <see cref="OnReconnectionError"/> asked first.</summary>
        /// <exception cref="P2PException">InvalidState (not started), Stopped, Self, AlreadyConnected, ConnectFailed, HandshakeFailed.</exception>
        public Peer Connect(string host, int port, bool reconnect = false)
        {
            Check(N.p2p_node_connect(H, Z(NotNull(host, nameof(host))), port, reconnect ? 1 : 0, out ulong h));
            return FindPeer(h) ?? new Peer(this, h, null, host, port, Direction.Outbound, null);
        }

        /// <summary>Sends bytes to a peer (any bytes arrive exactly).</summary>
        /// <exception cref="P2PException">NoPeer, QueueFull, TooBig.</exception>
        public void Send(Peer peer, byte[] data, Compression compression = Compression.None) =>
            Check(N.p2p_node_send(H, Mine(peer).Handle, NotNull(data, nameof(data)), Len(data), (int)compression));
        /// <summary>Sends text, as UTF-8, to a peer (for a dict send its JSON text).</summary>
        public void Send(Peer peer, string text, Compression compression = Compression.None) => Send(peer, Utf8(text, nameof(text)), compression);
        /// <summary>Sends bytes to every peer but those excluded (send_to_nodes).</summary>
        /// <exception cref="P2PException">The code of the first peer that could not take it (the others have it), or TooBig.</exception>
        public void Broadcast(byte[] data, IEnumerable<Peer> exclude = null, Compression compression = Compression.None)
        {
            ulong[] ex = Handles(exclude);
            Check(N.p2p_node_broadcast(H, NotNull(data, nameof(data)), Len(data), ex, Len(ex), (int)compression));
        }

        /// <summary>Sends bytes to every peer with a compression.</summary>
        public void Broadcast(byte[] data, Compression compression) => Broadcast(data, null, compression);
        /// <summary>Sends text, as UTF-8, to every peer but those excluded.</summary>
        public void Broadcast(string text, IEnumerable<Peer> exclude = null, Compression compression = Compression.None) =>
            Broadcast(Utf8(text, nameof(text)), exclude, compression);
        /// <summary>Sends text, as UTF-8, to every peer with a compression.</summary>
        public void Broadcast(string text, Compression compression) => Broadcast(text, null, compression);
        /// <summary>Closes a connection after flushing its queue; an outbound peer gets <see cref="OnDisconnectWithOutbound"/>
        /// first and is not reconnected. The disconnected event follows.</summary>
        /// <exception cref="P2PException">NoPeer.</exception>
        public void Disconnect(Peer peer) => Check(N.p2p_node_disconnect(H, Mine(peer).Handle));
        /// <summary>Stops the node (see <see cref="Stop"/>) and frees it.</summary>
        public void Dispose() { Dispose(true); GC.SuppressFinalize(this); }
        /// <summary>Frees the node; override to release what a subclass holds, and call base.</summary>
        protected virtual void Dispose(bool disposing)
        {
            if (!disposing) return;
            lock (sync) { if (disposed) return; disposed = stopped = true; }
            // Stop first, so that the stop events reach the handlers; from inside a handler the library
            // frees the node when the handler returns.
            if (dispatching != this) N.p2p_node_stop(NativeHandle);
            Unregister();
            NativeHandle.Dispose();
        }

        /// <summary>This node has connected with another; raises <see cref="OutboundConnected"/>.</summary>
        protected virtual void OnOutboundConnected(Peer peer) => Raise(OutboundConnected, new PeerEventArgs(peer), nameof(OutboundConnected));
        /// <summary>Another node has connected with this one; raises <see cref="InboundConnected"/>.</summary>
        protected virtual void OnInboundConnected(Peer peer) => Raise(InboundConnected, new PeerEventArgs(peer), nameof(InboundConnected));
        /// <summary>An outbound peer has gone; raises <see cref="OutboundDisconnected"/>.</summary>
        protected virtual void OnOutboundDisconnected(Peer peer) => Raise(OutboundDisconnected, new PeerEventArgs(peer), nameof(OutboundDisconnected));
        /// <summary>An inbound peer has gone; raises <see cref="InboundDisconnected"/>.</summary>
        protected virtual void OnInboundDisconnected(Peer peer) => Raise(InboundDisconnected, new PeerEventArgs(peer), nameof(InboundDisconnected));
        /// <summary>A peer sent a message; raises <see cref="MessageReceived"/>.</summary>
        protected virtual void OnMessage(Peer peer, Message message) => Raise(MessageReceived, new MessageEventArgs(peer, message), nameof(MessageReceived));
        /// <summary>An outbound peer is about to be dropped on request; raises <see cref="DisconnectWithOutbound"/>.</summary>
        protected virtual void OnDisconnectWithOutbound(Peer peer) => Raise(DisconnectWithOutbound, new PeerEventArgs(peer), nameof(DisconnectWithOutbound));
        /// <summary>The node begins to stop, its peers still connected; raises <see cref="RequestToStop"/>.</summary>
        protected virtual void OnRequestToStop() => Each(RequestToStop, d => ((EventHandler)d)(this, EventArgs.Empty), nameof(RequestToStop));
        /// <summary>A lost peer (connected with reconnect) is about to be dialled again; raises <see cref="ReconnectionError"/>.
        /// True (the default, also when a handler threw) dials again, false forgets the peer.</summary>
        protected virtual bool OnReconnectionError(string host, int port, int trials)
        {
            var args = new ReconnectionErrorEventArgs(host, port, trials);
            return Raise(ReconnectionError, args, nameof(ReconnectionError)) || args.Reconnect;
        }

        /// <summary>A publish on a subscribed topic: origin is the publisher's node id, peer the neighbour that relayed it; raises <see cref="TopicMessage"/>.</summary>
        protected virtual void OnTopicMessage(Peer peer, string topic, string origin, Message message) => Raise(TopicMessage, new TopicMessageEventArgs(peer, topic, origin, message), nameof(TopicMessage));
        /// <summary>An event handler threw (the node goes on); the default writes it to <see cref="Console.Error"/>.</summary>
        protected virtual void OnHandlerException(string handler, Exception exception) =>
            Console.Error.WriteLine("P2PNode: unhandled exception in {0} of node {1}: {2}", handler, Id.Length > 10 ? Id.Substring(0, 10) : Id, exception);
        /// <summary>The native callback of every node. Nothing may escape it.</summary>
        private static int Dispatch(IntPtr userData, IntPtr eventPtr)
        {
            try
            {
                Node node, outer = dispatching;
                lock (Running) Running.TryGetValue(userData.ToInt64(), out node);
                if (node == null || eventPtr == IntPtr.Zero) return 1;
                var ev = Read<P2PEv>(eventPtr);
                dispatching = node;
                try { return node.Deliver(ref ev) ? 1 : 0; }
                finally { dispatching = outer; }
            }
            // The runtime is shutting down: the abort must not unwind into the library's thread.
            catch (ThreadAbortException) { try { Thread.ResetAbort(); } catch (Exception) { } }
            catch (Exception e) { try { Console.Error.WriteLine("P2PNode: exception in the event callback: {0}", e); } catch { } }
            return 1;
        }

        /// <summary>Calls the event method for ev; its answer (for reconnection errors).</summary>
        private bool Deliver(ref P2PEv ev)
        {
            var type = (P2PEventType)ev.type;
            Peer peer = ev.peer != 0 ? PeerOf(ref ev) : null;
            try
            {
                switch (type)
                {
                    case P2PEventType.OutboundConnected: OnOutboundConnected(peer); break;
                    case P2PEventType.InboundConnected: OnInboundConnected(peer); break;
                    case P2PEventType.OutboundDisconnected:
                    case P2PEventType.InboundDisconnected:
                        (peer.Dropped, peer.DroppedBytes) = (ev.dropped, ev.dropped_bytes);
                        try { if (type == P2PEventType.OutboundDisconnected) OnOutboundDisconnected(peer); else OnInboundDisconnected(peer); }
                        finally { lock (peers) peers.Remove(ev.peer); }
                        break;
                    case P2PEventType.Message: OnMessage(peer, MessageOf(ref ev)); break;
                    case P2PEventType.DisconnectWithOutbound: OnDisconnectWithOutbound(peer); break;
                    case P2PEventType.RequestToStop: OnRequestToStop(); break;
                    case P2PEventType.ReconnectionError: return OnReconnectionError(Str(ev.host), ev.port, ev.trials);
                    case P2PEventType.TopicMessage: OnTopicMessage(peer, Str(ev.topic), Str(ev.origin), MessageOf(ref ev)); break;
                    default: DeliverMore(ref ev, peer); break;
                }
            }
            catch (Exception e) { Report("On" + type, e); } // the generated enum names the header's types
            return true;
        }

        /// <summary>Delivers the event types a subclass knows (SecureNode's); ignored here.</summary>
        internal virtual void DeliverMore(ref P2PEv ev, Peer peer) { }
        /// <summary>The one Peer object for an event's handle, made at its first event (with the library's facts: encryption, key).</summary>
        private Peer PeerOf(ref P2PEv ev)
        {
            lock (peers)
            {
                if (!peers.TryGetValue(ev.peer, out Peer p)) peers[ev.peer] = p = FindPeer(ev.peer) ?? new Peer(this, ev.peer, Str(ev.peer_id), Str(ev.peer_host), ev.peer_port, (Direction)ev.direction, null);
                return p;
            }
        }

        /// <summary>The Peer for a handle: from the events' cache, else from the library (p2p_peer_facts); null when gone.</summary>
        private Peer FindPeer(ulong h)
        {
            lock (peers) if (peers.TryGetValue(h, out Peer known)) return known;
            var p = Sized<P2PPeer>();
            int rc = N.p2p_peer_facts(NativeHandle, h, ref p); // also in the stop events of Dispose
            try
            {
                if (rc == (int)ErrorCode.NoPeer) return null;
                Check(rc);
                return new Peer(this, h, Str(p.id), Str(p.host), p.port, (Direction)p.direction, p.encrypted != 0 ? p.key : null);
            }
            finally { N.p2p_buf_free(ref p.mem); }
        }

        private IReadOnlyList<Peer> ListPeers(P2PDirection direction)
        {
            byte[] b = Buf((out P2PBuf buf) => N.p2p_node_peers_buf(H, (int)direction, out buf));
            return Enumerable.Range(0, b.Length / sizeof(ulong)).Select(i => FindPeer(BitConverter.ToUInt64(b, i * sizeof(ulong))))
                .Where(p => p != null).ToList().AsReadOnly();
        }

        /// <summary>Calls each subscriber on its own, so that one that throws does not silence the others; true when one threw.</summary>
        internal bool Raise<T>(EventHandler<T> handlers, T args, string name) => Each(handlers, d => ((EventHandler<T>)d)(this, args), name);

        private bool Each(Delegate handlers, Action<Delegate> call, string name)
        {
            bool threw = false;
            foreach (Delegate d in handlers?.GetInvocationList() ?? new Delegate[0])
            {
                try { call(d); }
                catch (Exception e) { threw = true; Report(name, e); }
            }
            return threw;
        }

        private void Report(string name, Exception e)
        {
            try { OnHandlerException(name, e); }
            catch (Exception again) { try { Console.Error.WriteLine("P2PNode: exception in {0}: {1}; then in OnHandlerException: {2}", name, e, again); } catch { } }
        }

        /// <summary>Stops every running node when the process exits (handlers still get the stop events).</summary>
        private static void StopAllAtExit(object sender, EventArgs e)
        {
            List<Node> all;
            lock (Running) all = new List<Node>(Running.Values);
            foreach (Node node in all)
            {
                try { N.p2p_node_stop(node.NativeHandle); lock (node.sync) node.stopped = true; node.Unregister(); }
                catch (Exception) { } // disposed meanwhile, or the runtime is going down: nothing to stop
            }
        }

        private void Unregister() { lock (Running) Running.Remove(key); }
        /// <summary>The peer, checked to be one of this node's.</summary>
        internal Peer Mine(Peer peer) => ReferenceEquals(NotNull(peer, nameof(peer)).Node, this) ? peer
            : throw new ArgumentException("the peer belongs to another node", nameof(peer));

        internal static T NotNull<T>(T value, string name) where T : class => value ?? throw new ArgumentNullException(name);

        internal static byte[] Utf8(string text, string name) => Encoding.UTF8.GetBytes(NotNull(text, name));
        /// <summary>Calls the library with text as its UTF-8 bytes and their length.</summary>
        internal static int Utf8Call(string text, string name, Func<byte[], UIntPtr, int> call) { byte[] b = Utf8(text, name); return call(b, Len(b)); }
        /// <summary>The handles of the peers given (null ones and a null list skipped).</summary>
        internal static ulong[] Handles(IEnumerable<Peer> peers) => (peers ?? new Peer[0]).Where(p => p != null).Select(p => p.Handle).ToArray();
    }
}
