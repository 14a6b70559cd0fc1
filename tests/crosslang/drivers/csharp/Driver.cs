// Driver.cs - the C# driver of the cross-language demo and test
// (tests/crosslang): a P2PNode.Node driven over stdin/stdout by the line
// protocol that every language's driver speaks.
//
//     mono Driver.exe <name> [port]
//
// It starts a node on 127.0.0.1 (port 0: a free one) with id <name>, prints
// "READY <port>", then answers one line per command read from stdin:
//
//     connect <port> [reconnect]            OK connect <peer-id> | ERR connect <code> <message>
//     send <peer-id> <compression> <hex|->  OK send | ERR send <code> <message>
//     broadcast <compression> <hex|->       OK broadcast | ERR broadcast <code> <message>
//     disconnect <peer-id>                  OK disconnect | ERR disconnect <code> <message>
//     peers                                 OK peers <id>,<id>,... | OK peers -
//     key                                   OK key <hex> (its public identity key)
//     peer <peer-id>                        OK peer <peer-id> encrypted <key-hex> | OK peer <peer-id> plaintext -
//     discover <target-peers>               OK discover | ERR discover <code> <message>
//     known                                 OK known <id>@<host>:<port>,... | OK known -
//     subscribe <topic>                     OK subscribe | ERR subscribe <code> <message>
//     unsubscribe <topic>                   OK unsubscribe | ERR unsubscribe <code> <message>
//     publish <topic> <hex|->               OK publish | ERR publish <code> <message>
//     stop (or end of input)                the stop events, then OK stop; exit 0
//
// Events (from the node's event thread, as they come):
//
//     EVENT <event-name> <peer-id|-> <kind|-> <compression|-> <hex|->
//     EVENT node_reconnection_error <host>:<port> <trials> - -   (answered true)
//     EVENT node_topic_message <peer-id> <kind> <compression> <hex|-> <topic> <origin-id>
//                                           (peer-id: the neighbour that relayed it)
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using P2PNode;

namespace P2PNodeExamples
{
    public static class Driver
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

        private static string Hex(byte[] data)
        {
            if (data == null || data.Length == 0)
            {
                return "-";
            }
            var sb = new StringBuilder(2 * data.Length);
            foreach (byte b in data)
            {
                sb.Append(b.ToString("x2"));
            }
            return sb.ToString();
        }

        private static byte[] FromHex(string s)
        {
            if (s == "-")
            {
                return new byte[0];
            }
            if (s.Length % 2 != 0)
            {
                return null;
            }
            var b = new byte[s.Length / 2];
            for (int i = 0; i < b.Length; i++)
            {
                int hi = Nibble(s[2 * i]), lo = Nibble(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                {
                    return null;
                }
                b[i] = (byte)(hi << 4 | lo);
            }
            return b;
        }

        private static int Nibble(char c)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        }

        private static bool ParseCodec(string s, out Compression c)
        {
            switch (s)
            {
                case "none": c = Compression.None; return true;
                case "zlib": c = Compression.Zlib; return true;
                case "bzip2": c = Compression.Bzip2; return true;
                case "lzma": c = Compression.Lzma; return true;
            }
            c = Compression.None;
            return false;
        }

        private static void PeerEvent(string name, Peer peer)
        {
            Say("EVENT " + name + " " + peer.Id + " - - -");
        }

        // The .NET-event style of the binding: one handler per event.
        private static void Subscribe(Node node)
        {
            node.OutboundConnected += (s, e) => PeerEvent("outbound_node_connected", e.Peer);
            node.InboundConnected += (s, e) => PeerEvent("inbound_node_connected", e.Peer);
            node.OutboundDisconnected += (s, e) => PeerEvent("outbound_node_disconnected", e.Peer);
            node.InboundDisconnected += (s, e) => PeerEvent("inbound_node_disconnected", e.Peer);
            node.DisconnectWithOutbound += (s, e) => PeerEvent("node_disconnect_with_outbound_node", e.Peer);
            node.RequestToStop += (s, e) => Say("EVENT node_request_to_stop - - - -");
            node.MessageReceived += (s, e) => Say("EVENT node_message " + e.Peer.Id + " "
                + e.Message.Kind.ToString().ToLowerInvariant() + " "
                + e.Message.Compression.ToString().ToLowerInvariant() + " " + Hex(e.Message.Data));
            node.TopicMessage += (s, e) => Say("EVENT node_topic_message " + e.Peer.Id + " "
                + e.Message.Kind.ToString().ToLowerInvariant() + " "
                + e.Message.Compression.ToString().ToLowerInvariant() + " " + Hex(e.Message.Data) + " " + e.Topic + " " + e.Origin);
            node.ReconnectionError += (s, e) =>
            {
                Say("EVENT node_reconnection_error " + e.Host + ":" + e.Port + " " + e.Trials + " - -");
                e.Reconnect = true;
            };
        }

        private static Peer FindPeer(Node node, string id)
        {
            foreach (Peer p in node.AllPeers)
            {
                if (p.Id == id)
                {
                    return p;
                }
            }
            return null;
        }

