using System;
using System.Reflection;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    /// <summary>
    /// A few 2048-bit keys, generated once per test run (generation is slow) and saved
    /// as plain PEM files in a temporary directory, which is removed at exit.
    /// </summary>
    internal static class TestKeys
    {
        private const int Count = 3;
        private static readonly object Sync = new object();
        private static string dir;

        /// <summary>The directory the key files are in (made on first use).</summary>
        internal static string Dir
        {
            get
            {
                lock (Sync)
                {
                    if (dir == null)
                    {
                        string d = Path.Combine(Path.GetTempPath(), "p2pnode-cs-keys-" + Guid.NewGuid().ToString("N"));
                        Directory.CreateDirectory(d);
                        for (int i = 0; i < Count; i++)
                        {
                            using (var n = new SecureNode("127.0.0.1", 0))
                            {
                                n.KeyPairGenerate(2048);
                                n.KeyPairSave(Path.Combine(d, "key" + i + ".pem"));
                            }
                        }
                        dir = d;
                    }
                    return dir;
                }
            }
        }

        /// <summary>Removes the key directory (after the last test: <see cref="TestRun"/>).</summary>
        internal static void Cleanup()
        {
            lock (Sync)
            {
                if (dir != null)
                {
                    try
                    {
                        Directory.Delete(dir, true);
                    }
                    catch (Exception)
                    {
                        // Left in the temporary directory.
                    }
                    dir = null;
                }
            }
        }

        /// <summary>The plain PEM file of key i (0, 1 or 2).</summary>
        internal static string File(int i)
        {
            return Path.Combine(Dir, "key" + (i % Count) + ".pem");
        }

        /// <summary>A path for a new file in the key directory.</summary>
        internal static string NewPath(string name)
        {
            return Path.Combine(Dir, Guid.NewGuid().ToString("N") + "-" + name);
        }
    }

    /// <summary>Once around all the tests of the namespace: removes the test keys at the end.</summary>
    [SetUpFixture]
    public class TestRun
    {
        [TearDown]
        public void RemoveTestKeys()
        {
            TestKeys.Cleanup();
        }
    }

    /// <summary>One secure event as a SecureRecorder saw it.</summary>
    internal sealed class SecureSeen
    {
        public string Type;
        public Peer Peer;
        public SecureMessage Secure;
        public Message Raw;
        public Reject Reject;
        public string Reason;
        public DiscoveryAnswer Answer;

        public override string ToString()
        {
            return Type + " " + Peer + " " + (Secure != null ? Secure.ToString() : string.Empty)
                + (Raw != null ? Reject + " " + Reason : string.Empty) + (Answer != null ? Answer.ToString() : string.Empty);
        }
    }

    /// <summary>A secure node of the subclass style that records what it receives.</summary>
    internal class SecureRecorder : SecureNode
    {
        private readonly List<SecureSeen> seen = new List<SecureSeen>();

        public SecureRecorder(SecureConfig config = null)
            : base("127.0.0.1", 0, null, 0, config)
        {
        }

        public List<SecureSeen> Events
        {
            get
            {
                lock (seen)
                {
                    return seen.ToList();
                }
            }
        }

        public List<SecureSeen> Of(string type)
        {
            return Events.Where(e => e.Type == type).ToList();
        }

        public List<SecureSeen> Secure
        {
            get { return Of("secure"); }
        }

        public List<SecureSeen> Rejected
        {
            get { return Of("rejected"); }
        }

        public List<SecureSeen> Answers
        {
            get { return Of("answer"); }
        }

        public int PlainMessages { get; private set; }

        public string Saw
        {
            get { return string.Join("; ", Events); }
        }

        /// <summary>Waits for n events of a type.</summary>
        public void WaitCount(string type, int n)
        {
            Wait.Until(() => Of(type).Count >= n, n + " " + type + " event(s); saw: " + Saw);
        }

        /// <summary>Loads test key i and starts.</summary>
        public SecureRecorder StartWithKey(int i)
        {
            KeyPairLoad(TestKeys.File(i));
            Start();
            return this;
        }

        private void Add(SecureSeen s)
        {
            lock (seen)
            {
                seen.Add(s);
            }
        }

        protected override void OnSecureMessage(Peer peer, SecureMessage message)
        {
            Add(new SecureSeen { Type = "secure", Peer = peer, Secure = message });
            base.OnSecureMessage(peer, message);
        }

        protected override void OnMessageRejected(Peer peer, Message raw, Reject reject, string reason)
        {
            Add(new SecureSeen { Type = "rejected", Peer = peer, Raw = raw, Reject = reject, Reason = reason });
            base.OnMessageRejected(peer, raw, reject, reason);
        }

        protected override void OnDiscoveryAnswer(Peer peer, DiscoveryAnswer answer)
        {
            Add(new SecureSeen { Type = "answer", Peer = peer, Answer = answer });
            base.OnDiscoveryAnswer(peer, answer);
        }

        protected override void OnMessage(Peer peer, Message message)
        {
            PlainMessages++;
            base.OnMessage(peer, message);
        }
    }

    [TestFixture]
    public class SecureTests
    {
        // Sorted keys, Python's separators and escapes: how the message travels, exactly.
        private const string Value = "{\"pi\": 3.14159, \"one\": 1.0, \"name\": \"\u00e9\u6f22\ud83d\ude00\", \"big\": 123456789012345678901234567890, \"list\": [1e5, -0.0, null, true]}";
        private const string Canonical = "{\"big\": 123456789012345678901234567890, \"list\": [100000.0, -0.0, null, true], \"name\": \"\\u00e9\\u6f22\\ud83d\\ude00\", \"one\": 1.0, \"pi\": 3.14159}";

        [TestFixtureSetUp]
        public void MakeKeys()
        {
            Assert.IsNotNull(TestKeys.Dir);
        }

        [Test]
        public void StartWithoutKeyThrowsTheKeyError()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder());
                Assert.IsNull(a.PublicKey, "no key yet");
                var e = Assert.Throws<P2PException>(() => a.Start());
                Assert.AreEqual(ErrorCode.Key, e.Code);
                Assert.AreEqual(-16, e.NativeCode);
                Assert.IsFalse(a.IsRunning);
                Assert.AreEqual(ErrorCode.Key, Assert.Throws<P2PException>(() => a.CreateMessage("{}")).Code);
                Assert.AreEqual(ErrorCode.Key, Assert.Throws<P2PException>(() => a.KeyPairSave(TestKeys.NewPath("none.pem"))).Code);

                // With a key the same node starts.
                a.KeyPairLoad(TestKeys.File(0));
                StringAssert.StartsWith("-----BEGIN PUBLIC KEY-----", a.PublicKey);
                a.Start();
                Assert.IsTrue(a.IsRunning);
            }
        }

        [Test]
        public void SecureMessagesBothWays()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder()).StartWithKey(0);
                var b = nodes.Add(new SecureRecorder()).StartWithKey(1);
                // b is also watched through the .NET events.
                var viaEvents = new List<SecureMessageEventArgs>();
                b.SecureMessageReceived += (s, e) =>
                {
                    lock (viaEvents)
                    {
                        viaEvents.Add(e);
                    }
                };
                Peer ab = a.Connect("127.0.0.1", b.Port);
                Wait.Until(() => b.AllPeers.Count == 1, "b sees a");
                Peer ba = b.AllPeers[0];

                a.SendMessage(Value);
                b.Send(ba, "{\"_type\": \"note\", \"text\": \"caf\u00e9\", \"n\": 2.50}");
                b.WaitCount("secure", 1);
                a.WaitCount("secure", 1);

                SecureMessage atB = b.Secure[0].Secure;
                Assert.AreEqual(a.Id, atB.SenderId);
                Assert.AreEqual("message", atB.Type);
                Assert.AreEqual(a.Id, b.Secure[0].Peer.Id);
                StringAssert.Contains("\"message\": " + Canonical + "}", atB.Json);
                StringAssert.Contains("\"_id\": \"" + a.Id + "\"", atB.Json);
                Match name = Regex.Match(atB.Json, "\"name\": \"([^\"]*)\"");
                Assert.AreEqual("\u00e9\u6f22\ud83d\ude00", Regex.Unescape(name.Groups[1].Value), "unicode survives");
                Assert.IsTrue(SecureNode.CheckMessage(atB.Json), "what arrives verifies");
                lock (viaEvents)
                {
                    Assert.AreEqual(1, viaEvents.Count);
                    Assert.AreSame(atB, viaEvents[0].Message);
                }

                SecureMessage atA = a.Secure[0].Secure;
                Assert.AreEqual(b.Id, atA.SenderId);
                Assert.AreEqual("note", atA.Type);
                StringAssert.Contains("\"n\": 2.5", atA.Json);
                StringAssert.Contains("\"text\": \"caf\\u00e9\"", atA.Json);

                // Signed once for all peers but those excluded.
                a.SendToNodes("{\"_type\": \"all\", \"k\": 1}");
                a.SendToNodes("{\"_type\": \"none\"}", ab);
                a.SendMessage("\"last\"");
                Wait.Until(() => b.Secure.Any(e => e.Secure.Json.EndsWith("\"message\": \"last\"}")), "the last message; saw: " + b.Saw);
                Assert.AreEqual(new[] { "message", "all", "message" }, b.Secure.Select(e => e.Secure.Type).ToArray());
                Assert.AreEqual(0, a.PlainMessages + b.PlainMessages, "a secure node never raises OnMessage");
                Assert.AreEqual(0, a.Rejected.Count + b.Rejected.Count, "nothing rejected: " + a.Saw + " / " + b.Saw);

                var bad = Assert.Throws<P2PException>(() => a.SendMessage("{not json"));
                Assert.AreEqual(ErrorCode.InvalidArgument, bad.Code);
                Assert.AreEqual(ErrorCode.InvalidArgument, Assert.Throws<P2PException>(() => a.Send(ab, "[1, 2]")).Code, "Send needs an object");
            }
        }

        [Test]
        public void RawUnsignedBytesAreRejectedAsMalformed()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder()).StartWithKey(0);
                var b = nodes.Add(new SecureRecorder()).StartWithKey(1);
                var viaEvents = new List<MessageRejectedEventArgs>();
                b.MessageRejected += (s, e) =>
                {
                    lock (viaEvents)
                    {
                        viaEvents.Add(e);
                    }
                };
                Peer ab = a.Connect("127.0.0.1", b.Port);
                var bytes = new byte[] { 0xff, 0x00, 0x01, 0x04 };
                a.Send(ab, bytes);
                ab.Send("{\"plain\": \"json, unsigned\"}");
                b.WaitCount("rejected", 2);

                SecureSeen first = b.Rejected[0];
                Assert.AreEqual(Reject.Malformed, first.Reject);
                Assert.AreEqual(bytes, first.Raw.Data);
                Assert.AreEqual(MessageKind.Bytes, first.Raw.Kind);
                Assert.IsNotEmpty(first.Reason);
                Assert.AreEqual(a.Id, first.Peer.Id);
                Assert.AreEqual(Reject.Malformed, b.Rejected[1].Reject);
                Assert.AreEqual("{\"plain\": \"json, unsigned\"}", b.Rejected[1].Raw.Text);
                lock (viaEvents)
                {
                    Assert.AreEqual(2, viaEvents.Count);
                    Assert.AreEqual(Reject.Malformed, viaEvents[0].Reject);
                    Assert.AreSame(first.Raw, viaEvents[0].Raw);
                }

                // The connection stays up.
                a.SendMessage("1");
                b.WaitCount("secure", 1);
                Assert.AreEqual(1, a.AllPeers.Count);
            }
        }

        [Test]
        public void TamperedMessageSentRawIsRejected()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder()).StartWithKey(0);
                var b = nodes.Add(new SecureRecorder()).StartWithKey(1);
                Peer ab = a.Connect("127.0.0.1", b.Port);

                // Signed once, sent raw: accepted, its own _type kept.
                string good = a.CreateMessage("{\"_type\": \"note\", \"amount\": 10}");
                a.Send(ab, Encoding.UTF8.GetBytes(good));
                b.WaitCount("secure", 1);
                Assert.AreEqual("note", b.Secure[0].Secure.Type);
                Assert.AreEqual(good, b.Secure[0].Secure.Json);

                string signed = a.CreateMessage("{\"_type\": \"note\", \"amount\": 10}");
                string tampered = signed.Replace("\"amount\": 10", "\"amount\": 1000");
                Assert.AreNotEqual(signed, tampered);
                a.Send(ab, Encoding.UTF8.GetBytes(tampered));
                b.WaitCount("rejected", 1);
                SecureSeen r = b.Rejected[0];
                CollectionAssert.Contains(new[] { Reject.BadSignature, Reject.BadHash, Reject.BadMessageId }, r.Reject, r.Reason);
                Assert.AreEqual(tampered, r.Raw.Text);
                Assert.AreEqual(1, b.Secure.Count);

                // The same message twice: a replay.
                a.Send(ab, Encoding.UTF8.GetBytes(good));
                b.WaitCount("rejected", 2);
                Assert.AreEqual(Reject.Replay, b.Rejected[1].Reject);
            }
        }

        [Test]
        public void CheckMessageGoodAndTampered()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder());
                a.KeyPairLoad(TestKeys.File(0));
                string signed = a.CreateMessage("{\"x\": [1, 2.0, \"\u00fc\"]}");
                Assert.AreNotEqual(signed, a.CreateMessage("{\"x\": [1, 2.0, \"\u00fc\"]}"), "each call signs anew");

                Reject reject;
                string reason;
                Assert.IsTrue(SecureNode.CheckMessage(signed, out reject, out reason));
                Assert.AreEqual(Reject.None, reject);
                Assert.IsNull(reason);
                Assert.IsTrue(SecureNode.CheckMessage(Encoding.UTF8.GetBytes(signed), out reject, out reason));

                string tampered = signed.Replace("2.0", "3.0");
                Assert.IsFalse(SecureNode.CheckMessage(tampered, out reject, out reason));
                CollectionAssert.Contains(new[] { Reject.BadSignature, Reject.BadHash, Reject.BadMessageId }, reject);
                Assert.IsNotEmpty(reason);

                Assert.IsFalse(SecureNode.CheckMessage("not json", out reject, out reason));
                Assert.AreEqual(Reject.Malformed, reject);
                Assert.IsFalse(SecureNode.CheckMessage("{\"x\": 1}"), "unsigned");
                Assert.IsFalse(SecureNode.CheckMessage(string.Empty));
                Assert.Throws<ArgumentNullException>(() => SecureNode.CheckMessage((string)null));
            }
        }

        [Test]
        public void PingStoresTheLatencyInThePeerInfo()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder()).StartWithKey(0);
                var b = nodes.Add(new SecureRecorder()).StartWithKey(1);
                Peer ab = a.Connect("127.0.0.1", b.Port);
                Assert.IsNull(ab.GetInfo("ping"), "no pong yet");
                a.SendPing();
                Wait.Until(() => ab.GetInfo("ping") != null, "the pong");
                string text = Encoding.UTF8.GetString(ab.GetInfo("ping"));
                double seconds;
                Assert.IsTrue(double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds), "JSON number text: " + text);
                Assert.GreaterOrEqual(seconds, 0.0);
                Assert.AreEqual(0, a.Rejected.Count + b.Rejected.Count + a.Secure.Count + b.Secure.Count, "ping and pong are handled by the nodes: " + a.Saw + " / " + b.Saw);
            }
        }

        [Test]
        public void DiscoveryOnALine()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder()).StartWithKey(0);
                var b = nodes.Add(new SecureRecorder()).StartWithKey(1);
                var c = nodes.Add(new SecureRecorder()).StartWithKey(2);
                a.Connect("127.0.0.1", b.Port);
                b.Connect("127.0.0.1", c.Port);
                Wait.Until(() => b.AllPeers.Count == 2 && c.AllPeers.Count == 1, "the line a-b-c");

                var viaEvents = new List<DiscoveryAnswer>();
                a.DiscoveryAnswerReceived += (s, e) =>
                {
                    lock (viaEvents)
                    {
                        viaEvents.Add(e.Answer);
                    }
                };
                a.SendDiscovery();
                Wait.Until(() => a.Answers.Select(e => e.Answer.SenderId).Distinct().Count() >= 2, "answers from b and c; saw: " + a.Saw);

                DiscoveryAnswer fromB = a.Answers.Select(e => e.Answer).First(x => x.SenderId == b.Id);
                DiscoveryAnswer fromC = a.Answers.Select(e => e.Answer).First(x => x.SenderId == c.Id);
                Assert.IsTrue(a.Answers.All(e => e.Peer.Id == b.Id), "both relayed by b");
                Assert.IsFalse(a.Answers.Any(e => e.Answer.SenderId == a.Id), "no answer from a itself");

                Assert.AreEqual(2, fromB.Nodes.Count, fromB.ToString());
                DiscoveredNode bSeesA = fromB.Nodes.Single(n => n.Id == a.Id);
                DiscoveredNode bSeesC = fromB.Nodes.Single(n => n.Id == c.Id);
                Assert.AreEqual(Direction.Inbound, bSeesA.Direction);
                Assert.AreEqual(a.Port, bSeesA.Port, "inbound peers are listed with their listening port");
                Assert.AreEqual("127.0.0.1", bSeesA.Host);
                Assert.AreEqual(Direction.Outbound, bSeesC.Direction);
                Assert.AreEqual(c.Port, bSeesC.Port);

                Assert.AreEqual(1, fromC.Nodes.Count, fromC.ToString());
                Assert.AreEqual(b.Id, fromC.Nodes[0].Id);
                Assert.AreEqual(b.Port, fromC.Nodes[0].Port);
                Assert.AreEqual(Direction.Inbound, fromC.Nodes[0].Direction);
                Assert.AreEqual(b.Id + "@127.0.0.1:" + b.Port + "/inbound", fromC.Nodes[0].ToString());

                StringAssert.Contains("\"_id\": \"" + c.Id + "\"", fromC.Json);
                Assert.IsNotEmpty(fromC.Type);
                lock (viaEvents)
                {
                    Assert.AreEqual(a.Answers.Count, viaEvents.Count);
                }
                Assert.AreEqual(0, a.Rejected.Count + b.Rejected.Count + c.Rejected.Count, a.Saw + " / " + b.Saw + " / " + c.Saw);
            }
        }

        [TestCase(KeyFormat.P2PNode)]
        [TestCase(KeyFormat.P2PSecure)]
        public void KeySaveLoadRoundTrip(KeyFormat format)
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder());
                a.KeyPairLoad(TestKeys.File(0));
                string path = TestKeys.NewPath(format + ".key");
                a.KeyPairSave(path, "s\u00e9cret", format);
                Assert.IsTrue(File.Exists(path));

                var b = nodes.Add(new SecureRecorder());
                var wrong = Assert.Throws<P2PException>(() => b.KeyPairLoad(path, "wrong"));
                Assert.AreEqual(ErrorCode.Key, wrong.Code);
                Assert.IsNull(b.PublicKey);
                b.KeyPairLoad(path, "s\u00e9cret");
                Assert.AreEqual(a.PublicKey, b.PublicKey);
                b.Start();
            }
        }

        [Test]
        public void KeyFileErrors()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder());
                Assert.AreEqual(ErrorCode.Key, Assert.Throws<P2PException>(() => a.KeyPairLoad(TestKeys.NewPath("missing.key"))).Code);
                a.KeyPairLoad(TestKeys.File(1));
                var noPassword = Assert.Throws<P2PException>(() => a.KeyPairSave(TestKeys.NewPath("p2psecure.key"), null, KeyFormat.P2PSecure));
                Assert.AreEqual(ErrorCode.InvalidArgument, noPassword.Code, "p2psecure's format needs a password");
                Assert.AreEqual(ErrorCode.InvalidArgument, Assert.Throws<P2PException>(() => a.KeyPairGenerate(1024)).Code);
                Assert.Throws<ArgumentNullException>(() => a.KeyPairLoad(null));
            }
        }

        [Test]
        public void PinnedWrongKeyIsRejectedWithKeyMismatch()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder()).StartWithKey(0);
                var b = nodes.Add(new SecureRecorder()).StartWithKey(1);
                var other = nodes.Add(new SecureRecorder());
                other.KeyPairLoad(TestKeys.File(2));

                Assert.IsNull(b.PinnedKey(a.Id));
                b.Pin(a.Id, other.PublicKey);
                Assert.AreEqual(other.PublicKey, b.PinnedKey(a.Id));
                Assert.AreEqual(ErrorCode.InvalidArgument, Assert.Throws<P2PException>(() => b.Pin(a.Id, "not a key")).Code);

                a.Connect("127.0.0.1", b.Port);
                a.SendMessage("{\"n\": 1}");
                b.WaitCount("rejected", 1);
                Assert.AreEqual(Reject.KeyMismatch, b.Rejected[0].Reject, b.Rejected[0].Reason);
                Assert.AreEqual(0, b.Secure.Count);

                // Unpinned, the next key seen for a's id is pinned on first use.
                b.Unpin(a.Id);
                Assert.IsNull(b.PinnedKey(a.Id));
                a.SendMessage("{\"n\": 2}");
                b.WaitCount("secure", 1);
                Assert.AreEqual(a.PublicKey, b.PinnedKey(a.Id));
            }
        }

        [Test]
        public void TrustedKeysOnlyAcceptsPinnedIds()
        {
            using (var nodes = new Nodes())
            {
                var config = new SecureConfig { KeyPolicy = KeyPolicy.TrustedKeysOnly, ReplayWindow = TimeSpan.FromMinutes(1), MaxClockSkew = TimeSpan.FromSeconds(30) };
                var a = nodes.Add(new SecureRecorder()).StartWithKey(0);
                var b = nodes.Add(new SecureRecorder(config)).StartWithKey(1);
                a.Connect("127.0.0.1", b.Port);
                a.SendMessage("1");
                b.WaitCount("rejected", 1);
                Assert.AreEqual(Reject.UntrustedKey, b.Rejected[0].Reject);

                b.Pin(a.Id, a.PublicKey);
                a.SendMessage("2");
                b.WaitCount("secure", 1);
                Assert.AreEqual(a.Id, b.Secure[0].Secure.SenderId);
            }
        }

        [Test]
        public void NativeStructsMatchTheHeader()
        {
            if (IntPtr.Size != 8)
            {
                Assert.Ignore("the offsets below are those of 64-bit platforms");
            }
            // The generated layouts (Native/Constants.g.cs) against offsetof in include/p2pnode.h.
            Type ev = typeof(Node).Assembly.GetType("P2PNode.Native.P2PEv", true);
            Assert.AreEqual(200, Marshal.SizeOf(ev));
            Assert.AreEqual(40, (int)Marshal.OffsetOf(ev, "peer_id_len"));
            Assert.AreEqual(108, (int)Marshal.OffsetOf(ev, "reject"));
            Assert.AreEqual(112, (int)Marshal.OffsetOf(ev, "sender_id"));
            Assert.AreEqual(136, (int)Marshal.OffsetOf(ev, "nodes"));
            Assert.AreEqual(144, (int)Marshal.OffsetOf(ev, "n_nodes"));
            Assert.AreEqual(152, (int)Marshal.OffsetOf(ev, "dropped"));
            Assert.AreEqual(160, (int)Marshal.OffsetOf(ev, "dropped_bytes"));
            Assert.AreEqual(168, (int)Marshal.OffsetOf(ev, "topic"));
            Assert.AreEqual(184, (int)Marshal.OffsetOf(ev, "origin"));
            Type peer = typeof(Node).Assembly.GetType("P2PNode.Native.P2PPeer", true);
            Assert.AreEqual(112, Marshal.SizeOf(peer));
            Assert.AreEqual(48, (int)Marshal.OffsetOf(peer, "port"));
            Assert.AreEqual(56, (int)Marshal.OffsetOf(peer, "mem"));
            Assert.AreEqual(72, (int)Marshal.OffsetOf(peer, "encrypted"));
            Assert.AreEqual(76, (int)Marshal.OffsetOf(peer, "key"));
            Type stats = typeof(NodeCounters);
            Assert.AreEqual(168, Marshal.SizeOf(stats));
            Assert.AreEqual(32, (int)Marshal.OffsetOf(stats, "Accepted"));
            Assert.AreEqual(160, (int)Marshal.OffsetOf(stats, "Stalled"));
            Type opts = typeof(Node).Assembly.GetType("P2PNode.Native.P2PSecureOpts", true);
            Assert.AreEqual(40, Marshal.SizeOf(opts));
            Assert.AreEqual(16, (int)Marshal.OffsetOf(opts, "replay_window_ms"));
            Assert.AreEqual(32, (int)Marshal.OffsetOf(opts, "max_pinned_keys"));
            Assert.AreEqual(16, Marshal.SizeOf(typeof(Node).Assembly.GetType("P2PNode.Native.P2PBuf", true)));
        }

        [Test]
        public void SizedStructsAreReadByTheirSize()
        {
            // A sized struct from an older library (smaller) leaves the fields it lacks zero;
            // one from a newer library (bigger) is read up to the fields this binding knows.
            Type proxy = typeof(Node).Assembly.GetType("P2PNode.Native.Proxy", true);
            Type peer = typeof(Node).Assembly.GetType("P2PNode.Native.P2PPeer", true);
            MethodInfo read = proxy.GetMethod("Read", BindingFlags.Static | BindingFlags.NonPublic).MakeGenericMethod(peer);
            int ours = Marshal.SizeOf(peer), port = (int)Marshal.OffsetOf(peer, "port");
            IntPtr p = Marshal.AllocHGlobal(ours + 64);
            try
            {
                Marshal.Copy(new byte[ours + 64], 0, p, ours + 64);
                Marshal.WriteInt64(p, 8, 7);     // peer
                Marshal.WriteInt32(p, port, 99); // port
                foreach (int size in new[] { 16, ours, ours + 64 })
                {
                    Marshal.WriteIntPtr(p, new IntPtr(size));
                    object got = read.Invoke(null, new object[] { p });
                    Assert.AreEqual(7UL, peer.GetField("peer").GetValue(got), "size " + size);
                    Assert.AreEqual(size > port ? 99 : 0, peer.GetField("port").GetValue(got), "size " + size);
                }
            }
            finally
            {
                Marshal.FreeHGlobal(p);
            }
        }

        [Test]
        public void BadConfigIsRefused()
        {
            var e = Assert.Throws<P2PException>(() => new SecureNode("127.0.0.1", 0, null, 0, new SecureConfig { MinKeyBits = -1 }).Dispose());
            Assert.AreEqual(ErrorCode.InvalidArgument, e.Code);
            e = Assert.Throws<P2PException>(() => new SecureNode("127.0.0.1", 0, null, 0, new SecureConfig { KeyPolicy = (KeyPolicy)7 }).Dispose());
            Assert.AreEqual(ErrorCode.InvalidArgument, e.Code);
            using (var n = new SecureNode("127.0.0.1", 0, null, 0, new SecureConfig { ReplayWindow = TimeSpan.FromTicks(-1) }))
            {
                Assert.Greater(n.Port, 0, "a negative replay window turns the checks off");
            }
        }
    }
}
