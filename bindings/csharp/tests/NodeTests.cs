using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    [TestFixture]
    public class NodeTests
    {
        [Test]
        public void LibraryVersionIsSemantic()
        {
            StringAssert.IsMatch(@"^\d+\.\d+\.\d+$", Node.LibraryVersion);
        }

        [Test]
        public void FactsOfANewNode()
        {
            using (var given = new Node("127.0.0.1", 0, "my-id"))
            using (var generated = new Node("127.0.0.1", 0))
            {
                Assert.AreEqual("my-id", given.Id);
                Assert.AreEqual("127.0.0.1", given.Host);
                Assert.Greater(given.Port, 0);
                StringAssert.IsMatch("^[0-9a-f]{128}$", generated.Id);
                Assert.AreNotEqual(given.Port, generated.Port);
                Assert.IsFalse(given.IsRunning);
                Assert.AreEqual(0, given.AllPeers.Count);
                Assert.AreEqual(0UL, given.Counters.Sent);
            }
        }

        [Test]
        public void SubclassStyleSeesEveryEvent()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started("node-a");
                Recorder b = nodes.Started("node-b");
                Peer toB = a.Connect("127.0.0.1", b.Port);
                Assert.AreEqual("node-b", toB.Id);
                Assert.AreEqual(b.Port, toB.Port);
                Assert.AreEqual(Direction.Outbound, toB.Direction);
                Assert.AreSame(a, toB.Node);

                a.WaitCount("outbound_connected", 1);
                b.WaitCount("inbound_connected", 1);
                Assert.AreEqual(toB, a.Of("outbound_connected")[0].Peer, "the same peer: same node, same handle");
                Assert.AreEqual(toB.GetHashCode(), a.Of("outbound_connected")[0].Peer.GetHashCode());
                Peer fromA = b.Of("inbound_connected")[0].Peer;
                Assert.AreEqual("node-a", fromA.Id);
                Assert.AreEqual(a.Port, fromA.Port, "an inbound peer's port is its listening port");
                Assert.AreEqual("127.0.0.1", fromA.Host);
                Assert.AreEqual(Direction.Inbound, fromA.Direction);

                toB.Send("hello");
                fromA.Send(new byte[] { 1, 2, 3 });
                b.WaitCount("message", 1);
                a.WaitCount("message", 1);
                Assert.AreEqual("hello", b.Messages[0].Text);
                Assert.AreSame(fromA, b.Of("message")[0].Peer, "events share one Peer object per connection");
                CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, a.Messages[0].Data);

                a.Disconnect(toB);
                Assert.AreEqual(1, a.Count("disconnect_with_outbound"), "raised before Disconnect returns");
                a.WaitCount("outbound_disconnected", 1);
                b.WaitCount("inbound_disconnected", 1);
                var order = a.Events.Select(e => e.Type).ToList();
                Assert.Less(order.IndexOf("disconnect_with_outbound"), order.IndexOf("outbound_disconnected"));
                Assert.AreEqual(0, a.AllPeers.Count);

                b.Stop();
                Assert.AreEqual(1, b.Count("request_to_stop"));
                Assert.IsFalse(b.IsRunning);
                int thread = b.Events[0].Thread;
                Assert.IsTrue(b.Events.All(e => e.Thread == thread), "one thread delivers a node's events");
                Assert.AreNotEqual(Thread.CurrentThread.ManagedThreadId, thread);
            }
        }

        [Test]
        public void EventStyleSeesEveryEvent()
        {
            using (var a = new Node("127.0.0.1", 0))
            using (var b = new Node("127.0.0.1", 0))
            {
                var log = new List<string>();
                Action<string> note = s => { lock (log) { log.Add(s); } };
                Func<string, bool> has = s => { lock (log) { return log.Contains(s); } };
                a.OutboundConnected += (s, e) => note("a outbound_connected " + e.Peer.Id);
                b.InboundConnected += (s, e) => note("b inbound_connected " + e.Peer.Id);
                b.MessageReceived += (s, e) =>
                {
                    if (ReferenceEquals(s, b))
                    {
                        note("b message " + e.Message.Kind + " " + e.Message.Text + " from " + e.Peer.Id);
                    }
                };
                a.DisconnectWithOutbound += (s, e) => note("a disconnect_with_outbound " + e.Peer.Id);
                a.OutboundDisconnected += (s, e) => note("a outbound_disconnected " + e.Peer.Id);
                b.InboundDisconnected += (s, e) => note("b inbound_disconnected " + e.Peer.Id);
                a.RequestToStop += (s, e) => note("a request_to_stop");
                a.Start();
                b.Start();

                Peer peer = a.Connect("127.0.0.1", b.Port);
                a.Send(peer, "{\"n\": 1}");
                Wait.Until(() => has("b message Json {\"n\": 1} from " + a.Id), "the message");
                Assert.IsTrue(has("a outbound_connected " + b.Id));
                Assert.IsTrue(has("b inbound_connected " + a.Id));

                a.Disconnect(peer);
                Assert.IsTrue(has("a disconnect_with_outbound " + b.Id));
                Wait.Until(() => has("a outbound_disconnected " + b.Id) && has("b inbound_disconnected " + a.Id), "the disconnections");
                a.Stop();
                Assert.IsTrue(has("a request_to_stop"));
            }
        }

        [Test]
        public void PeerListsCountersAndInfo()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started("a");
                Recorder b = nodes.Started("b");
                Recorder c = nodes.Started("c");
                Peer toB = a.Connect("127.0.0.1", b.Port);
                c.Connect("127.0.0.1", a.Port);
                a.WaitCount("inbound_connected", 1);

                Assert.AreEqual(new[] { "c" }, a.InboundPeers.Select(p => p.Id).ToArray());
                Assert.AreEqual(new[] { "b" }, a.OutboundPeers.Select(p => p.Id).ToArray());
                Assert.AreEqual(new[] { "c", "b" }, a.AllPeers.Select(p => p.Id).ToArray(), "inbound, then outbound");
                Assert.AreEqual(toB, a.OutboundPeers[0]);

                a.Broadcast("to all");
                b.WaitCount("message", 1);
                c.WaitCount("message", 1);
                Assert.AreEqual(2UL, a.Counters.Sent, "a broadcast counts once per peer");
                Wait.Until(() => b.Counters.Received == 1, "b's counter");

                Assert.IsNull(toB.GetInfo("colour"));
                toB.SetInfo("colour", "blue");
                Assert.AreEqual("blue", Encoding.UTF8.GetString(toB.GetInfo("colour")));
                toB.SetInfo("empty", new byte[0]);
                Assert.AreEqual(0, toB.GetInfo("empty").Length);
            }
        }

        [Test]
        public void BroadcastExcludesAndCompresses()
        {
            using (var nodes = new Nodes())
            {
                Recorder hub = nodes.Started();
                var spokes = new[] { nodes.Started(), nodes.Started(), nodes.Started() };
                foreach (var s in spokes)
                {
                    s.Connect("127.0.0.1", hub.Port);
                }
                hub.WaitCount("inbound_connected", 3);
                Peer skipped = hub.InboundPeers.Single(p => p.Id == spokes[1].Id);

                hub.Broadcast("first", new[] { skipped }, Compression.Bzip2);
                hub.Broadcast(Encoding.UTF8.GetBytes("second"), Compression.Zlib);
                spokes[0].WaitCount("message", 2);
                spokes[2].WaitCount("message", 2);
                spokes[1].WaitCount("message", 1);
                // Messages of one connection arrive in order: the second came, so the first was never sent.
                Assert.AreEqual(new[] { "second" }, spokes[1].Messages.Select(m => m.Text).ToArray());
                Assert.AreEqual(new[] { "first", "second" }, spokes[0].Messages.Select(m => m.Text).ToArray());
                Assert.AreEqual(Compression.Bzip2, spokes[2].Messages[0].Compression);
                Assert.AreEqual(Compression.Zlib, spokes[2].Messages[1].Compression);
            }
        }

        [Test]
        public void DebugAndLimits()
        {
            using (var node = new Node("127.0.0.1", 0, null, 3))
            {
                Assert.IsFalse(node.Debug);
                node.Debug = true;
                Assert.IsTrue(node.Debug);
                node.Debug = false;
                Assert.AreEqual(3, node.MaxConnections);
                node.MaxConnections = 5;
                Assert.AreEqual(5, node.MaxConnections);
                Assert.AreEqual(10000L, node.GetLimit(Limit.DialTimeoutMs));
                node.SetLimit(Limit.DialTimeoutMs, 2000);
                Assert.AreEqual(2000L, node.GetLimit(Limit.DialTimeoutMs));
                node.SetLimit(Limit.DialTimeoutMs, 0);
                Assert.AreEqual(10000L, node.GetLimit(Limit.DialTimeoutMs), "0 restores the default");
            }
        }

        [Test]
        public void MaxConnectionsTurnsAway()
        {
            using (var nodes = new Nodes())
            {
                Recorder server = nodes.Add(new Recorder());
                server.MaxConnections = 1;
                server.Start();
                Recorder first = nodes.Started();
                Recorder second = nodes.Started();
                first.Connect("127.0.0.1", server.Port);
                server.WaitCount("inbound_connected", 1);
                var e = Assert.Throws<P2PException>(() => second.Connect("127.0.0.1", server.Port));
                // The server closes without a word (WIRE.md); the dialler sees it while reading the id.
                Assert.That(e.Code, Is.EqualTo(ErrorCode.ConnectFailed).Or.EqualTo(ErrorCode.HandshakeFailed), e.Message);
                Assert.AreEqual(1, server.InboundPeers.Count);
            }
        }

        [Test]
        public void HandlersMayCallTheNode()
        {
            using (var nodes = new Nodes())
            {
                Recorder echo = nodes.Started();
                echo.OnEachMessage = (peer, m) => peer.Send(m.Data, Compression.Lzma);
                Recorder client = nodes.Started();
                Peer peer0 = client.Connect("127.0.0.1", echo.Port);
                peer0.Send("ping");
                client.WaitCount("message", 1);
                Assert.AreEqual("ping", client.Messages[0].Text);
                Assert.AreEqual(Compression.Lzma, client.Messages[0].Compression);

                // A node that stops itself from its own handler.
                echo.OnEachMessage = (peer, m) => echo.Stop();
                peer0.Send("stop now");
                client.WaitCount("outbound_disconnected", 1);
                Wait.Until(() => echo.Count("request_to_stop") == 1 && echo.Count("inbound_disconnected") == 1, "the echo node's stop events");
                Assert.IsFalse(echo.IsRunning);
            }
        }
    }
}
