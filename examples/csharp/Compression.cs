// The p2pnetwork compression example: the same message sent with no
// compression, zlib, bzip2 and lzma; the receiver sees the exact text and
// which compression it travelled with.
using System;
using System.Collections.Generic;
using P2PNode;

namespace P2PNodeExamples
{
    public static class CompressionExample
    {
        public static int Main()
        {
            const string text = "message: Hi there! Hi there! Hi there! Hi there!";
            var got = new List<Message>();
            try
            {
                using (var node1 = new MyOwnPeer2PeerNode("127.0.0.1", 0))
                using (var node2 = new Node("127.0.0.1", 0))
                {
                    node2.MessageReceived += (s, e) =>
                    {
                        lock (got)
                        {
                            Console.WriteLine("node_message ({0}): {1}", e.Message.Compression.ToString().ToLowerInvariant(), e.Message.Text);
                            got.Add(e.Message);
                        }
                    };
                    node1.Start();
                    node2.Start();
                    Peer peer = node1.Connect("127.0.0.1", node2.Port);
                    var all = new[] { Compression.None, Compression.Zlib, Compression.Bzip2, Compression.Lzma };
                    foreach (Compression c in all)
                    {
                        node1.Send(peer, text, c);
                    }
                    if (!MyOwnPeer2PeerNode.WaitFor(() => { lock (got) { return got.Count == all.Length; } }))
                    {
                        Console.Error.WriteLine("the messages did not arrive");
                        return 1;
                    }
                    lock (got)
                    {
                        for (int i = 0; i < all.Length; i++)
                        {
                            if (got[i].Text != text || got[i].Compression != all[i])
                            {
                                Console.Error.WriteLine("message {0} arrived wrong", i);
                                return 1;
                            }
                        }
                    }
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
