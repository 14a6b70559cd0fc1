using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using NUnit.Framework;
using P2PNode;

namespace P2PNode.Tests
{
    /// <summary>Discovery and topic gossip through the binding (issue 21), over real sockets.</summary>
    [TestFixture]
    public class GossipTests
    {
        /// <summary>A bootstrap and `count - 1` nodes that joined through it and discovered each other.</summary>
        private static List<Recorder> Network(Nodes nodes, int count, int target)
        {
            var all = Enumerable.Range(0, count).Select(i => nodes.Started("g" + i)).ToList();
            all.Skip(1).ToList().ForEach(n => n.Connect("127.0.0.1", all[0].Port));
            all.ForEach(n => n.Discover(target)); // the bootstrap too: discovery answers its peers' exchanges
            Wait.Until(() => all.All(n => n.AllPeers.Count >= target), "every node with " + target + " peers: "
                + string.Join(", ", all.Select(n => n.Id + "=" + n.AllPeers.Count)));
            return all;
        }

        private static List<Seen> Topic(Recorder r, string data) =>
            r.Of("topic_message").Where(e => e.Message.Text == data).ToList();

        [Test]
        public void NodesDiscoverEachOtherFromOneBootstrap()
        {
            using (var nodes = new Nodes())
            {
                List<Recorder> all = Network(nodes, 5, 2);
                Recorder last = all[4];
                Wait.Until(() => last.KnownPeers.Count >= 2, "known peers beyond the bootstrap");
                var known = last.KnownPeers;
                Assert.IsTrue(known.All(k => k.Host == "127.0.0.1" && k.Port > 0 && k.Id.StartsWith("g")), string.Join(", ", known));
                Assert.IsFalse(known.Any(k => k.Id == last.Id), "not itself");
                Assert.Throws<P2PException>(() => nodes.Add(new Node("127.0.0.1", 0)).Discover(2), "not before start");
            }
        }

        [Test]
        public void APublishReachesEverySubscriberOnceAndNeverItsOrigin()
        {
            using (var nodes = new Nodes())
            {
                List<Recorder> all = Network(nodes, 5, 2);
                Recorder origin = all[2], bystander = all[0]; // the bootstrap relays without a subscription
                var subscribers = all.Where(n => n != bystander).ToList();
                subscribers.ForEach(n => n.Subscribe("chat"));
                var others = subscribers.Where(n => n != origin).ToList();

                origin.Publish("chat", "{\"n\": 1}");
                Wait.Until(() => others.All(n => Topic(n, "{\"n\": 1}").Count == 1), "the first publish everywhere");
                Seen got = Topic(others[0], "{\"n\": 1}")[0];
                Assert.AreEqual("chat", got.Topic);
                Assert.AreEqual(origin.Id, got.Origin);
                Assert.AreEqual(MessageKind.Json, got.Message.Kind);
                Assert.IsNotNull(got.Peer, "the neighbour that relayed it");
                Assert.AreSame(others[0], got.Peer.Node);

                // A second publish (bytes) arriving everywhere is the bound for a late duplicate of the first.
                origin.Publish("chat", new byte[] { 0xff, 0x00, 0x01 });
                Wait.Until(() => others.All(n => n.Of("topic_message").Count == 2), "the second publish everywhere");
                foreach (Recorder n in others)
                {
                    Assert.AreEqual(1, Topic(n, "{\"n\": 1}").Count, n.Id + " got the first once");
                    CollectionAssert.AreEqual(new byte[] { 0xff, 0x00, 0x01 }, n.Of("topic_message")[1].Message.Data);
                    Assert.AreEqual(MessageKind.Bytes, n.Of("topic_message")[1].Message.Kind);
                }
                Assert.AreEqual(0, origin.Count("topic_message"), "never back to its origin");
                Assert.AreEqual(0, bystander.Count("topic_message"), "not subscribed");
                Assert.IsTrue(all.All(n => n.Count("message") == 0), "gossip is not a direct message");
            }
        }

        [Test]
        public void UnsubscribeStopsDeliveryAndEventsReachTheDotNetEvent()
        {
            using (var nodes = new Nodes())
            {
                List<Recorder> all = Network(nodes, 3, 2);
                all.ForEach(n => n.Subscribe("news"));
                var viaEvent = new List<TopicMessageEventArgs>();
                all[1].TopicMessage += (s, e) => { lock (viaEvent) viaEvent.Add(e); };
                all[2].Unsubscribe("news");

                all[0].Publish("news", "first");
                Wait.Until(() => Topic(all[1], "first").Count == 1, "the publish at the subscriber");
                all[0].Publish("news", "second");
                Wait.Until(() => Topic(all[1], "second").Count == 1, "the second at the subscriber");
                Assert.AreEqual(0, all[2].Count("topic_message"), "unsubscribed");
                lock (viaEvent)
                {
                    Assert.AreEqual(new[] { "first", "second" }, viaEvent.Select(e => e.Message.Text).ToArray());
                    Assert.AreEqual("news", viaEvent[0].Topic);
                    Assert.AreEqual(all[0].Id, viaEvent[0].Origin);
                }
                var idle = nodes.Add(new Node("127.0.0.1", 0));
                idle.Subscribe("early"); // any time, also before start
                var notStarted = Assert.Throws<P2PException>(() => idle.Publish("early", "x"));
                Assert.AreEqual(ErrorCode.InvalidState, notStarted.Code, "publishing needs a started node");
                Assert.AreEqual(ErrorCode.InvalidArgument, Assert.Throws<P2PException>(() => all[0].Subscribe(new string('t', 256))).Code);
                Assert.AreEqual(ErrorCode.InvalidArgument, Assert.Throws<P2PException>(() => all[0].Subscribe("")).Code);
                Assert.Throws<ArgumentNullException>(() => all[0].Publish(null, "x"));
                Assert.Throws<ArgumentNullException>(() => all[0].Subscribe(null));
            }
        }
    }
}
