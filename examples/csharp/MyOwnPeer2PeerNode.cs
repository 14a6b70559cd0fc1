// MyOwnPeer2PeerNode: the p2pnetwork README's "extend Node" class in C#.
// Override the event methods you need; each prints what happened.
using System;
using System.Diagnostics;
using System.Threading;
using P2PNode;

namespace P2PNodeExamples
{
    public class MyOwnPeer2PeerNode : Node
    {
        private static readonly object Out = new object(); // the nodes print from their own threads
        private int messages;

        public MyOwnPeer2PeerNode(string host, int port, string id = null)
            : base(host, port, id)
        {
            Console.WriteLine("MyPeer2PeerNode: Started");
        }

        /// <summary>Messages received so far.</summary>
        public int Messages
        {
            get { return Volatile.Read(ref messages); }
        }

        protected override void OnOutboundConnected(Peer peer)
        {
            Say("outbound_node_connected", peer.Id);
        }

        protected override void OnInboundConnected(Peer peer)
        {
            Say("inbound_node_connected", peer.Id);
        }

        protected override void OnOutboundDisconnected(Peer peer)
        {
            Say("outbound_node_disconnected", peer.Id);
        }

        protected override void OnInboundDisconnected(Peer peer)
        {
            Say("inbound_node_disconnected", peer.Id);
        }

        protected override void OnMessage(Peer peer, Message message)
        {
            Say("node_message", ShortId(peer.Id) + ": " + message);
            Interlocked.Increment(ref messages);
        }

        protected override void OnDisconnectWithOutbound(Peer peer)
        {
            Say("node wants to disconnect with other outbound node", peer.Id);
        }

        protected override void OnRequestToStop()
        {
            Say("node is requested to stop", null);
        }

        protected override bool OnReconnectionError(string host, int port, int trials)
        {
            Say("node_reconnection_error", host + ":" + port + " trials " + trials);
            return true;
        }

        private void Say(string what, string detail)
        {
            lock (Out)
            {
                Console.WriteLine("[{0}] {1}{2}", Port, what, detail == null ? "" : " (" + ShortId(detail) + ")");
            }
        }

        // A generated id is 128 hex characters: show its start.
        private static string ShortId(string s)
        {
            return s != null && s.Length >= 128 ? s.Substring(0, 12) + "..." + s.Substring(128) : s;
        }

        /// <summary>Waits up to seconds for pred; the examples never sleep a fixed time.</summary>
        public static bool WaitFor(Func<bool> pred, int seconds = 10)
        {
            var clock = Stopwatch.StartNew();
            while (!pred())
            {
                if (clock.Elapsed.TotalSeconds > seconds)
                {
                    return false;
                }
                Thread.Sleep(10);
            }
            return true;
        }
    }
}
