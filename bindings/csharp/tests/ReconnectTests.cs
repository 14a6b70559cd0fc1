using System;
using System.Linq;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    [TestFixture]
    public class ReconnectTests
    {
        private static Recorder Fast(Nodes nodes)
        {
            var r = nodes.Add(new Recorder());
            r.SetLimit(Limit.ReconnectIntervalMs, 20);
            r.SetLimit(Limit.DialTimeoutMs, 2000);
            r.Start();
            return r;
        }

        [Test]
        public void FalseGivesUp()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = Fast(nodes);
                var b = nodes.Add(new Recorder());
                b.Start();
                var c = nodes.Add(new Recorder());
                c.Start();
                int bPort = b.Port, cPort = c.Port;
                // b: give up at once. c: keep trying until its third trial; its questions
                // are the clock that shows b is not asked about again.
                a.Answer = (host, port, trials) => port != bPort && trials < 3;
                a.Connect("127.0.0.1", bPort, true);
                a.Connect("127.0.0.1", cPort, true);
                b.Dispose();
                c.Dispose();
                Wait.Until(() => a.Of("reconnection_error").Any(e => e.Port == cPort && e.Trials >= 3), "three questions about c");
                var aboutB = a.Of("reconnection_error").Where(e => e.Port == bPort).ToList();
                Assert.AreEqual(1, aboutB.Count, "after false, b is forgotten");
                Assert.AreEqual("127.0.0.1", aboutB[0].Host);
                Assert.AreEqual(1, aboutB[0].Trials);
                var trialsC = a.Of("reconnection_error").Where(e => e.Port == cPort).Select(e => e.Trials).ToArray();
                Assert.AreEqual(new[] { 1, 2, 3 }, trialsC, "trials are counted from 1");
                Wait.Until(() => a.OutboundPeers.Count == 0, "no outbound peers");
            }
        }

        [Test]
        public void TrueReconnectsOnceThePeerIsBack()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = Fast(nodes);
                var b = nodes.Add(new Recorder("node-b"));
                b.Start();
                int port = b.Port;
                a.Connect("127.0.0.1", port, true);
                b.Dispose();
                a.WaitCount("reconnection_error", 2);

                // The same port: the first b's listener is closed.
                Recorder back = nodes.Add(new Recorder("node-b again", port));
                back.Start();
                a.WaitCount("outbound_connected", 2);
                back.WaitCount("inbound_connected", 1);
                Assert.AreEqual("node-b again", a.Of("outbound_connected")[1].Peer.Id);
                var trials = a.Of("reconnection_error").Select(e => e.Trials).ToList();
                for (int i = 0; i < trials.Count; i++)
                {
                    Assert.AreEqual(i + 1, trials[i], "trials count up from 1");
                }
                Assert.AreEqual("node-b again", a.OutboundPeers.Single().Id);
            }
        }
    }
}
