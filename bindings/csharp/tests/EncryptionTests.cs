using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    /// <summary>The native protocol through the binding (issue 19): encrypted links, modes, identities, trust.</summary>
    [TestFixture]
    public class EncryptionTests
    {
        private static P2PException Fails(ErrorCode code, TestDelegate call)
        {
            var e = Assert.Throws<P2PException>(call);
            Assert.AreEqual(code, e.Code, e.Message);
            return e;
        }

        [Test]
        public void TwoNodesTalkEncryptedAndSeeEachOthersKey()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started("node-a"), b = nodes.Started("node-b");
                Assert.AreEqual(Encryption.Preferred, a.Encryption, "the default");
                Assert.AreEqual(32, a.PublicIdentityKey.Length);
                CollectionAssert.AreNotEqual(a.PublicIdentityKey, b.PublicIdentityKey);

                Peer toB = a.Connect("127.0.0.1", b.Port);
                Assert.IsTrue(toB.Encrypted);
                CollectionAssert.AreEqual(b.PublicIdentityKey, toB.PeerKey);
                b.WaitCount("inbound_connected", 1);
                Peer fromA = b.Of("inbound_connected")[0].Peer;
                Assert.IsTrue(fromA.Encrypted, "the connected event's peer has the facts too");
                CollectionAssert.AreEqual(a.PublicIdentityKey, fromA.PeerKey);
                Assert.IsTrue(b.AllPeers.Single().Encrypted);

                toB.Send("secret");
                b.WaitCount("message", 1);
                Assert.AreEqual("secret", b.Messages[0].Text);
                CollectionAssert.AreEqual(b.PublicIdentityKey, a.PinnedPeerKey("node-b"), "pinned on first use");
                CollectionAssert.AreEqual(a.PublicIdentityKey, b.PinnedPeerKey("node-a"));
                Assert.IsNull(a.PinnedPeerKey("nobody"));
            }
        }

        [Test]
        public void EncryptionOffIsPlaintext()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started("plain-a", Encryption.Off), b = nodes.Started("plain-b");
                Assert.AreEqual(Encryption.Off, a.Encryption);
                Peer toB = a.Connect("127.0.0.1", b.Port);
                Assert.IsFalse(toB.Encrypted);
                Assert.IsNull(toB.PeerKey);
                b.WaitCount("inbound_connected", 1);
                Assert.IsFalse(b.Of("inbound_connected")[0].Peer.Encrypted);
                toB.Send("in the clear");
                b.WaitCount("message", 1);
                Assert.AreEqual("in the clear", b.Messages[0].Text);
            }
        }

        [Test]
        public void RequiredAndOffRefuseEachOther()
        {
            using (var nodes = new Nodes())
            {
                Recorder required = nodes.Started("required", Encryption.Required), off = nodes.Started("off", Encryption.Off);
                Fails(ErrorCode.Refused, () => required.Connect("127.0.0.1", off.Port));
                // An off dialer behaves as p2pnetwork: it may see the connection before the reset.
                try { off.Connect("127.0.0.1", required.Port); }
                catch (P2PException) { }
                Wait.Until(() => off.AllPeers.Count == 0 && required.AllPeers.Count == 0, "no link either way");
                Assert.AreEqual(0, required.Count("inbound_connected"));

                Recorder preferred = nodes.Started("preferred");
                Assert.IsTrue(preferred.Connect("127.0.0.1", required.Port).Encrypted, "the required node goes on serving");
            }
        }

        [Test]
        public void AWrongKeyForAPinnedIdIsRefused()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started("a"), bee = nodes.Started("bee"), other = nodes.Started("other");
                a.PinPeer("bee", other.PublicIdentityKey);
                var e = Fails(ErrorCode.Refused, () => a.Connect("127.0.0.1", bee.Port));
                StringAssert.Contains("key", e.Message);
                Assert.AreEqual(0, a.AllPeers.Count);

                // Pinned on first use: an impostor claiming bee's id with its own key is refused.
                Recorder c = nodes.Started("c");
                c.Connect("127.0.0.1", bee.Port);
                Recorder impostor = nodes.Started("bee");
                Fails(ErrorCode.Refused, () => c.Connect("127.0.0.1", impostor.Port));
                Recorder plainBee = nodes.Started("bee", Encryption.Off);
                Fails(ErrorCode.Refused, () => c.Connect("127.0.0.1", plainBee.Port));
                Fails(ErrorCode.InvalidArgument, () => a.PinPeer("x", new byte[31]));
            }
        }

        [Test]
        public void TheAllowListAdmitsOnlyTheKeysItNames()
        {
            using (var nodes = new Nodes())
            {
                Recorder b = nodes.Started("b"), c = nodes.Started("c");
                var a = nodes.Add(new Recorder("a"));
                a.AllowPeer(b.PublicIdentityKey);
                a.Start();
                Assert.IsTrue(a.Connect("127.0.0.1", b.Port).Encrypted);
                Fails(ErrorCode.Refused, () => a.Connect("127.0.0.1", c.Port));
                a.AllowPeer(c.PublicIdentityKey, "c");
                a.Connect("127.0.0.1", c.Port);
                Fails(ErrorCode.InvalidArgument, () => a.AllowPeer(new byte[3]));
            }
        }

        [Test]
        public void AnIdentitySavedAndLoadedIsTheSameKey()
        {
            string dir = Path.Combine(Path.GetTempPath(), "p2pnode-cs-identity-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                string path = Path.Combine(dir, "node.key");
                using (var nodes = new Nodes())
                {
                    var first = nodes.Add(new Node("127.0.0.1", 0, "first"));
                    first.SaveIdentity(path);
                    Assert.AreEqual("600", Run("stat", "-c", "%a", path), "the key file is the owner's only");
                    StringAssert.StartsWith("-----BEGIN PRIVATE KEY-----", System.Text.Encoding.ASCII.GetString(first.Identity));

                    var again = nodes.Add(new Recorder("again"));
                    again.LoadIdentity(path);
                    CollectionAssert.AreEqual(first.PublicIdentityKey, again.PublicIdentityKey);
                    var copy = nodes.Add(new Node("127.0.0.1", 0, "copy"));
                    copy.Identity = first.Identity;
                    CollectionAssert.AreEqual(first.PublicIdentityKey, copy.PublicIdentityKey);

                    again.Start();
                    Recorder peer = nodes.Started("peer");
                    CollectionAssert.AreEqual(first.PublicIdentityKey, peer.Connect("127.0.0.1", again.Port).PeerKey, "the loaded key is the one on the wire");
                    Assert.Throws<P2PException>(() => again.LoadIdentity(path), "not once started");

                    File.WriteAllText(Path.Combine(dir, "bad.key"), "not a key");
                    Assert.Throws<P2PException>(() => copy.LoadIdentity(Path.Combine(dir, "bad.key")));
                    Assert.Throws<P2PException>(() => copy.LoadIdentity(Path.Combine(dir, "missing.key")));
                    Assert.Throws<P2PException>(() => copy.Identity = System.Text.Encoding.ASCII.GetBytes("not a key"));
                }
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Test]
        public void TheModeAndHeartbeatAreSetBeforeStart()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new Node("127.0.0.1", 0));
                a.Encryption = Encryption.Required;
                a.SetLimit(Limit.HeartbeatIntervalMs, 200);
                Assert.AreEqual(Encryption.Required, a.Encryption);
                Assert.AreEqual(200, a.GetLimit(Limit.HeartbeatIntervalMs));
                a.Start();
                Fails(ErrorCode.InvalidState, () => a.Encryption = Encryption.Off);
                var b = nodes.Add(new Node("127.0.0.1", 0));
                Fails(ErrorCode.InvalidArgument, () => b.Encryption = (Encryption)7);
            }
        }

        private static string Run(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file, string.Join(" ", args.Select(a => "\"" + a + "\""))) { UseShellExecute = false, RedirectStandardOutput = true };
            using (var p = Process.Start(psi))
            {
                string output = p.StandardOutput.ReadToEnd().Trim();
                p.WaitForExit();
                return output;
            }
        }
    }
}