        private static void Command(Node node, string[] f)
        {
            string cmd = f[0];
            string usage = "ERR " + cmd + " " + (int)ErrorCode.InvalidArgument + " bad arguments";
            try
            {
                switch (cmd)
                {
                    case "connect":
                    {
                        int port;
                        if (f.Length < 2 || f.Length > 3 || !int.TryParse(f[1], out port))
                        {
                            Say(usage);
                            return;
                        }
                        Peer peer = node.Connect("127.0.0.1", port, f.Length == 3 && f[2] == "reconnect");
                        Say("OK connect " + (string.IsNullOrEmpty(peer.Id) ? "-" : peer.Id));
                        return;
                    }
                    case "send":
                    case "broadcast":
                    {
                        bool bc = cmd == "broadcast";
                        Compression codec;
                        byte[] data;
                        if (f.Length != (bc ? 3 : 4) || !ParseCodec(f[f.Length - 2], out codec)
                            || (data = FromHex(f[f.Length - 1])) == null)
                        {
                            Say(usage);
                            return;
                        }
                        if (bc)
                        {
                            node.Broadcast(data, codec);
                        }
                        else
                        {
                            Peer peer = FindPeer(node, f[1]);
                            if (peer == null)
                            {
                                Say("ERR send " + (int)ErrorCode.NoPeer + " no peer " + f[1]);
                                return;
                            }
                            node.Send(peer, data, codec);
                        }
                        Say("OK " + cmd);
                        return;
                    }
                    case "disconnect":
                    {
                        if (f.Length != 2)
                        {
                            Say(usage);
                            return;
                        }
                        Peer peer = FindPeer(node, f[1]);
                        if (peer == null)
                        {
                            Say("ERR disconnect " + (int)ErrorCode.NoPeer + " no peer " + f[1]);
                            return;
                        }
                        node.Disconnect(peer);
                        Say("OK disconnect");
                        return;
                    }
                    case "key":
                        Say("OK key " + Hex(node.PublicIdentityKey));
                        return;
                    case "peer":
                    {
                        Peer peer = f.Length == 2 ? FindPeer(node, f[1]) : null;
                        if (f.Length != 2)
                        {
                            Say(usage);
                        }
                        else if (peer == null)
                        {
                            Say("ERR peer " + (int)ErrorCode.NoPeer + " no peer " + f[1]);
                        }
                        else
                        {
                            Say("OK peer " + peer.Id + (peer.Encrypted ? " encrypted " + Hex(peer.PeerKey) : " plaintext -"));
                        }
                        return;
                    }
                    case "peers":
                    {
                        var ids = new List<string>();
                        foreach (Peer p in node.AllPeers)
                        {
                            ids.Add(p.Id);
                        }
                        Say("OK peers " + (ids.Count == 0 ? "-" : string.Join(",", ids)));
                        return;
                    }
                    case "discover":
                    {
                        int target;
                        if (f.Length != 2 || !int.TryParse(f[1], out target))
                        {
                            Say(usage);
                            return;
                        }
                        node.Discover(target);
                        Say("OK discover");
                        return;
                    }
                    case "known":
                    {
                        var known = new List<string>();
                        foreach (KnownPeer k in node.KnownPeers)
                        {
                            known.Add(k.ToString()); // id@host:port
                        }
                        Say("OK known " + (known.Count == 0 ? "-" : string.Join(",", known)));
                        return;
                    }
                    case "subscribe":
                    case "unsubscribe":
                    {
                        if (f.Length != 2)
                        {
                            Say(usage);
                            return;
                        }
                        if (cmd == "subscribe")
                        {
                            node.Subscribe(f[1]);
                        }
                        else
                        {
                            node.Unsubscribe(f[1]);
                        }
                        Say("OK " + cmd);
                        return;
                    }
                    case "publish":
                    {
                        byte[] data;
                        if (f.Length != 3 || (data = FromHex(f[2])) == null)
                        {
                            Say(usage);
                            return;
                        }
                        node.Publish(f[1], data);
                        Say("OK publish");
                        return;
                    }
                    default:
                        Say("ERR " + cmd + " " + (int)ErrorCode.InvalidArgument + " unknown command");
                        return;
                }
            }
            catch (P2PException e)
            {
                Say("ERR " + cmd + " " + e.NativeCode + " " + e.Message);
            }
        }

        public static int Main(string[] args)
        {
            if (args.Length < 1 || args.Length > 2)
            {
                Console.Error.WriteLine("usage: Driver.exe <name> [port]");
                return 2;
            }
            output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
            int port = args.Length == 2 ? int.Parse(args[1]) : 0;
            using (var node = new Node("127.0.0.1", port, args[0]))
            {
                Subscribe(node);
                // P2P_IDENTITY: the key file this driver name keeps across restarts (tests/crosslang/README.md).
                string identity = Environment.GetEnvironmentVariable("P2P_IDENTITY");
                if (!string.IsNullOrEmpty(identity))
                {
                    if (File.Exists(identity))
                    {
                        node.LoadIdentity(identity);
                    }
                    else
                    {
                        node.SaveIdentity(identity);
                    }
                }
                node.Start();
                Say("READY " + node.Port);
                string line;
                while ((line = Console.In.ReadLine()) != null)
                {
                    string[] f = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                    if (f.Length == 0)
                    {
                        continue;
                    }
                    if (f[0] == "stop")
                    {
                        break;
                    }
                    Command(node, f);
                }
                node.Stop(); // the events of stopping are delivered before it returns
            }
            Say("OK stop");
            return 0;
        }
    }
}
