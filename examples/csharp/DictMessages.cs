// Dict messages (my_own_p2p_application_using_dict.py): p2pnetwork sends a
// dict as its JSON text (json.dumps, separators ", " and ": ") and the
// receiver gets a JSON value back. In C# send the JSON text; a received
// Message says it is JSON (Kind == MessageKind.Json) and gives its text.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using P2PNode;

namespace P2PNodeExamples
{
    public static class DictMessages
    {
        // json.dumps of a flat dictionary of strings and numbers.
        private static string Dumps(IDictionary<string, object> dict)
        {
            var sb = new StringBuilder("{");
            foreach (var kv in dict)
            {
                if (sb.Length > 1)
                {
                    sb.Append(", ");
                }
                sb.Append(Quote(kv.Key)).Append(": ");
                sb.Append(kv.Value is string ? Quote((string)kv.Value) : Convert.ToString(kv.Value, CultureInfo.InvariantCulture));
            }
            return sb.Append('}').ToString();
        }

        private static string Quote(string s)
        {
            return "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        }

        public static int Main()
        {
            var got = new List<Message>();
            try
            {
                using (var node1 = new MyOwnPeer2PeerNode("127.0.0.1", 0))
                using (var node2 = new Node("127.0.0.1", 0))
                {
                    node2.MessageReceived += (s, e) =>
                    {
                        Console.WriteLine("node_message ({0}): {1}", e.Message.Kind, e.Message.Text);
                        int n;
                        lock (got)
                        {
                            got.Add(e.Message);
                            n = got.Count;
                        }
                        // Answer with a dict of its own.
                        e.Peer.Send(Dumps(new Dictionary<string, object> { { "name", "reply" }, { "number", n } }));
                    };
                    node2.Start();
                    node1.Start();
                    Peer peer = node1.Connect("127.0.0.1", node2.Port);
                    node1.Send(peer, Dumps(new Dictionary<string, object> { { "name", "Maurice" }, { "number", 11 } }));
                    node1.Send(peer, Dumps(new Dictionary<string, object> { { "name", "node_1" }, { "number", 2 } }));
                    if (!MyOwnPeer2PeerNode.WaitFor(() => node1.Messages == 2))
                    {
                        Console.Error.WriteLine("the replies did not arrive");
                        return 1;
                    }
                    lock (got)
                    {
                        if (!got.All(m => m.Kind == MessageKind.Json))
                        {
                            Console.Error.WriteLine("a dict did not arrive as JSON");
                            return 1;
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
