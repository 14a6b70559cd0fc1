// Tests of p2pnode::SecureNode over real loopback sockets (port 0
// everywhere). They wait on conditions with deadlines, never on fixed sleeps.
//
// RSA key generation is slow (under valgrind above all), so each test
// process generates at most three 2048-bit keys, once, saves them as PEM
// files in a temporary folder, and the nodes load them (SecureKeys below).
#include "helpers.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

using namespace p2pnode;
using testing_p2p::EventLog;
using testing_p2p::code_of;
using testing_p2p::eventually;
using testing_p2p::kLocal;

namespace {

// A temporary folder, removed with its files when the process ends.
class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/p2pnode-cpp-secure-XXXXXX";
        const char *d = ::mkdtemp(tmpl);
        if (d == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = d;
    }
    ~TempDir() {
        for (auto &f : files_) ::unlink(f.c_str());
        ::rmdir(path_.c_str());
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;

    // A file name in the folder (removed at the end).
    std::string file(const std::string &name) {
        std::string p = path_ + "/" + name;
        if (std::find(files_.begin(), files_.end(), p) == files_.end()) files_.push_back(p);
        return p;
    }

private:
    std::string path_;
    std::vector<std::string> files_;
};

TempDir &temp_dir() {
    static TempDir dir;
    return dir;
}

// Key files of 2048-bit keys, generated the first time a test asks for one.
class SecureKeys {
public:
    static constexpr int kCount = 3;

    static const std::string &path(int i) {
        static SecureKeys keys;
        return keys.get(i);
    }

private:
    const std::string &get(int i) {
        std::lock_guard<std::mutex> lk(mu_);
        std::string &p = paths_[i];
        if (p.empty()) {
            SecureNode maker(kLocal, 0);
            maker.key_pair_generate(2048);
            std::string file = temp_dir().file("key" + std::to_string(i) + ".pem");
            maker.key_pair_save(file); // no password: PEM, loads fast
            p = file;
        }
        return p;
    }
    std::mutex mu_;
    std::map<int, std::string> paths_;
};

// A secure node with key i that records every event (the callback style).
struct Recorded {
    EventLog log;
    SecureNode node;
    explicit Recorded(const std::string &id, int key, const SecureConfig &cfg = {})
        : node(kLocal, 0, log.recorder(), id, 0, cfg) {
        node.key_pair_load(SecureKeys::path(key));
        node.start();
    }
    Recorded(Recorded &&) = delete;

    // The secure messages so far.
    std::vector<Event> secure() { return log.of(EventType::secure_message); }
    std::vector<Event> rejected() { return log.of(EventType::message_rejected); }
    bool wait_secure(std::size_t n) { return log.wait_count(EventType::secure_message, n); }
    bool wait_rejected(std::size_t n) { return log.wait_count(EventType::message_rejected, n); }
};

// Connects a to b and waits until b has seen it; returns a's peer (b).
Peer link(Recorded &a, Recorded &b) {
    std::size_t before = b.log.count(EventType::inbound_connected);
    Peer p = a.node.connect(kLocal, b.node.port());
    EXPECT_TRUE(b.log.wait_count(EventType::inbound_connected, before + 1));
    return p;
}

Peer inbound_peer(Recorded &n, const std::string &id) {
    for (auto &e : n.log.of(EventType::inbound_connected))
        if (e.peer.id == id) return e.peer;
    ADD_FAILURE() << "no inbound peer " << id;
    return Peer{};
}

bool contains(const std::string &hay, const std::string &needle) { return hay.find(needle) != std::string::npos; }

// Detection of a send_message member, for the type tests.
template <class T, class = void> struct has_send_message : std::false_type {};
template <class T>
struct has_send_message<T, std::void_t<decltype(std::declval<T &>().send_message(std::string_view()))>>
    : std::true_type {};

} // namespace

// ---- Keys -------------------------------------------------------------------

TEST(SecureKeysTest, StartWithoutKeyFailsWithKeyError) {
    SecureNode n(kLocal, 0, "keyless");
    EXPECT_FALSE(n.has_key());
    try {
        n.start();
        FAIL() << "start without a key succeeded";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), P2P_EKEY);
        EXPECT_NE(std::string(e.what()), "");
        EXPECT_NE(std::string(e.name()), "");
    }
    EXPECT_EQ(code_of([&] { n.public_key(); }), P2P_EKEY);
    EXPECT_EQ(code_of([&] { n.create_message(R"({"a": 1})"); }), P2P_EKEY);
    EXPECT_EQ(code_of([&] { n.key_pair_save(temp_dir().file("none.pem")); }), P2P_EKEY);
    EXPECT_EQ(code_of([&] { n.key_pair_load(temp_dir().file("does-not-exist.key")); }), P2P_EKEY);
    {
        std::ofstream(temp_dir().file("not-a-key.pem")) << "hello\n";
    }
    EXPECT_EQ(code_of([&] { n.key_pair_load(temp_dir().file("not-a-key.pem")); }), P2P_EKEY);
    EXPECT_FALSE(n.has_key());

    n.key_pair_load(SecureKeys::path(0));
    EXPECT_TRUE(n.has_key());
    n.start();
    EXPECT_GT(n.port(), 0);
}

