// Chat.cs - a chat room over a gossip topic: every line you type is published
// on the topic, and every node of the network that subscribed prints it once.
//
//     mono Chat.exe <name> <topic> [<bootstrap-host>:<port>]
//
// The first node starts without a bootstrap; the others name any node already
// in the room. Each node learns the others' addresses from its peers
// (Discover) and keeps a few connections, so the room stays whole when the
// bootstrap leaves. Links between our nodes are encrypted (the default).
// Type /peers to see the connections, /quit (or end of input) to leave.
using System;
using P2PNode;

namespace P2PNodeExamples
{
    public static class Chat
    {
        private const int Neighbours = 3; // connections each node keeps (discovery dials up to this many)
        private static readonly object Out = new object(); // events print from the node's thread

        private static void Print(string line)
        {
            lock (Out)
            {
                Console.WriteLine(line);
            }
        }

        public static int Main(string[] args)
        {
            if (args.Length < 2 || args.Length > 3)
            {
                Console.Error.WriteLine("usage: Chat.exe <name> <topic> [<bootstrap-host>:<port>]");
                return 2;
            }
            string name = args[0], topic = args[1];
            // The name is the node id: peers show it, and the encrypted links bind it to this node's key.
            using (var node = new Node(null, 0, name))
            {
                node.TopicMessage += (s, e) => Print(e.Origin + ": " + e.Message);
                node.InboundConnected += (s, e) => Print("* " + e.Peer.Id + " connected" + (e.Peer.Encrypted ? " (encrypted)" : ""));
                node.OutboundConnected += (s, e) => Print("* connected to " + e.Peer.Id + (e.Peer.Encrypted ? " (encrypted)" : ""));
                node.Start();
                node.Subscribe(topic);
                Print("chat: " + name + " in '" + topic + "', listening on port " + node.Port);
                if (args.Length == 3)
                {
                    int colon = args[2].LastIndexOf(':');
                    int port;
                    if (colon <= 0 || !int.TryParse(args[2].Substring(colon + 1), out port))
                    {
                        Console.Error.WriteLine("chat: the bootstrap is <host>:<port>, not " + args[2]);
                        return 2;
                    }
                    try
                    {
                        node.Connect(args[2].Substring(0, colon), port);
                    }
                    catch (P2PException e)
                    {
                        Console.Error.WriteLine("chat: cannot join through " + args[2] + ": " + e.Message);
                        return 1;
                    }
                }
                node.Discover(Neighbours);

                string line;
                while ((line = Console.In.ReadLine()) != null && line != "/quit")
                {
                    if (line == "/peers")
                    {
                        Print("peers: " + string.Join(", ", node.AllPeers) + "; known: " + string.Join(", ", node.KnownPeers));
                    }
                    else if (line.Length > 0)
                    {
                        node.Publish(topic, line); // to everyone in the room but us (the terminal shows what we typed)
                    }
                }
            }
            Print("chat: " + name + " left");
            return 0;
        }
    }
}
