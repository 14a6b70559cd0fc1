// SecureNode.cs - the command-line secure node (p2psecure's
// examples/secure_node.py) in C#, with the interface every language's secure
// node example shares (tests/crosslang/README.md, "The secure node examples"):
//
//     mono SecureNode.exe <key-file> <password> [port]
//
// It makes a secure node on 127.0.0.1 (port 0: a free one) with a generated
// id. If <key-file> exists it is loaded with <password> (p2psecure's format,
// ours, or PEM); otherwise a new 4096-bit key is generated and saved there in
// our format. It starts the node, prints "READY <port> <id>", then answers one
// line per command read from stdin:
//
//     connect <host> <port>   OK connect <peer-id>              | ERR connect <code> <message>
//     message <json>          OK message                        | ERR message <code> <message>
//     ping                    OK ping                           | ERR ping <code> <message>
//     discovery               OK discovery                      | ERR discovery <code> <message>
//     status                  OK status <peer-id>=<ping|->,...  | OK status -
//     stop (or end of input)  OK stop; exit status 0
//
// Events (from the node's event thread, as they come):
//
//     EVENT connected <peer-id> <inbound|outbound>
//     EVENT disconnected <peer-id>
//     EVENT message <peer-id> <sender-id> <type> <payload>     the whole signed JSON as received
//     EVENT rejected <peer-id> <reject-code> <reason>
//     EVENT discovery_answer <peer-id> <sender-id> <entries|-> entries: <id>@<host>:<port>/<inbound|outbound>,...
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using P2PNode;

namespace P2PNodeExamples
{
    public static class SecureNodeProgram
    {
        private static readonly object OutLock = new object();
        private static TextWriter output;

        // Say writes one protocol line and flushes it.
        private static void Say(string line)
        {
            lock (OutLock)
            {
                output.Write(line);
                output.Write('\n');
                output.Flush();
            }
        }

        // OneLine keeps a protocol field on its line.
        private static string OneLine(string s)
        {
            return string.IsNullOrEmpty(s) ? "-" : s.Replace("\r", " ").Replace("\n", " ");
        }

        private static string DirectionName(Direction d)
        {
            return d == Direction.Inbound ? "inbound" : "outbound";
        }

        // The .NET-event style of the binding: one handler per event.
        private static void Subscribe(SecureNode node)
        {
            node.OutboundConnected += (s, e) => Say("EVENT connected " + e.Peer.Id + " outbound");
            node.InboundConnected += (s, e) => Say("EVENT connected " + e.Peer.Id + " inbound");
            node.OutboundDisconnected += (s, e) => Say("EVENT disconnected " + e.Peer.Id);
            node.InboundDisconnected += (s, e) => Say("EVENT disconnected " + e.Peer.Id);
            node.SecureMessageReceived += (s, e) => Say("EVENT message " + e.Peer.Id + " " + OneLine(e.Message.SenderId)
                + " " + OneLine(e.Message.Type) + " " + OneLine(e.Message.Json));
            node.MessageRejected += (s, e) => Say("EVENT rejected " + e.Peer.Id + " " + (int)e.Reject + " " + OneLine(e.Reason));
            node.DiscoveryAnswerReceived += (s, e) =>
            {
                var entries = new List<string>();
                foreach (DiscoveredNode d in e.Answer.Nodes)
                {
                    entries.Add(d.Id + "@" + d.Host + ":" + d.Port + "/" + DirectionName(d.Direction));
                }
                Say("EVENT discovery_answer " + e.Peer.Id + " " + OneLine(e.Answer.SenderId) + " "
                    + (entries.Count == 0 ? "-" : string.Join(",", entries)));
            };
        }

        private static string Status(SecureNode node)
        {
            var entries = new List<string>();
            foreach (Peer p in node.AllPeers)
            {
                byte[] ping;
                try
                {
                    ping = p.GetInfo("ping");
                }
                catch (P2PException)
                {
                    continue; // gone meanwhile
                }
                entries.Add(p.Id + "=" + (ping == null ? "-" : Encoding.UTF8.GetString(ping)));
            }
            return entries.Count == 0 ? "-" : string.Join(",", entries);
        }

        private static void Command(SecureNode node, string cmd, string rest)
        {
            string[] f = rest.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            string usage = "ERR " + cmd + " " + (int)ErrorCode.InvalidArgument + " bad arguments";
            try
            {
                switch (cmd)
                {
                    case "connect":
                    {
                        int port;
                        if (f.Length != 2 || !int.TryParse(f[1], out port))
                        {
                            Say(usage);
                            return;
                        }
                        Peer peer = node.Connect(f[0], port);
                        Say("OK connect " + OneLine(peer.Id));
                        return;
                    }
                    case "message":
                        node.SendMessage(rest);
                        Say("OK message");
                        return;
                    case "ping":
                        node.SendPing();
                        Say("OK ping");
                        return;
                    case "discovery":
                        node.SendDiscovery();
                        Say("OK discovery");
                        return;
                    case "status":
                        Say("OK status " + Status(node));
                        return;
                    default:
                        Say("ERR " + cmd + " " + (int)ErrorCode.InvalidArgument + " unknown command");
                        return;
                }
            }
            catch (P2PException e)
            {
                Say("ERR " + cmd + " " + e.NativeCode + " " + OneLine(e.Message));
            }
        }

        public static int Main(string[] args)
        {
            int port = 0;
            if (args.Length < 2 || args.Length > 3 || (args.Length == 3 && !int.TryParse(args[2], out port)))
            {
                Console.Error.WriteLine("usage: SecureNode.exe <key-file> <password> [port]");
                return 2;
            }
            string keyFile = args[0], password = args[1];
            output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
            var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
            using (var node = new SecureNode("127.0.0.1", port))
            {
                try
                {
                    if (File.Exists(keyFile))
                    {
                        node.KeyPairLoad(keyFile, password);
                    }
                    else
                    {
                        node.KeyPairGenerate(4096);
                        node.KeyPairSave(keyFile, password, KeyFormat.P2PNode);
                    }
                }
                catch (P2PException e)
                {
                    Console.Error.WriteLine("key file " + keyFile + ": " + e.Message);
                    return 1;
                }
                Subscribe(node);
                node.Start();
                Say("READY " + node.Port + " " + node.Id);
                string line;
                while ((line = input.ReadLine()) != null)
                {
                    line = line.Trim();
                    if (line.Length == 0)
                    {
                        continue;
                    }
                    int space = line.IndexOfAny(new[] { ' ', '\t' });
                    string cmd = space < 0 ? line : line.Substring(0, space);
                    string rest = space < 0 ? string.Empty : line.Substring(space + 1).Trim();
                    if (cmd == "stop")
                    {
                        break;
                    }
                    Command(node, cmd, rest);
                }
                node.Stop(); // the events of stopping are delivered before it returns
            }
            Say("OK stop");
            return 0;
        }
    }
}
