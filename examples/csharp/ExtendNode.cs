// The p2pnetwork README's first example (my_own_p2p_application.py): three
// nodes of a class that extends Node, connected in a ring, one message to all.
// Free ports.
using System;
using P2PNode;

namespace P2PNodeExamples
{
    public static class ExtendNode
    {
        public static int Main()
        {
            try
            {
                using (var node1 = new MyOwnPeer2PeerNode("127.0.0.1", 0))
                using (var node2 = new MyOwnPeer2PeerNode("127.0.0.1", 0))
                using (var node3 = new MyOwnPeer2PeerNode("127.0.0.1", 0))
                {
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
                    // node1 has two peers (node2 outbound, node3 inbound).
                    if (!MyOwnPeer2PeerNode.WaitFor(() => node2.Messages + node3.Messages == 2))
                    {
                        Console.Error.WriteLine("the message did not arrive");
                        return 1;
                    }
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