namespace {
struct KeyFileCase {
    const char *file;
    const char *password;
    KeyFormat format;
};

// Saves key 0 as c says, loads the file into another node and compares.
void round_trip(const KeyFileCase &c) {
    SCOPED_TRACE(c.file);
    SecureNode n(kLocal, 0);
    n.key_pair_load(SecureKeys::path(0));
    const std::string pk = n.public_key();
    EXPECT_EQ(pk.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
    std::string path = temp_dir().file(c.file);
    n.key_pair_save(path, c.password, c.format);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    SecureNode m(kLocal, 0);
    m.key_pair_load(path, c.password);
    EXPECT_EQ(m.public_key(), pk);
    if (*c.password != '\0') {
        SecureNode w(kLocal, 0);
        EXPECT_EQ(code_of([&] { w.key_pair_load(path, "wrong password"); }), P2P_EKEY);
        EXPECT_FALSE(w.has_key());
    }
}
} // namespace

// p2psecure's format (PBKDF2-SHA1, 1000 rounds) and plain PEM.
TEST(SecureKeysTest, SaveLoadRoundTripP2psecureFormatAndPem) {
    round_trip({"theirs.key", "secret", KeyFormat::p2psecure});
    round_trip({"ours.pem", "", KeyFormat::p2pnode}); // our format without password: PEM
    // p2psecure's format needs a password.
    SecureNode n(kLocal, 0);
    n.key_pair_load(SecureKeys::path(0));
    EXPECT_EQ(code_of([&] { n.key_pair_save(temp_dir().file("x.key"), "", KeyFormat::p2psecure); }), P2P_EINVAL);
}

// Our format with a password (PBKDF2-SHA256, 600000 rounds: minutes under
// valgrind, so the memcheck run leaves this one out).
TEST(SecureKeysTest, SaveLoadRoundTripP2pnodeFormatWithPassword) {
    round_trip({"ours.key", "p\xc3\xa4ssw\xc3\xb6rd", KeyFormat::p2pnode}); // UTF-8 password
}

// ---- Messages ---------------------------------------------------------------

TEST(SecureMessagesTest, BothWaysPayloadIntact) {
    Recorded a("secure-a", 0), b("secure-b", 1);
    Peer pb = link(a, b);
    Peer pa = inbound_peer(b, "secure-a");

    // Unicode (escaped as Python's json.dumps does), floats and a big integer.
    a.node.send_message(u8R"({"text": "h\u00e9llo \u4e16\u754c 😀", "f": 1.0, "g": 2.50, "e": 1e100, "big": 123456789012345678901234567890})");
    ASSERT_TRUE(b.wait_secure(1));
    Event e = b.secure().at(0);
    EXPECT_EQ(e.peer.id, "secure-a");
    EXPECT_EQ(e.sender_id, "secure-a");
    EXPECT_EQ(e.msg_type, "message");
    EXPECT_TRUE(e.message.is_json());
    EXPECT_TRUE(contains(e.message.data(),
                         R"("message": {"big": 123456789012345678901234567890, "e": 1e+100, "f": 1.0, "g": 2.5, )"
                         R"("text": "h\u00e9llo \u4e16\u754c \ud83d\ude00"})"))
        << e.message.data();
    EXPECT_TRUE(contains(e.message.data(), R"("_type": "message")"));
    EXPECT_TRUE(contains(e.message.data(), R"("_id": "secure-a")"));
    EXPECT_TRUE(SecureNode::check_message(e.message.data()).ok());
    SecureMessage sm = e.secure_message();
    EXPECT_EQ(sm.sender_id, "secure-a");
    EXPECT_EQ(sm.type, "message");
    EXPECT_EQ(sm.payload, e.message.data());

    // The other way, to one peer, with the application's own _type.
    b.node.send(pa, R"({"_type": "chat", "reply": "ok", "n": -0.5})");
    ASSERT_TRUE(a.wait_secure(1));
    Event r = a.secure().at(0);
    EXPECT_EQ(r.peer, pb);
    EXPECT_EQ(r.sender_id, "secure-b");
    EXPECT_EQ(r.msg_type, "chat");
    EXPECT_TRUE(contains(r.message.data(), R"("n": -0.5, "reply": "ok")")) << r.message.data();

    // A JSON value that is not an object goes with send_message only.
    a.node.send_message("42");
    ASSERT_TRUE(b.wait_secure(2));
    EXPECT_TRUE(contains(b.secure().at(1).message.data(), R"("message": 42)"));

    // A secure node never raises the plain message event.
    EXPECT_EQ(a.log.count(EventType::message), 0u);
    EXPECT_EQ(b.log.count(EventType::message), 0u);
    EXPECT_EQ(b.rejected().size(), 0u);
}

TEST(SecureMessagesTest, SendToNodesExcludesAndBadArguments) {
    Recorded a("hub", 0), b("left", 1), c("right", 2);
    Peer pb = link(a, b);
    Peer pc = link(a, c);

    a.node.send_to_nodes(R"({"n": 1})", {pc});
    a.node.send(pc, R"({"n": 2})");
    ASSERT_TRUE(b.wait_secure(1));
    ASSERT_TRUE(c.wait_secure(1));
    EXPECT_TRUE(contains(b.secure().at(0).message.data(), R"("n": 1)"));
    // Per connection order holds: had c got the broadcast, it would be first.
    EXPECT_TRUE(contains(c.secure().at(0).message.data(), R"("n": 2)"));

    a.node.send_to_nodes(R"({"n": 3})");
    ASSERT_TRUE(b.wait_secure(2));
    ASSERT_TRUE(c.wait_secure(2));

    EXPECT_EQ(code_of([&] { a.node.send_message("not json"); }), P2P_EINVAL);
    EXPECT_EQ(code_of([&] { a.node.send_message(""); }), P2P_EINVAL);
    EXPECT_EQ(code_of([&] { a.node.send(pb, "[1, 2]"); }), P2P_EINVAL);
    EXPECT_EQ(code_of([&] { a.node.send_to_nodes("3"); }), P2P_EINVAL);
    EXPECT_EQ(code_of([&] { a.node.create_message("[]"); }), P2P_EINVAL);
    Peer nobody;
    nobody.handle = 987654321;
    EXPECT_EQ(a.node.try_send(nobody, R"({"x": 1})"), P2P_ENOPEER);
    EXPECT_EQ(a.node.try_send_ping(), P2P_OK);
}

// ---- Rejections -------------------------------------------------------------

TEST(SecureRejectsTest, UnsignedBytesAreMalformed) {
    Recorded a("raw-a", 0), b("raw-b", 1);
    Peer pb = link(a, b);

    const std::string bytes("\xff\x00 raw", 6);
    a.node.Node::send(pb, bytes);               // the plain API: unsigned
    static_cast<Node &>(a.node).send(pb, R"({"x": 1})");
    ASSERT_TRUE(b.wait_rejected(2));
    auto rej = b.rejected();
    EXPECT_EQ(rej[0].peer.id, "raw-a");
    EXPECT_EQ(rej[0].reject, Reject::malformed);
    EXPECT_EQ(rej[0].message.data(), bytes);
    EXPECT_TRUE(rej[0].message.is_bytes());
    EXPECT_NE(rej[0].reason, "");
    EXPECT_EQ(rej[1].reject, Reject::malformed);
    EXPECT_EQ(rej[1].message.data(), R"({"x": 1})");
    EXPECT_EQ(std::string(to_string(rej[1].reject)), "malformed");

    // The connection stays up.
    a.node.send_message(R"("still here")");
    ASSERT_TRUE(b.wait_secure(1));
    EXPECT_EQ(b.log.count(EventType::message), 0u);
}

TEST(SecureRejectsTest, TamperedCreatedMessageIsRejected) {
    Recorded a("tamper-a", 0), b("tamper-b", 1);
    Peer pb = link(a, b);

    std::string good = a.node.create_message(R"({"amount": 10, "to": "b"})");
    EXPECT_TRUE(contains(good, R"("_signature": ")"));
    CheckResult ok = SecureNode::check_message(good);
    EXPECT_TRUE(ok);
    EXPECT_EQ(ok.reject, Reject::none);
    EXPECT_EQ(ok.reason, "");

    std::string bad = good;
    auto at = bad.find(R"("amount": 10)");
    ASSERT_NE(at, std::string::npos);
    bad.replace(at, 12, R"("amount": 11)");
    CheckResult no = SecureNode::check_message(bad);
    EXPECT_FALSE(no);
    EXPECT_TRUE(no.reject == Reject::bad_signature || no.reject == Reject::bad_hash) << to_string(no.reject);
    EXPECT_NE(no.reason, "");
    EXPECT_EQ(SecureNode::check_message("not json").reject, Reject::malformed);
    EXPECT_EQ(SecureNode::check_message("").reject, Reject::malformed);
    EXPECT_EQ(SecureNode::check_message(R"({"a": 1})").reject, Reject::malformed);

    a.node.Node::send(pb, bad);
    ASSERT_TRUE(b.wait_rejected(1));
    Event r = b.rejected().at(0);
    EXPECT_TRUE(r.reject == Reject::bad_signature || r.reject == Reject::bad_hash) << to_string(r.reject);
    EXPECT_EQ(r.message.data(), bad);

    // The untampered message, sent raw, is accepted once; again, it is a replay.
    a.node.Node::send(pb, good);
    ASSERT_TRUE(b.wait_secure(1));
    EXPECT_EQ(b.secure().at(0).sender_id, "tamper-a");
    a.node.Node::send(pb, good);
    ASSERT_TRUE(b.wait_rejected(2));
    EXPECT_EQ(b.rejected().at(1).reject, Reject::replay);
}

// ---- Ping and discovery -----------------------------------------------------

TEST(SecurePingTest, StoresLatencyInPeerInfo) {
    Recorded a("ping-a", 0), b("ping-b", 1);
    Peer pb = link(a, b);
    Peer pa = inbound_peer(b, "ping-a");
    EXPECT_FALSE(a.node.get_info(pb, "ping").has_value());
    EXPECT_FALSE(a.node.ping(pb).has_value());

    a.node.send_ping();
    b.node.send_ping();
    std::optional<std::string> va, vb;
    ASSERT_TRUE(eventually([&] { return (va = a.node.get_info(pb, "ping")).has_value(); }));
    ASSERT_TRUE(eventually([&] { return (vb = b.node.get_info(pa, "ping")).has_value(); }));
    for (const std::string &v : {*va, *vb}) {
        char *end = nullptr;
        double s = std::strtod(v.c_str(), &end);
        EXPECT_EQ(*end, '\0') << v;
        EXPECT_GE(s, 0.0) << v;
    }
    // The same latency as a number, without parsing (p2p_peer_ping).
    std::optional<double> secs = a.node.ping(pb);
    ASSERT_TRUE(secs.has_value());
    EXPECT_GE(*secs, 0.0);
    EXPECT_EQ(code_of([&] { a.node.ping(Peer{}); }), P2P_ENOPEER);
    // Pings and pongs are the node's own business.
    EXPECT_EQ(a.log.count(EventType::secure_message), 0u);
    EXPECT_EQ(a.log.count(EventType::message_rejected), 0u);
    EXPECT_EQ(b.log.count(EventType::secure_message), 0u);
}

TEST(SecureDiscoveryTest, LineAnswersFromBothNodes) {
    Recorded a("line-a", 0), b("line-b", 1), c("line-c", 2);
    link(a, b); // a -> b -> c
    link(b, c);

    a.node.send_discovery();
    ASSERT_TRUE(a.log.wait([](const std::vector<Event> &ev) {
        bool from_b = false, from_c = false;
        for (auto &e : ev) {
            if (e.type != EventType::discovery_answer) continue;
            from_b = from_b || e.sender_id == "line-b";
            from_c = from_c || e.sender_id == "line-c";
        }
        return from_b && from_c;
    }));
    std::map<std::string, Event> answers;
    for (auto &e : a.log.of(EventType::discovery_answer)) answers.emplace(e.sender_id, e);

    auto find = [](const std::vector<DiscoveredNode> &ns, const std::string &id) -> const DiscoveredNode * {
        for (auto &n : ns)
            if (n.id == id) return &n;
        return nullptr;
    };
    const Event &eb = answers.at("line-b");
    EXPECT_EQ(eb.peer.id, "line-b");
    EXPECT_EQ(eb.msg_type, "discovery_answer");
    EXPECT_TRUE(eb.message.is_json());
    ASSERT_EQ(eb.nodes.size(), 2u);
    const DiscoveredNode *ba = find(eb.nodes, "line-a");
    const DiscoveredNode *bc = find(eb.nodes, "line-c");
    ASSERT_NE(ba, nullptr);
    ASSERT_NE(bc, nullptr);
    EXPECT_EQ(ba->direction, Direction::inbound);
    EXPECT_EQ(ba->port, a.node.port());
    EXPECT_EQ(ba->host, kLocal);
    EXPECT_EQ(bc->direction, Direction::outbound);
    EXPECT_EQ(bc->port, c.node.port());
    EXPECT_EQ(bc->host, kLocal);

    const Event &ec = answers.at("line-c");
    EXPECT_EQ(ec.peer.id, "line-b"); // relayed by b
    ASSERT_EQ(ec.nodes.size(), 1u);
    EXPECT_EQ(ec.nodes[0].id, "line-b");
    EXPECT_EQ(ec.nodes[0].port, b.node.port());
    EXPECT_EQ(ec.nodes[0].direction, Direction::inbound);

    DiscoveryAnswer da = ec.discovery_answer();
    EXPECT_EQ(da.sender_id, "line-c");
    EXPECT_EQ(da.payload, ec.message.data());
    ASSERT_EQ(da.nodes.size(), 1u);
    EXPECT_EQ(da.nodes[0].id, "line-b");
}

// ---- Pinning and configuration ----------------------------------------------

TEST(SecurePinningTest, WrongPinnedKeyIsKeyMismatch) {
    Recorded a("pin-a", 0), b("pin-b", 1);
    SecureNode other(kLocal, 0);
    other.key_pair_load(SecureKeys::path(2));
    const std::string wrong = other.public_key();
    const std::string right = a.node.public_key();
    ASSERT_NE(wrong, right);

    EXPECT_FALSE(b.node.pinned_key("pin-a").has_value());
    EXPECT_EQ(b.node.pinned_key("pin-b"), b.node.public_key()); // its own id
    b.node.pin("pin-a", wrong);
    EXPECT_EQ(b.node.pinned_key("pin-a"), wrong);
    EXPECT_EQ(code_of([&] { b.node.pin("pin-x", "not a key"); }), P2P_EINVAL);

    link(a, b);
    a.node.send_message(R"({"n": 1})");
    ASSERT_TRUE(b.wait_rejected(1));
    Event r = b.rejected().at(0);
    EXPECT_EQ(r.reject, Reject::key_mismatch);
    EXPECT_EQ(r.peer.id, "pin-a");
    EXPECT_NE(r.reason, "");

    // Unpinned, the next key seen is pinned (trust on first use).
    b.node.unpin("pin-a");
    EXPECT_FALSE(b.node.pinned_key("pin-a").has_value());
    a.node.send_message(R"({"n": 2})");
    ASSERT_TRUE(b.wait_secure(1));
    EXPECT_EQ(b.node.pinned_key("pin-a"), right);
}

TEST(SecurePinningTest, ConfigTrustedKeysOnlyAndMinKeyBits) {
    SecureConfig strict;
    strict.key_policy = KeyPolicy::trusted_keys_only;
    strict.replay_window = std::chrono::milliseconds(-1); // no timestamp checks
    p2p_secure_opts c = strict.to_c();
    EXPECT_EQ(c.size, sizeof(p2p_secure_opts));
    EXPECT_EQ(c.key_policy, P2P_TRUSTED_KEYS_ONLY);
    EXPECT_EQ(c.replay_window_ms, -1);
    EXPECT_EQ(c.max_clock_skew_ms, 0);

    Recorded a("cfg-a", 0), b("cfg-b", 1, strict);
    link(a, b);
    a.node.send_message("1");
    ASSERT_TRUE(b.wait_rejected(1));
    EXPECT_EQ(b.rejected().at(0).reject, Reject::untrusted_key);
    b.node.pin("cfg-a", a.node.public_key());
    a.node.send_message("2");
    ASSERT_TRUE(b.wait_secure(1));
    EXPECT_EQ(b.secure().at(0).sender_id, "cfg-a");

    SecureConfig big;
    big.min_key_bits = 4096; // our keys have 2048 bits
    Recorded d("cfg-d", 2, big);
    link(a, d);
    a.node.send_message("3");
    ASSERT_TRUE(d.wait_rejected(1));
    EXPECT_EQ(d.rejected().at(0).reject, Reject::weak_key);

    SecureConfig bad;
    bad.min_key_bits = -1;
    EXPECT_EQ(code_of([&] { SecureNode n(kLocal, 0, "", 0, bad); }), P2P_EINVAL);
    bad = SecureConfig{};
    bad.key_policy = static_cast<KeyPolicy>(42);
    EXPECT_EQ(code_of([&] { SecureNode n(kLocal, 0, "", 0, bad); }), P2P_EINVAL);
}

// ---- Types and styles -------------------------------------------------------

// A secure node is a node; a plain node has no secure calls at all.
static_assert(std::is_base_of<Node, SecureNode>::value, "SecureNode is a Node");
static_assert(!std::is_convertible<Node *, SecureNode *>::value, "a Node is no SecureNode");
static_assert(has_send_message<SecureNode>::value, "detection works");
static_assert(!has_send_message<Node>::value, "no secure calls on a plain Node");
static_assert(!std::is_copy_constructible<SecureNode>::value && std::is_nothrow_move_constructible<SecureNode>::value,
              "move-only, as Node");

TEST(SecureTypesTest, SecureNodeIsANodeAndTalksToPlainNodes) {
    // Moved before start, then used through a Node&. (The logs outlive the
    // nodes: a node's last events reach its callback while it stops.)
    EventLog slog, plog;
    SecureNode made(kLocal, 0, "moved-secure");
    made.key_pair_load(SecureKeys::path(0));
    SecureNode s = std::move(made);
    EXPECT_FALSE(static_cast<bool>(made));
    s.set_callback(slog.recorder());
    Node &as_node = s;
    as_node.start();
    EXPECT_EQ(as_node.id(), "moved-secure");

    // A plain node sees the signed JSON as an ordinary JSON message.
    Node plain(kLocal, 0, plog.recorder(), "plain");
    plain.start();
    Peer pp = s.connect(kLocal, plain.port());
    s.send_message(R"({"hi": "plain"})");
    ASSERT_TRUE(plog.wait_count(EventType::message, 1));
    Message m = plog.messages().at(0);
    EXPECT_TRUE(m.is_json());
    EXPECT_TRUE(contains(m.data(), R"("_signature": ")"));
    EXPECT_TRUE(SecureNode::check_message(m.data()).ok());

    // What the plain node sends is unsigned: rejected.
    ASSERT_TRUE(plog.wait_count(EventType::inbound_connected, 1));
    plain.send(plog.of(EventType::inbound_connected).at(0).peer, R"({"hi": "secure"})");
    ASSERT_TRUE(slog.wait_count(EventType::message_rejected, 1));
    EXPECT_EQ(slog.of(EventType::message_rejected).at(0).reject, Reject::malformed);
    EXPECT_EQ(slog.count(EventType::message), 0u);
    (void)pp;
}

namespace {
// The derive-and-override style.
struct Derived : SecureNode {
    using SecureNode::SecureNode;
    ~Derived() override { stop(); }

    std::mutex mu;
    std::vector<SecureMessage> got;
    std::vector<std::pair<Reject, std::string>> refused;
    std::vector<DiscoveryAnswer> answers;

    void on_secure_message(const Peer &, const SecureMessage &m) override {
        std::lock_guard<std::mutex> lk(mu);
        got.push_back(m);
    }
    void on_message_rejected(const Peer &, const Message &raw, Reject r, const std::string &) override {
        std::lock_guard<std::mutex> lk(mu);
        refused.emplace_back(r, raw.data());
    }
    void on_discovery_answer(const Peer &, const DiscoveryAnswer &a) override {
        std::lock_guard<std::mutex> lk(mu);
        answers.push_back(a);
    }
    template <class F> bool wait(F pred) {
        return eventually([&] {
            std::lock_guard<std::mutex> lk(mu);
            return pred();
        });
    }
};
} // namespace

TEST(SecureStylesTest, OverridesAndHandlers) {
    Derived d(kLocal, 0, "derived");
    d.key_pair_load(SecureKeys::path(0));
    d.start();

    SecureNode h(kLocal, 0, "handled");
    h.key_pair_load(SecureKeys::path(1));
    std::mutex mu;
    std::vector<SecureMessage> got;
    std::vector<Reject> refused;
    std::vector<DiscoveryAnswer> answers;
    h.set_secure_message_handler([&](const Peer &p, const SecureMessage &m) {
        EXPECT_EQ(p.id, "derived");
        std::lock_guard<std::mutex> lk(mu);
        got.push_back(m);
    });
    h.set_message_rejected_handler([&](const Peer &, const Message &, Reject r, const std::string &why) {
        EXPECT_NE(why, "");
        std::lock_guard<std::mutex> lk(mu);
        refused.push_back(r);
    });
    h.set_discovery_answer_handler([&](const Peer &, const DiscoveryAnswer &a) {
        std::lock_guard<std::mutex> lk(mu);
        answers.push_back(a);
    });
    h.start();
    Peer ph = d.connect(kLocal, h.port());
    auto locked = [&](auto pred) {
        return eventually([&] {
            std::lock_guard<std::mutex> lk(mu);
            return pred();
        });
    };

    d.send_message(R"({"to": "handled"})");
    d.Node::send(ph, "unsigned");
    d.send_discovery();
    ASSERT_TRUE(locked([&] { return got.size() == 1 && refused.size() == 1; }));
    EXPECT_EQ(got[0].sender_id, "derived");
    EXPECT_EQ(got[0].type, "message");
    EXPECT_EQ(refused[0], Reject::malformed);
    ASSERT_TRUE(d.wait([&] { return d.answers.size() == 1; }));
    EXPECT_EQ(d.answers[0].sender_id, "handled");
    ASSERT_EQ(d.answers[0].nodes.size(), 1u);
    EXPECT_EQ(d.answers[0].nodes[0].id, "derived");

    ASSERT_TRUE(eventually([&] { return !h.all_peers().empty(); }));
    Peer pd = h.all_peers().at(0);
    h.send(pd, R"({"back": true})");
    h.Node::send(pd, "unsigned too");
    h.send_discovery();
    ASSERT_TRUE(d.wait([&] { return d.got.size() == 1 && d.refused.size() == 1; }));
    EXPECT_EQ(d.got[0].sender_id, "handled");
    EXPECT_TRUE(contains(d.got[0].payload, R"("back": true)"));
    EXPECT_EQ(d.refused[0], std::make_pair(Reject::malformed, std::string("unsigned too")));
    ASSERT_TRUE(locked([&] { return answers.size() == 1; }));
    EXPECT_EQ(answers[0].sender_id, "derived");
}

// ---- p2psecure's helpers ------------------------------------------------------

TEST(SecureHelpersTest, RsaSignaturesAndKeys) {
    SecureNode a(kLocal, 0, "helper-a"), b(kLocal, 0, "helper-b");
    a.key_pair_load(SecureKeys::path(0));
    b.key_pair_load(SecureKeys::path(1));
    std::string priv = a.private_key();
    EXPECT_EQ(priv.rfind("-----BEGIN RSA PRIVATE KEY-----\n", 0), 0u);
    EXPECT_TRUE(contains(priv, "-----END RSA PRIVATE KEY-----"));

    const std::string secret("geheim\0!", 8);
    std::string ct = SecureNode::encrypt(secret, b.public_key());
    EXPECT_EQ(ct.size(), 344u); // base64 of 256 bytes
    EXPECT_EQ(b.decrypt(ct), secret);
    EXPECT_EQ(code_of([&] { a.decrypt(ct); }), P2P_EINVAL); // not for a's key
    EXPECT_EQ(code_of([&] { SecureNode::encrypt("x", "not a key"); }), P2P_EINVAL);
    EXPECT_EQ(a.decrypt(SecureNode::encrypt("", priv)), ""); // a private PEM encrypts to its public half

    std::string sig = a.sign("hello");
    EXPECT_EQ(sig, a.sign("hello")); // PKCS#1 v1.5 signatures are deterministic
    EXPECT_TRUE(SecureNode::verify("hello", a.public_key(), sig));
    EXPECT_FALSE(SecureNode::verify("hellO", a.public_key(), sig));
    EXPECT_FALSE(SecureNode::verify("hello", b.public_key(), sig));
    EXPECT_FALSE(SecureNode::verify("hello", a.public_key(), "!!"));
    EXPECT_EQ(code_of([&] { SecureNode::verify("hello", "nope", sig); }), P2P_EINVAL);

    EXPECT_EQ(SecureNode::canonical(R"({"b":1,"a":[1.0,"é"]})"), R"({"a": [1.0, "\u00e9"], "b": 1})");
    std::string sd = a.sign_data(R"({"b": 1, "a": 2})");
    EXPECT_EQ(sd, a.sign(R"({"a": 2, "b": 1})"));
    EXPECT_TRUE(SecureNode::verify_data(R"({"a":2,"b":1})", a.public_key(), sd));
    EXPECT_EQ(code_of([&] { SecureNode::canonical("{"); }), P2P_EINVAL);
    // p2psecure's _hash: SHA-512 hex of the canonical text (hashlib computed it).
    EXPECT_EQ(SecureNode::hash(R"({"b":1,"a":2})"),
              "3bc77d690faa64f50ae49c54e6975e0d38d0f7ecb7f4e2e046e32836c7c870f9"
              "374ed0a5f2420b9a056cfd353624b766fdef3945dae9cce4ec9da6f03e028dd8");
    EXPECT_EQ(code_of([&] { SecureNode::hash("{"); }), P2P_EINVAL);

    SecureNode keyless(kLocal, 0);
    EXPECT_EQ(code_of([&] { keyless.sign("x"); }), P2P_EKEY);
    EXPECT_EQ(code_of([&] { keyless.private_key(); }), P2P_EKEY);
}

TEST(SecureHelpersTest, PasswordKeysAndAes) {
    // PyCryptodome: PBKDF2(b"password", b"salt", 32).hex()
    const std::string key = SecureNode::encryption_key_from_password("salt", "password", 32);
    static const unsigned char want[] = {0x6e, 0x88, 0xbe, 0x8b, 0xad, 0x7e, 0xae, 0x9d};
    ASSERT_EQ(key.size(), 32u);
    EXPECT_EQ(std::memcmp(key.data(), want, sizeof want), 0);
    EXPECT_EQ(SecureNode::encrypt_aes_pad("abc"), std::string("abc") + std::string(13, '\0'));
    EXPECT_EQ(SecureNode::encrypt_aes_pad(std::string(16, 'x')).size(), 32u);

    for (std::size_t n : {0, 9, 16, 100}) {
        std::string plain(n, 'p');
        std::string ct = SecureNode::encrypt_aes(plain, key);
        EXPECT_EQ(ct.size(), 16 + n + 16 - n % 16);
        EXPECT_EQ(SecureNode::decrypt_aes(ct, key), plain);
        std::string pw = SecureNode::encrypt_aes_pw(plain, "this is the passwd");
        EXPECT_EQ(pw.size(), 48 + n + 16 - n % 16); // padded twice, as p2psecure
        EXPECT_EQ(SecureNode::decrypt_aes_pw(pw, "this is the passwd"), plain);
    }
    EXPECT_EQ(SecureNode::decrypt_aes(SecureNode::encrypt_aes(std::string("ab\0\0", 4), key), key), "ab");
    EXPECT_EQ(code_of([&] { SecureNode::encrypt_aes("x", "short"); }), P2P_EINVAL);
    EXPECT_EQ(code_of([&] { SecureNode::decrypt_aes(std::string(20, 'x'), key); }), P2P_EINVAL);

    const std::string f = temp_dir().file("data.enc"), fpw = temp_dir().file("data-pw.enc");
    SecureNode::encrypt_aes_file(f, "Hallo", key);
    SecureNode::encrypt_aes_file_pw(fpw, "Hallo Maurice Snoeren", "password123");
    struct stat st;
    ASSERT_EQ(::stat(fpw.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(SecureNode::decrypt_aes_file(f, key), "Hallo");
    EXPECT_EQ(SecureNode::decrypt_aes_file_pw(fpw, "password123"), "Hallo Maurice Snoeren");
    EXPECT_EQ(code_of([&] { SecureNode::decrypt_aes_file(temp_dir().file("missing"), key); }), P2P_EKEY);
    EXPECT_EQ(code_of([&] { SecureNode::encrypt_aes_file("/nonexistent/dir/x", "x", key); }), P2P_EKEY);
}

// ---- Delegating ping and discovery ---------------------------------------------

namespace {

// Answers pings and discoveries itself, step by step, as a p2psecure
// subclass that overrides received_ping and received_discovery.
class Delegating : public SecureNode {
public:
    explicit Delegating(const std::string &id) : SecureNode(kLocal, 0, id) {
        key_pair_load(SecureKeys::path(1));
        set_delegate(delegate_ping | delegate_discovery);
        start();
    }
    ~Delegating() override { try_stop(); }
    std::atomic<int> pings{0}, discoveries{0}, repeats{0}, others{0};

protected:
    void on_secure_message(const Peer &peer, const SecureMessage &m) override {
        if (m.type == "ping") {
            ++pings;
            handle_step(peer, Step::received_ping, m.payload);
        } else if (m.type == "discovery") {
            ++discoveries;
            if (handle_step(peer, Step::route_discovery, m.payload) == P2P_OK)
                handle_step(peer, Step::send_discovery_answer, m.payload);
            else
                ++repeats;
        } else {
            ++others;
        }
    }
};

} // namespace

TEST(SecureDelegateTest, PingAndDiscoveryHandledStepByStep) {
    Recorded a("deleg-a", 0);
    Delegating b("deleg-b");
    Peer pb = a.node.connect(kLocal, b.port());
    ASSERT_TRUE(eventually([&] { return b.all_peers().size() == 1; }));
    a.node.send_ping();
    ASSERT_TRUE(eventually([&] { return a.node.get_info(pb, "ping").has_value(); }));
    EXPECT_EQ(b.pings.load(), 1);
    a.node.send_discovery();
    ASSERT_TRUE(a.log.wait_count(EventType::discovery_answer, 1));
    EXPECT_EQ(a.log.of(EventType::discovery_answer)[0].discovery_answer().sender_id, "deleg-b");
    EXPECT_EQ(b.discoveries.load(), 1);
    a.node.send_message("1");
    ASSERT_TRUE(eventually([&] { return b.others.load() == 1; })); // messages come as before
    EXPECT_EQ(code_of([&] { b.set_delegate(64); }), P2P_EINVAL);
    Peer pa = b.all_peers().at(0);
    EXPECT_EQ(code_of([&] { b.handle_step(pa, Step::send_pong, "[]"); }), P2P_EINVAL);
    EXPECT_EQ(b.handle_step(pa, Step::relay_discovery_answer,
                            R"({"id": "nobody", "timestamp": 1, "nodes": []})"),
              P2P_ENOTFOUND);
}
