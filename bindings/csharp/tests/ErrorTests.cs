using System;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    [TestFixture]
    public class ErrorTests
    {
        private static P2PException Fails(ErrorCode code, TestDelegate call)
        {
            var e = Assert.Throws<P2PException>(call);
            Assert.AreEqual(code, e.Code, e.Message);
            Assert.AreEqual((int)code, e.NativeCode);
            Assert.IsNotEmpty(e.Message);
            return e;
        }

        /// <summary>A port that nothing listens on (a node's, after it is freed).</summary>
        private static int ClosedPort()
        {
            using (var n = new Node("127.0.0.1", 0))
            {
                return n.Port;
            }
        }

        [Test]
        public void ConnectBeforeStartIsInvalidState()
        {
            using (var a = new Node("127.0.0.1", 0))
            using (var b = new Node("127.0.0.1", 0))
            {
                Fails(ErrorCode.InvalidState, () => a.Connect("127.0.0.1", b.Port));
            }
        }

        [Test]
        public void StartTwiceIsInvalidState()
        {
            using (var a = new Node("127.0.0.1", 0))
            {
                a.Start();
                Fails(ErrorCode.InvalidState, a.Start);
                Assert.IsTrue(a.IsRunning, "a failed second start leaves the node running");
            }
        }

        [Test]
        public void ConnectWithSelfIsSelf()
        {
            using (var a = new Node("127.0.0.1", 0))
            {
                a.Start();
                Fails(ErrorCode.Self, () => a.Connect("127.0.0.1", a.Port));
            }
        }

        [Test]
        public void ConnectTwiceIsAlreadyConnected()
        {
            using (var a = new Node("127.0.0.1", 0))
            using (var b = new Node("127.0.0.1", 0))
            {
                a.Start();
                b.Start();
                a.Connect("127.0.0.1", b.Port);
                Fails(ErrorCode.AlreadyConnected, () => a.Connect("127.0.0.1", b.Port));
            }
        }

        [Test]
        public void ConnectToNobodyIsConnectFailed()
        {
            int port = ClosedPort();
            using (var a = new Node("127.0.0.1", 0))
            {
                a.Start();
                Fails(ErrorCode.ConnectFailed, () => a.Connect("127.0.0.1", port));
            }
        }

        [Test]
        public void BadPortIsInvalidArgument()
        {
            using (var a = new Node("127.0.0.1", 0))
            {
                a.Start();
                Fails(ErrorCode.InvalidArgument, () => a.Connect("127.0.0.1", 70000));
            }
            Fails(ErrorCode.InvalidArgument, () => new Node("127.0.0.1", -1));
        }

        [Test]
        public void PortInUseIsBind()
        {
            using (var a = new Node("127.0.0.1", 0))
            {
                Fails(ErrorCode.Bind, () => new Node("127.0.0.1", a.Port));
            }
        }

        [Test]
        public void SendToAGonePeerIsNoPeer()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started();
                Recorder b = nodes.Started();
                Peer peer = a.Connect("127.0.0.1", b.Port);
                a.Disconnect(peer);
                a.WaitCount("outbound_disconnected", 1);
                Fails(ErrorCode.NoPeer, () => a.Send(peer, "late"));
                Fails(ErrorCode.NoPeer, () => a.Disconnect(peer));
            }
        }

        [Test]
        public void OverTheFrameLimitIsTooBig()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Add(new Recorder());
                a.SetLimit(Limit.MaxFrameSize, 1024);
                a.Start();
                Recorder b = nodes.Started();
                Peer peer = a.Connect("127.0.0.1", b.Port);
                Fails(ErrorCode.TooBig, () => a.Send(peer, new byte[4096]));
                Fails(ErrorCode.TooBig, () => a.Broadcast(new byte[4096]));
            }
        }

        [Test]
        public void LimitsAreChecked()
        {
            using (var a = new Node("127.0.0.1", 0))
            {
                Fails(ErrorCode.InvalidArgument, () => a.SetLimit(Limit.SendTimeoutMs, -1));
                Fails(ErrorCode.InvalidArgument, () => a.SetLimit((Limit)99, 1));
                a.Start();
                Fails(ErrorCode.InvalidState, () => a.SetLimit(Limit.DialTimeoutMs, 100));
                a.MaxConnections = 2;
            }
        }

        [Test]
        public void AfterStopIsStopped()
        {
            using (var a = new Node("127.0.0.1", 0))
            using (var b = new Node("127.0.0.1", 0))
            {
                b.Start();
                a.Start();
                a.Stop();
                a.Stop();
                Fails(ErrorCode.Stopped, () => a.Connect("127.0.0.1", b.Port));
                Fails(ErrorCode.Stopped, a.Start);
            }
        }

        [Test]
        public void ManagedArgumentsAreChecked()
        {
            using (var a = new Node("127.0.0.1", 0))
            using (var b = new Node("127.0.0.1", 0))
            {
                a.Start();
                b.Start();
                Peer peer = a.Connect("127.0.0.1", b.Port);
                Assert.Throws<ArgumentNullException>(() => a.Connect(null, 1));
                Assert.Throws<ArgumentNullException>(() => a.Send(peer, (byte[])null));
                Assert.Throws<ArgumentNullException>(() => a.Send(null, "x"));
                Assert.Throws<ArgumentException>(() => b.Send(peer, "a's peer, not b's"));
            }
        }

        [Test]
        public void DisposedNodeThrowsObjectDisposed()
        {
            var a = new Node("127.0.0.1", 0);
            a.Dispose();
            a.Dispose();
            Assert.Throws<ObjectDisposedException>(a.Start);
            Assert.Throws<ObjectDisposedException>(() => a.Connect("127.0.0.1", 1));
            Assert.Throws<ObjectDisposedException>(() => { var unused = a.Counters; });
            Assert.Greater(a.Port, 0, "facts stay readable");
        }
    }
}
