using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    [TestFixture]
    public class LifetimeTests
    {
        [Test]
        public void DisposingALiveNodeDisconnectsItsPeers()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started();
                Recorder b = nodes.Started();
                Recorder c = nodes.Started();
                a.Connect("127.0.0.1", b.Port);
                c.Connect("127.0.0.1", b.Port);
                b.WaitCount("inbound_connected", 2);

                b.Dispose();
                Assert.AreEqual(1, b.Count("request_to_stop"), "Dispose stops first, events delivered");
                Assert.AreEqual(2, b.Count("inbound_disconnected"));
                Assert.IsFalse(b.IsRunning);
                a.WaitCount("outbound_disconnected", 1);
                c.WaitCount("outbound_disconnected", 1);
                b.Dispose();
            }
        }

        [Test]
        public void DisposingFromItsOwnHandler()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started();
                Recorder b = nodes.Started();
                b.OnEachMessage = (peer, m) => b.Dispose();
                a.Connect("127.0.0.1", b.Port).Send("dispose yourself");
                a.WaitCount("outbound_disconnected", 1);
                Assert.Throws<ObjectDisposedException>(() => { var unused = b.AllPeers; });
            }
        }

        [Test]
        public void AbandonedNodesAreFinalized()
        {
            int before;
            using (var probe = new Node("127.0.0.1", 0))
            {
                before = probe.Port;
            }
            MakeGarbage();
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            // The finalized nodes freed their ports: one of them can be bound again.
            int freed = freedPorts.First();
            using (var again = new Node("127.0.0.1", freed))
            {
                Assert.AreEqual(freed, again.Port);
            }
            Assert.Greater(before, 0);
        }

        private readonly List<int> freedPorts = new List<int>();

        private void MakeGarbage()
        {
            for (int i = 0; i < 5; i++)
            {
                var n = new Node("127.0.0.1", 0);
                freedPorts.Add(n.Port);
            }
            var stopped = new Node("127.0.0.1", 0);
            stopped.MessageReceived += (s, e) => { };
            stopped.Start();
            stopped.Stop();
        }

        [Test]
        public void TenNodesInARing()
        {
            const int n = 10;
            using (var nodes = new Nodes())
            {
                var ring = Enumerable.Range(0, n).Select(i => nodes.Started("ring-" + i)).ToList();
                for (int i = 0; i < n; i++)
                {
                    ring[i].Connect("127.0.0.1", ring[(i + 1) % n].Port);
                }
                foreach (var r in ring)
                {
                    r.WaitCount("inbound_connected", 1);
                    Assert.AreEqual(2, r.AllPeers.Count);
                }
                for (int round = 0; round < 20; round++)
                {
                    foreach (var r in ring)
                    {
                        r.Broadcast("round " + round + " from " + r.Id);
                    }
                    GC.Collect(); // delegates and nodes must survive collections
                }
                for (int i = 0; i < n; i++)
                {
                    ring[i].WaitCount("message", 40);
                    var senders = ring[i].Of("message").Select(e => e.Peer.Id).Distinct().OrderBy(s => s).ToArray();
                    var expected = new[] { "ring-" + ((i + n - 1) % n), "ring-" + ((i + 1) % n) }.OrderBy(s => s).ToArray();
                    Assert.AreEqual(expected, senders);
                }
            }
        }

        [Test]
        public void HandlerExceptionsAreReportedAndSurvived()
        {
            var errors = new StringWriter();
            TextWriter saved = Console.Error;
            Console.SetError(TextWriter.Synchronized(errors));
            try
            {
                using (var nodes = new Nodes())
                {
                    Recorder a = nodes.Add(new Recorder());
                    a.SetLimit(Limit.ReconnectIntervalMs, 20);
                    a.Start();
                    Recorder b = nodes.Started();
                    int subscriberCalls = 0;
                    b.MessageReceived += (s, e) => { throw new InvalidOperationException("subscriber boom"); };
                    b.MessageReceived += (s, e) => Interlocked.Increment(ref subscriberCalls);
                    b.OnEachMessage = (peer, m) => { throw new InvalidOperationException("override boom " + m.Text); };
                    Peer peer0 = a.Connect("127.0.0.1", b.Port, true);
                    peer0.Send("one");
                    peer0.Send("two");
                    b.WaitCount("message", 2);
                    Wait.Until(() => Volatile.Read(ref subscriberCalls) == 2, "the second subscriber, after the first threw");
                    Wait.Until(() => errors.ToString().Contains("override boom two"), "the report of the second exception");
                    StringAssert.Contains("subscriber boom", errors.ToString());

                    // A reconnection question whose answer throws is answered true.
                    a.Answer = (host, port, trials) => { throw new InvalidOperationException("answer boom"); };
                    int stopCalls = 0;
                    b.RequestToStop += (s, e) => { throw new InvalidOperationException("stop boom"); };
                    b.RequestToStop += (s, e) => Interlocked.Increment(ref stopCalls);
                    b.Dispose();
                    Wait.Until(() => Volatile.Read(ref stopCalls) == 1, "the second RequestToStop subscriber, after the first threw");
                    StringAssert.Contains("stop boom", errors.ToString());
                    a.WaitCount("reconnection_error", 2);
                    StringAssert.Contains("answer boom", errors.ToString());
                    a.Answer = (host, port, trials) => false;
                }
            }
            finally
            {
                Console.SetError(saved);
            }
        }
    }
}
