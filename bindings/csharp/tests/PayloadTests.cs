using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    [TestFixture]
    public class PayloadTests
    {
        private static readonly Encoding Utf8 = new UTF8Encoding(false);

        private static IEnumerable<Tuple<string, byte[], MessageKind>> Payloads()
        {
            yield return Tuple.Create("empty", new byte[0], MessageKind.Text);
            yield return Tuple.Create("only 0x04", new byte[] { 4 }, MessageKind.Text);
            yield return Tuple.Create("holding 0x04", Utf8.GetBytes("a\u0004b"), MessageKind.Text);
            yield return Tuple.Create("ending in 0x02", Utf8.GetBytes("abc\u0002"), MessageKind.Text);
            yield return Tuple.Create("0x02 inside", Utf8.GetBytes("a\u0002bc"), MessageKind.Text);
            yield return Tuple.Create("not UTF-8", new byte[] { 0xff, 0xfe, 0x00, 0x04, 0x02 }, MessageKind.Bytes);
            yield return Tuple.Create("JSON object", Utf8.GetBytes("{\"name\": \"Maurice\", \"number\": 11}"), MessageKind.Json);
            yield return Tuple.Create("JSON number", Utf8.GetBytes("123"), MessageKind.Json);
            yield return Tuple.Create("text", Utf8.GetBytes("hello wörld ✓"), MessageKind.Text);
            var big = new byte[200000];
            new Random(7).NextBytes(big);
            big[0] = 0xff;
            yield return Tuple.Create("200 kB of random bytes", big, MessageKind.Bytes);
        }

        [TestCase(Compression.None)]
        [TestCase(Compression.Zlib)]
        [TestCase(Compression.Bzip2)]
        [TestCase(Compression.Lzma)]
        public void EveryPayloadArrivesExactly(Compression compression)
        {
            var payloads = Payloads().ToList();
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started();
                Recorder b = nodes.Started();
                Peer peer = a.Connect("127.0.0.1", b.Port);
                foreach (var p in payloads)
                {
                    a.Send(peer, p.Item2, compression);
                }
                b.WaitCount("message", payloads.Count);
                var got = b.Messages;
                for (int i = 0; i < payloads.Count; i++)
                {
                    string name = payloads[i].Item1;
                    CollectionAssert.AreEqual(payloads[i].Item2, got[i].Data, name);
                    Assert.AreEqual(payloads[i].Item3, got[i].Kind, name);
                    if (got[i].Kind == MessageKind.Bytes)
                    {
                        Assert.IsNull(got[i].Text, name);
                    }
                    else
                    {
                        Assert.AreEqual(Utf8.GetString(payloads[i].Item2), got[i].Text, name);
                    }
                    if (compression != Compression.None)
                    {
                        Assert.AreEqual(compression, got[i].Compression, name);
                    }
                    else
                    {
                        // What raw framing cannot carry travels zlib-compressed.
                        Assert.That(got[i].Compression, Is.EqualTo(Compression.None).Or.EqualTo(Compression.Zlib), name);
                    }
                }
                if (compression == Compression.None)
                {
                    Assert.AreEqual(Compression.None, got.Last(m => m.Text == "123").Compression, "a plain payload travels raw");
                }
                Assert.AreEqual(0UL, b.Counters.ReceiveErrors);
            }
        }

        [Test]
        public void TextAndJsonFromStrings()
        {
            using (var nodes = new Nodes())
            {
                Recorder a = nodes.Started();
                Recorder b = nodes.Started();
                Peer peer = a.Connect("127.0.0.1", b.Port);
                peer.Send("plain text");
                peer.Send("[1, 2, 3]");
                peer.Send("\"quoted\"");
                peer.Send(string.Empty);
                b.WaitCount("message", 4);
                var got = b.Messages;
                Assert.AreEqual(new[] { MessageKind.Text, MessageKind.Json, MessageKind.Json, MessageKind.Text }, got.Select(m => m.Kind).ToArray());
                Assert.AreEqual(new[] { "plain text", "[1, 2, 3]", "\"quoted\"", string.Empty }, got.Select(m => m.Text).ToArray());
                Assert.IsTrue(got[1].IsJson);
                Assert.AreEqual("plain text", got[0].ToString());
            }
        }
    }
}
