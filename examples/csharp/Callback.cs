// The p2pnetwork callback example (my_own_p2p_application_callback.py): no
// subclass; one handler subscribed to every .NET event of plain Nodes prints
// "Event: <name> from main node <id>: connected node <id>: <data>".
using System;
using System.Threading;
using P2PNode;

namespace P2PNodeExamples
{
    public static class Callback
    {
        private static readonly object Out = new object();
        private static int messages;

        private static void Print(string evt, object sender, Peer peer, object data)
        {
            var node = (Node)sender;
            lock (Out)
            {
                Console.WriteLine("Event: {0} from main node {1}: connected node {2}: {3}",
                    evt, node.Id.Substring(0, 8), peer == null ? "None" : peer.Id.Substring(0, 8), data ?? "None");
            }
        }

        private static void Subscribe(Node node)
        {
            node.OutboundConnected += (s, e) => Print("outbound_node_connected", s, e.Peer, null);
            node.InboundConnected += (s, e) => Print("inbound_node_connected", s, e.Peer, null);
            node.OutboundDisconnected += (s, e) => Print("outbound_node_disconnected", s, e.Peer, null);
            node.InboundDisconnected += (s, e) => Print("inbound_node_disconnected", s, e.Peer, null);
            node.DisconnectWithOutbound += (s, e) => Print("node_disconnect_with_outbound_node", s, e.Peer, null);
            node.RequestToStop += (s, e) => Print("node_request_to_stop", s, null, null);
            node.MessageReceived += (s, e) =>
            {
                Print("node_message", s, e.Peer, e.Message);
                Interlocked.Increment(ref messages);
            };
        }

        public static int Main()
        {
            try
            {
                using (var node1 = new Node("127.0.0.1", 0))
                using (var node2 = new Node("127.0.0.1", 0))
                using (var node3 = new Node("127.0.0.1", 0))
                {
                    Subscribe(node1);
                    Subscribe(node2);
                    Subscribe(node3);
                    node1.Start();
                    node2.Start();
                    node3.Start();

                    node1.Connect("127.0.0.1", node2.Port);
                    node2.Connect("127.0.0.1", node3.Port);
                    node3.Connect("127.0.0.1", node1.Port);
                    // Connect returns once the dialling side is connected; wait until
                    // node1 has accepted node3 too, so that the broadcast reaches both.
                    if (!MyOwnPeer2PeerNode.WaitFor(() => node1.AllPeers.Count == 2))
                    {
                        Console.Error.WriteLine("node3 did not connect");
                        return 1;
                    }

                    node1.Broadcast("message: Hi there!");
                    if (!MyOwnPeer2PeerNode.WaitFor(() => Volatile.Read(ref messages) == 2))
                    {
                        Console.Error.WriteLine("the message did not arrive");
                        return 1;
                    }
                    // node_disconnect_with_outbound_node, then the disconnections.
                    node1.Disconnect(node1.OutboundPeers[0]);
                    node1.Stop();
                    node2.Stop();
                    node3.Stop();
                }
                Console.WriteLine("end test");
                return 0;
            }
            catch (P2PException e)
            {
                Console.Error.WriteLine("error {0}: {1}", e.Code, e.Message);
                return 1;
            }
        }
    }
}
