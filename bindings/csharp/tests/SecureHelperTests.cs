using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    /// <summary>
    /// p2psecure's helpers on SecureNode (RSA, signatures, PBKDF2, AES with keys,
    /// passwords and files) and delegating ping and discovery. Their formats are checked
    /// against PyCryptodome in p2p/secure and bindings/python; here the binding's calls.
    /// </summary>
    [TestFixture]
    public class SecureHelperTests
    {
        [Test]
        public void RsaSignaturesAndPrivateKey()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder());
                var b = nodes.Add(new SecureRecorder());
                a.KeyPairLoad(TestKeys.File(0));
                b.KeyPairLoad(TestKeys.File(1));
                string priv = a.GetPrivateKey();
                StringAssert.StartsWith("-----BEGIN RSA PRIVATE KEY-----\n", priv);
                StringAssert.EndsWith("-----END RSA PRIVATE KEY-----", priv);

                byte[] secret = Encoding.UTF8.GetBytes("geheim \u00e9\0!");
                string ct = SecureNode.Encrypt(secret, b.PublicKey);
                Assert.AreEqual(344, ct.Length, "base64 of 256 bytes");
                CollectionAssert.AreEqual(secret, b.Decrypt(ct));
                Assert.AreEqual(ErrorCode.InvalidArgument, Assert.Throws<P2PException>(() => a.Decrypt(ct)).Code);
                Assert.AreEqual(ErrorCode.InvalidArgument, Assert.Throws<P2PException>(() => SecureNode.Encrypt(secret, "not a key")).Code);
                CollectionAssert.AreEqual(new byte[0], a.Decrypt(SecureNode.Encrypt(new byte[0], priv)), "a private PEM encrypts to its public half");

                string sig = a.Sign("hello");
                Assert.AreEqual(sig, a.Sign("hello"), "PKCS#1 v1.5 signatures are deterministic");
                Assert.IsTrue(SecureNode.Verify("hello", a.PublicKey, sig));
                Assert.IsFalse(SecureNode.Verify("hellO", a.PublicKey, sig));
                Assert.IsFalse(SecureNode.Verify("hello", b.PublicKey, sig));
                Assert.IsFalse(SecureNode.Verify("hello", a.PublicKey, "!!"));
                Assert.Throws<P2PException>(() => SecureNode.Verify("hello", "nope", sig));

                Assert.AreEqual("{\"a\": [1.0, \"\\u00e9\"], \"b\": 1}", SecureNode.Canonical("{\"b\":1,\"a\":[1.0,\"\u00e9\"]}"));
                string sd = a.SignData("{\"b\": 1, \"a\": 2}");
                Assert.AreEqual(a.Sign("{\"a\": 2, \"b\": 1}"), sd);
                Assert.IsTrue(SecureNode.VerifyData("{\"a\":2,\"b\":1}", a.PublicKey, sd));
                Assert.Throws<P2PException>(() => SecureNode.Canonical("{"));

                var keyless = nodes.Add(new SecureRecorder());
                Assert.AreEqual(ErrorCode.Key, Assert.Throws<P2PException>(() => keyless.Sign("x")).Code);
                Assert.AreEqual(ErrorCode.Key, Assert.Throws<P2PException>(() => keyless.GetPrivateKey()).Code);
            }
        }

        [Test]
        public void PasswordKeysAndAes()
        {
            // PyCryptodome: PBKDF2(b"password", b"salt", 32).hex() starts 6e88be8bad7eae9d
            byte[] key = SecureNode.EncryptionKeyFromPassword(Encoding.ASCII.GetBytes("salt"), Encoding.ASCII.GetBytes("password"), 32);
            Assert.AreEqual("6e88be8bad7eae9d", BitConverter.ToString(key, 0, 8).Replace("-", string.Empty).ToLowerInvariant());
            Assert.Throws<ArgumentOutOfRangeException>(() => SecureNode.EncryptionKeyFromPassword(new byte[0], new byte[0], 0));
            CollectionAssert.AreEqual(Encoding.ASCII.GetBytes("abc").Concat(new byte[13]).ToArray(), SecureNode.EncryptAesPad(Encoding.ASCII.GetBytes("abc")));
            Assert.AreEqual(32, SecureNode.EncryptAesPad(new byte[16]).Length);
            CollectionAssert.AreEqual(new byte[] { 0x70, 0xe4 }, SecureNode.PasswordBytes("p\u00e4"), "Latin-1, as PyCryptodome takes a str");

            foreach (int n in new[] { 0, 9, 16, 100 })
            {
                byte[] plain = Enumerable.Repeat((byte)'p', n).ToArray();
                byte[] ct = SecureNode.EncryptAes(plain, key);
                Assert.AreEqual(16 + n + 16 - n % 16, ct.Length);
                CollectionAssert.AreEqual(plain, SecureNode.DecryptAes(ct, key));
                byte[] pw = SecureNode.EncryptAesPw(plain, "this is the passwd");
                Assert.AreEqual(48 + n + 16 - n % 16, pw.Length, "padded twice, as p2psecure");
                CollectionAssert.AreEqual(plain, SecureNode.DecryptAesPw(pw, "this is the passwd"));
            }
            CollectionAssert.AreEqual(Encoding.ASCII.GetBytes("ab"), SecureNode.DecryptAes(SecureNode.EncryptAes(new byte[] { 97, 98, 0, 0 }, key), key), "trailing zeros go, as in p2psecure");
            Assert.AreEqual(ErrorCode.InvalidArgument, Assert.Throws<P2PException>(() => SecureNode.EncryptAes(new byte[1], new byte[5])).Code);
            Assert.AreEqual(ErrorCode.InvalidArgument, Assert.Throws<P2PException>(() => SecureNode.DecryptAes(new byte[20], key)).Code);
            Assert.Throws<ArgumentNullException>(() => SecureNode.EncryptAes(null, key));

            string f = TestKeys.NewPath("data.enc"), fpw = TestKeys.NewPath("data-pw.enc");
            SecureNode.EncryptAesFile(f, Encoding.ASCII.GetBytes("Hallo"), key);
            SecureNode.EncryptAesFilePw(fpw, Encoding.ASCII.GetBytes("Hallo Maurice Snoeren"), Encoding.ASCII.GetBytes("password123"));
            Assert.AreEqual(80, new FileInfo(fpw).Length, "salt + iv + 21 bytes padded to 32, then a block of zeros");
            CollectionAssert.AreEqual(Encoding.ASCII.GetBytes("Hallo"), SecureNode.DecryptAesFile(f, key));
            CollectionAssert.AreEqual(Encoding.ASCII.GetBytes("Hallo Maurice Snoeren"), SecureNode.DecryptAesFilePw(fpw, Encoding.ASCII.GetBytes("password123")));
            Assert.AreEqual(ErrorCode.Key, Assert.Throws<P2PException>(() => SecureNode.DecryptAesFile(TestKeys.NewPath("missing"), key)).Code);
            Assert.AreEqual(ErrorCode.Key, Assert.Throws<P2PException>(() => SecureNode.EncryptAesFile("/nonexistent/dir/x", new byte[1], key)).Code);
        }

        /// <summary>Answers pings and discoveries step by step, as a p2psecure subclass that overrides received_ping.</summary>
        private sealed class Delegating : SecureRecorder
        {
            public int Pings;
            public int Discoveries;
            public int Others;

            protected override void OnSecureMessage(Peer peer, SecureMessage message)
            {
                if (message.Type == "ping")
                {
                    Interlocked.Increment(ref Pings);
                    HandleStep(peer, SecureStep.ReceivedPing, message.Json);
                }
                else if (message.Type == "discovery")
                {
                    Interlocked.Increment(ref Discoveries);
                    if (HandleStep(peer, SecureStep.RouteDiscovery, message.Json) == ErrorCode.Ok)
                    {
                        HandleStep(peer, SecureStep.SendDiscoveryAnswer, message.Json);
                    }
                }
                else
                {
                    Interlocked.Increment(ref Others);
                }
            }
        }

        [Test]
        public void DelegatedPingAndDiscoveryAreHandledStepByStep()
        {
            using (var nodes = new Nodes())
            {
                var a = nodes.Add(new SecureRecorder()).StartWithKey(0);
                var b = nodes.Add(new Delegating());
                b.KeyPairLoad(TestKeys.File(1));
                b.SetDelegate(SecureDelegate.Ping | SecureDelegate.Discovery);
                b.Start();
                Peer ab = a.Connect("127.0.0.1", b.Port);
                Wait.Until(() => b.AllPeers.Count == 1, "b sees a");
                a.SendPing();
                Wait.Until(() => ab.GetInfo("ping") != null, "b's pong");
                Assert.AreEqual(1, Volatile.Read(ref b.Pings));
                a.SendDiscovery();
                a.WaitCount("answer", 1);
                Assert.AreEqual(1, Volatile.Read(ref b.Discoveries));
                a.SendMessage("1");
                Wait.Until(() => Volatile.Read(ref b.Others) == 1, "the message at b");
                Assert.AreEqual(ErrorCode.InvalidArgument, Assert.Throws<P2PException>(() => b.SetDelegate((SecureDelegate)64)).Code);
                Peer ba = b.AllPeers[0];
                Assert.Throws<P2PException>(() => b.HandleStep(ba, SecureStep.SendPong, "[]"));
                Assert.AreEqual(ErrorCode.NotFound, b.HandleStep(ba, SecureStep.RelayDiscoveryAnswer, "{\"id\": \"nobody\", \"timestamp\": 1, \"nodes\": []}"));
            }
        }
    }
}
