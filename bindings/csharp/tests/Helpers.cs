using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    /// <summary>Waiting on conditions with a deadline; never a fixed sleep.</summary>
    internal static class Wait
    {
        internal const double Seconds = 10;

        internal static bool For(Func<bool> predicate, double seconds = Seconds)
        {
            var clock = Stopwatch.StartNew();
            while (!predicate())
            {
                if (clock.Elapsed.TotalSeconds > seconds)
                {
                    return predicate();
                }
                Thread.Sleep(5);
            }
            return true;
        }

        internal static void Until(Func<bool> predicate, string what)
        {
            Assert.IsTrue(For(predicate), "timed out waiting for " + what);
        }
    }

    /// <summary>One event as a Recorder saw it.</summary>
    internal sealed class Seen
    {
        public string Type;
        public Peer Peer;
        public Message Message;
        public string Host;
        public int Port;
        public int Trials;
        public int Thread;
        public string Topic;
        public string Origin;

        public override string ToString()
        {
            return Type + (Peer != null ? " " + Peer : string.Empty) + (Message != null ? " " + Message : string.Empty);
        }
    }

    /// <summary>A node of the subclass style that records every event it gets.</summary>
    internal class Recorder : Node
    {
        private readonly List<Seen> seen = new List<Seen>();

        public Recorder(string id = null, int port = 0)
            : base("127.0.0.1", port, id)
        {
            Answer = (h, p, t) => true;
        }

        /// <summary>The answer to reconnection questions.</summary>
        public Func<string, int, int, bool> Answer { get; set; }

        /// <summary>Called for each message after it is recorded (may throw, for the tests that need it).</summary>
        public Action<Peer, Message> OnEachMessage { get; set; }

        public List<Seen> Events
        {
            get
            {
                lock (seen)
                {
                    return seen.ToList();
                }
            }
        }

        public List<Seen> Of(string type)
        {
            return Events.Where(e => e.Type == type).ToList();
        }

        public int Count(string type)
        {
            return Of(type).Count;
        }

        public List<Message> Messages
        {
            get { return Of("message").Select(e => e.Message).ToList(); }
        }

        public void WaitCount(string type, int n)
        {
            Wait.Until(() => Count(type) >= n, n + " " + type + " event(s) on " + Port + "; saw: " + string.Join(", ", Events));
        }

        private void Add(Seen s)
        {
            s.Thread = System.Threading.Thread.CurrentThread.ManagedThreadId;
            lock (seen)
            {
                seen.Add(s);
            }
        }

        protected override void OnOutboundConnected(Peer peer)
        {
            Add(new Seen { Type = "outbound_connected", Peer = peer });
            base.OnOutboundConnected(peer);
        }

        protected override void OnInboundConnected(Peer peer)
        {
            Add(new Seen { Type = "inbound_connected", Peer = peer });
            base.OnInboundConnected(peer);
        }

        protected override void OnOutboundDisconnected(Peer peer)
        {
            Add(new Seen { Type = "outbound_disconnected", Peer = peer });
            base.OnOutboundDisconnected(peer);
        }

        protected override void OnInboundDisconnected(Peer peer)
        {
            Add(new Seen { Type = "inbound_disconnected", Peer = peer });
            base.OnInboundDisconnected(peer);
        }

        protected override void OnMessage(Peer peer, Message message)
        {
            Add(new Seen { Type = "message", Peer = peer, Message = message });
            base.OnMessage(peer, message);
            var each = OnEachMessage;
            if (each != null)
            {
                each(peer, message);
            }
        }

        protected override void OnTopicMessage(Peer peer, string topic, string origin, Message message)
        {
            Add(new Seen { Type = "topic_message", Peer = peer, Topic = topic, Origin = origin, Message = message });
            base.OnTopicMessage(peer, topic, origin, message);
        }

        protected override void OnDisconnectWithOutbound(Peer peer)
        {
            Add(new Seen { Type = "disconnect_with_outbound", Peer = peer });
            base.OnDisconnectWithOutbound(peer);
        }

        protected override void OnRequestToStop()
        {
            Add(new Seen { Type = "request_to_stop" });
            base.OnRequestToStop();
        }

        protected override bool OnReconnectionError(string host, int port, int trials)
        {
            Add(new Seen { Type = "reconnection_error", Host = host, Port = port, Trials = trials });
            base.OnReconnectionError(host, port, trials);
            return Answer(host, port, trials);
        }
    }

    /// <summary>Disposes every node a test made, whatever happens in it.</summary>
    internal sealed class Nodes : IDisposable
    {
        private readonly List<Node> all = new List<Node>();

        public T Add<T>(T node) where T : Node
        {
            all.Add(node);
            return node;
        }

        public Recorder Started(string id = null, Encryption encryption = Encryption.Preferred)
        {
            var r = Add(new Recorder(id));
            r.Encryption = encryption;
            r.Start();
            return r;
        }

        public void Dispose()
        {
            for (int i = all.Count - 1; i >= 0; i--)
            {
                all[i].Dispose();
            }
        }
    }
}
