// Discovery and topic gossip through the C++ binding (ABI 0.4): a few nodes
// join from one bootstrap, subscribe, and each publish reaches every
// subscriber once and never its origin. Real loopback sockets, port 0; waits
// on conditions with deadlines.
#include "helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace p2pnode;
using testing_p2p::EventLog;
using testing_p2p::eventually;
using testing_p2p::kLocal;

namespace {

const std::string kTopic = "news";

// A started node that records every event.
struct Member {
    EventLog log;
    Node node;
    explicit Member(const std::string &id) : node(kLocal, 0, log.recorder(), id) { node.start(); }
    Member(Member &&) = delete;
    // The topic messages it got whose data is data.
    std::vector<Event> got(const std::string &data) {
        std::vector<Event> out;
        for (auto &e : log.of(EventType::topic_message))
            if (e.message.data() == data) out.push_back(e);
        return out;
    }
};

// n nodes ("g0" the bootstrap); those in subscribed subscribe to kTopic before they join; every node but
// the bootstrap dials it, then all discover until each has at least k peers.
std::vector<std::unique_ptr<Member>> network(int n, int k, const std::vector<int> &subscribed) {
    std::vector<std::unique_ptr<Member>> m;
    for (int i = 0; i < n; ++i) m.push_back(std::make_unique<Member>("g" + std::to_string(i)));
    for (int i : subscribed) m[i]->node.subscribe(kTopic);
    for (int i = 1; i < n; ++i) m[i]->node.connect(kLocal, m[0]->node.port());
    for (auto &x : m) x->node.discover(k);
    for (auto &x : m)
        EXPECT_TRUE(eventually([&] { return x->node.all_peers().size() >= std::size_t(k); }))
            << x->node.id() << " has " << x->node.all_peers().size() << " peers";
    // And both ends of every link list it: each side's gossip has it (the dialler's returns first).
    auto ids = [](const Node &x) {
        std::vector<std::string> out;
        for (auto &p : x.all_peers()) out.push_back(p.id);
        return out;
    };
    EXPECT_TRUE(eventually([&] {
        for (auto &x : m)
            for (auto &id : ids(x->node)) {
                auto back = ids(m[std::stoi(id.substr(1))]->node);
                if (std::find(back.begin(), back.end(), x->node.id()) == back.end()) return false;
            }
        return true;
    }));
    return m;
}

} // namespace

TEST(Gossip, DiscoveryFromOneBootstrap) {
    auto m = network(4, 2, {});
    // A node that dialled only the bootstrap learnt the others from it.
    EXPECT_TRUE(eventually([&] {
        auto known = m[3]->node.known_peers();
        return std::any_of(known.begin(), known.end(), [&](const DiscoveredNode &d) {
            return d.id == "g1" || d.id == "g2";
        });
    }));
    for (auto &d : m[3]->node.known_peers()) {
        EXPECT_EQ(d.host, kLocal);
        EXPECT_GT(d.port, 0);
        EXPECT_NE(d.id, "g3"); // never itself
    }
}

TEST(Gossip, EachSubscriberGetsAPublishOnceAndTheOriginNever) {
    const std::vector<int> subs = {0, 1, 2, 4}; // g3 only relays
    auto m = network(5, 2, subs);
    Member &origin = *m[1];
    origin.node.publish(kTopic, "hello");
    origin.node.publish(kTopic, R"({"fence": 1})"); // once it is everywhere, so is hello (or never will be)
    for (int i : subs) {
        if (i == 1) continue;
        EXPECT_TRUE(eventually([&] { return !m[i]->got(R"({"fence": 1})").empty(); })) << "g" << i;
        auto hello = m[i]->got("hello");
        ASSERT_EQ(hello.size(), 1u) << "g" << i;
        EXPECT_EQ(hello[0].topic, kTopic);
        EXPECT_EQ(hello[0].origin, origin.node.id());
        EXPECT_TRUE(hello[0].message.is_text());
        EXPECT_FALSE(hello[0].peer.id.empty()); // the neighbour that relayed it
        EXPECT_TRUE(m[i]->got(R"({"fence": 1})")[0].message.is_json());
        EXPECT_EQ(m[i]->log.count(EventType::message), 0u); // gossip is not a direct message
    }
    EXPECT_EQ(origin.log.count(EventType::topic_message), 0u);
    EXPECT_EQ(m[3]->log.count(EventType::topic_message), 0u);

    // After unsubscribing, g4 gets no more; the others do.
    m[4]->node.unsubscribe(kTopic);
    m[0]->node.publish(kTopic, "later");
    for (int i : {1, 2}) EXPECT_TRUE(eventually([&] { return m[i]->got("later").size() == 1; })) << "g" << i;
    EXPECT_TRUE(m[4]->got("later").empty());
    EXPECT_TRUE(m[0]->got("later").empty());
}

TEST(Gossip, TopicHandlerAndOverride) {
    struct Listener : Node {
        std::mutex mu;
        std::vector<std::string> seen;
        Listener() : Node(kLocal, 0, "listener") {}
        ~Listener() override { stop(); }
        void on_topic_message(const Peer &, const std::string &topic, const std::string &origin,
                              const Message &m) override {
            std::lock_guard<std::mutex> lk(mu);
            seen.push_back(topic + "|" + origin + "|" + m.data());
        }
        std::size_t count() {
            std::lock_guard<std::mutex> lk(mu);
            return seen.size();
        }
    };
    std::mutex mu;
    std::vector<std::string> seen;
    Listener derived;
    Node handled(kLocal, 0, "handled");
    handled.set_topic_message_handler([&](const Peer &, const std::string &topic, const std::string &origin,
                                          const Message &m) {
        std::lock_guard<std::mutex> lk(mu);
        seen.push_back(topic + "|" + origin + "|" + m.data());
    });
    Node publisher(kLocal, 0, "publisher");
    for (Node *n : {static_cast<Node *>(&derived), &handled, &publisher}) n->start();
    derived.subscribe("t");
    handled.subscribe("t");
    derived.connect(kLocal, publisher.port());
    handled.connect(kLocal, publisher.port());
    // The publisher's side of a link joins its gossip when it lists the peer (a dial returns before that).
    ASSERT_TRUE(eventually([&] { return publisher.all_peers().size() == 2; }));
    publisher.publish("t", std::string("b\0\xff", 3));
    ASSERT_TRUE(eventually([&] { return derived.count() == 1; }));
    ASSERT_TRUE(eventually([&] {
        std::lock_guard<std::mutex> lk(mu);
        return seen.size() == 1;
    }));
    EXPECT_EQ(derived.seen[0], std::string("t|publisher|b\0\xff", 15));
    EXPECT_EQ(seen[0], std::string("t|publisher|b\0\xff", 15));
}
