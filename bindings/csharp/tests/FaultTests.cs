using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    /// <summary>Issue 16 at the C# surface: the new limits, the overflow policies and the counters that add up.</summary>
    [TestFixture]
    public class FaultTests
    {
        [Test]
        public void NewLimitsHaveDefaultsAndTakeValues()
        {
            using (var n = new Node("127.0.0.1", 0))
            {
                Assert.AreEqual((long)OverflowPolicy.Wait, n.GetLimit(Limit.OverflowPolicy));
                Assert.AreEqual(10000L, n.GetLimit(Limit.StopTimeoutMs));
                Assert.AreEqual(256L << 20, n.GetLimit(Limit.MaxQueuedBytesTotal));
                Assert.AreEqual(128L << 20, n.GetLimit(Limit.MaxPendingBytesPerAddress));
                Assert.AreEqual(10000L, n.GetLimit(Limit.IdleEvictionMs));
                Assert.AreEqual(256L, n.GetLimit(Limit.MaxPendingHandshakes));
                foreach (Limit l in new[] { Limit.MaxQueuedBytesTotal, Limit.MaxQueuedBytesPerAddress, Limit.StopTimeoutMs,
                                            Limit.MaxPendingHandshakes, Limit.MaxPendingHandshakesPerAddress,
                                            Limit.IdleEvictionMs, Limit.MaxPendingBytes, Limit.MaxPendingBytesPerAddress })
                {
                    n.SetLimit(l, 4321);
                    Assert.AreEqual(4321L, n.GetLimit(l), l.ToString());
                }
                n.SetLimit(Limit.OverflowPolicy, (long)OverflowPolicy.DropOldest);
                Assert.AreEqual((long)OverflowPolicy.DropOldest, n.GetLimit(Limit.OverflowPolicy));
                var e = Assert.Throws<P2PException>(() => n.SetLimit(Limit.OverflowPolicy, 4));
                Assert.AreEqual(ErrorCode.InvalidArgument, e.Code);
                e = Assert.Throws<P2PException>(() => n.SetLimit(Limit.HandshakeTimeoutMs, 18446744073710L));
                Assert.AreEqual(ErrorCode.InvalidArgument, e.Code, "beyond what a duration holds");
            }
        }

        [Test]
        public void CountersAddUp()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started("a");
                Recorder b = nodes.Started("b");
                Peer toB = a.Connect("127.0.0.1", b.Port);
                for (int i = 0; i < 10; i++)
                {
                    toB.Send("m" + i);
                }
                b.WaitCount("message", 10);
                Wait.Until(() => a.Counters.Queued == 0 && a.Counters.Written == 10, "a's queue written");
                NodeCounters c = a.Counters;
                Assert.AreEqual(10UL, c.Accepted);
                Assert.AreEqual(10UL, c.Sent);
                Assert.AreEqual(20UL + 10UL, c.WrittenBytes, "m0..m9 and their EOTs");
                Assert.AreEqual(c.AcceptedBytes, c.WrittenBytes);
                Assert.AreEqual(0UL, c.DroppedOverflow + c.DroppedLinkLost + c.DroppedStop + c.Refused);
                Assert.AreEqual(10UL, a.CountersOf(toB).Written);
                Wait.Until(() => b.Counters.Received == 10, "b's counter");
                Assert.AreEqual(30UL, b.Counters.ReceivedBytes);
            }
        }

        [Test]
        public void OverflowDisconnectReportsWhatWasDropped()
        {
            using (var nodes = new Nodes())
            using (var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                var a = nodes.Add(new Recorder("a"));
                a.SetLimit(Limit.MaxQueuedBytes, 64 << 10);
                a.SetLimit(Limit.OverflowPolicy, (long)OverflowPolicy.Disconnect);
                a.SetLimit(Limit.SendTimeoutMs, 600000);
                a.Start();
                // A peer that says its id and then never reads.
                raw.ReceiveBufferSize = 4096;
                raw.Connect(new IPEndPoint(IPAddress.Loopback, a.Port));
                raw.Send(System.Text.Encoding.ASCII.GetBytes("raw-sink:4321"));
                var id = new byte[256];
                Assert.Greater(raw.Receive(id), 0, "the node's id");
                a.WaitCount("inbound_connected", 1);
                Peer sink = a.Of("inbound_connected")[0].Peer;
                var payload = new byte[16 << 10];
                // Fill the socket's buffers first, never over the queue (the
                // first overflow disconnects): then the queue cannot drain and
                // the overflow has something to drop.
                int still = 0;
                DateTime end = DateTime.UtcNow.AddSeconds(Wait.Seconds);
                while (still < 50 && DateTime.UtcNow < end)
                {
                    NodeCounters c0 = a.CountersOf(sink);
                    if (c0.QueuedBytes + (ulong)payload.Length + 1 <= 64 << 10)
                    {
                        sink.Send(payload);
                        still = 0;
                        continue;
                    }
                    Thread.Sleep(2);
                    NodeCounters c1 = a.CountersOf(sink);
                    still = c1.Written == c0.Written && c1.Queued > 0 ? still + 1 : 0;
                }
                Assert.AreEqual(50, still, "the socket's buffers never filled");
                end = DateTime.UtcNow.AddSeconds(Wait.Seconds);
                P2PException full = null;
                while (full == null && DateTime.UtcNow < end)
                {
                    try
                    {
                        sink.Send(payload);
                    }
                    catch (P2PException e)
                    {
                        full = e;
                    }
                }
                Assert.IsNotNull(full, "the queue never filled");
                Assert.AreEqual(ErrorCode.QueueFull, full.Code);
                a.WaitCount("inbound_disconnected", 1);
                Peer gone = a.Of("inbound_disconnected")[0].Peer;
                NodeCounters c = a.Counters;
                Assert.Greater(gone.Dropped, 0UL, "the event's dropped; node: " + c + ", overflow " + c.DroppedOverflow + ", link lost " + c.DroppedLinkLost);
                Assert.AreEqual(c.DroppedOverflow + c.DroppedLinkLost, gone.Dropped);
                Assert.AreEqual(c.DroppedBytes, gone.DroppedBytes);
                Assert.AreEqual(c.Accepted, c.Written + c.DroppedOverflow + c.DroppedLinkLost + c.DroppedStop + c.Queued);
            }
        }
    }
}
