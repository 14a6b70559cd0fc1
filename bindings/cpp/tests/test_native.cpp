// The native protocol through the C++ binding (ABI 0.4): encryption modes, the
// identity key, trust on first use, pins and the allow-list. Real loopback
// sockets, port 0; waits on conditions with deadlines.
#include "helpers.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace p2pnode;
using testing_p2p::EventLog;
using testing_p2p::TempPath;
using testing_p2p::code_of;
using testing_p2p::eventually;
using testing_p2p::kLocal;

namespace {

// A started node in a mode that records every event.
struct Recorded {
    EventLog log;
    Node node;
    explicit Recorded(Encryption mode = Encryption::preferred, const std::string &id = {})
        : node(kLocal, 0, log.recorder(), id, 0, mode) {
        node.start();
    }
    Recorded(Recorded &&) = delete;
    Peer first_inbound() {
        EXPECT_TRUE(log.wait_count(EventType::inbound_connected, 1));
        auto in = log.of(EventType::inbound_connected);
        return in.empty() ? Peer{} : in.front().peer;
    }
};

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST(Native, ModeLimitsAndKey) {
    Node n(kLocal, 0);
    EXPECT_EQ(n.encryption(), Encryption::preferred);
    EXPECT_EQ(n.public_key().size(), 32u);
    n.set_encryption(Encryption::required);
    EXPECT_EQ(n.encryption(), Encryption::required);
    EXPECT_EQ(n.limit(Limit::encryption), P2P_ENCRYPTION_REQUIRED);
    n.set_limit(Limit::heartbeat_interval_ms, 200);
    EXPECT_EQ(n.limit(Limit::heartbeat_interval_ms), 200);
    n.set_limit(Limit::heartbeat_timeout_ms, 700);
    EXPECT_EQ(n.limit(Limit::heartbeat_timeout_ms), 700);
    n.set_limit(Limit::negotiation_wait_ms, 500);
    EXPECT_EQ(n.limit(Limit::negotiation_wait_ms), 500);
    Node off(kLocal, 0, "", 0, Encryption::off);
    EXPECT_EQ(off.encryption(), Encryption::off);
    EXPECT_NE(off.public_key(), n.public_key());
    n.start();
    EXPECT_EQ(code_of([&] { n.set_encryption(Encryption::off); }), P2P_ESTATE);
    EXPECT_EQ(code_of([&] { n.pin("x", std::string(31, 'k')); }), P2P_EINVAL);
}

TEST(Native, EncryptedLinkCarriesEachOthersKey) {
    Recorded a, b;
    Peer out = a.node.connect(kLocal, b.node.port());
    EXPECT_TRUE(out.encrypted);
    EXPECT_EQ(out.peer_key, b.node.public_key());
    Peer in = b.first_inbound();
    EXPECT_TRUE(in.encrypted);
    EXPECT_EQ(in.peer_key, a.node.public_key());
    auto listed = b.node.inbound_peers();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_TRUE(listed[0].encrypted);
    EXPECT_EQ(listed[0].peer_key, a.node.public_key());
    // The outbound connected event has the facts too.
    ASSERT_TRUE(a.log.wait_count(EventType::outbound_connected, 1));
    EXPECT_EQ(a.log.of(EventType::outbound_connected)[0].peer.peer_key, b.node.public_key());
    a.node.send(out, "over TLS");
    ASSERT_TRUE(b.log.wait_count(EventType::message, 1));
    EXPECT_EQ(b.log.messages()[0].data(), "over TLS");
    // Trust on first use: each pinned the other's key.
    EXPECT_EQ(a.node.pinned_key(b.node.id()), b.node.public_key());
    EXPECT_EQ(b.node.pinned_key(a.node.id()), a.node.public_key());
    EXPECT_EQ(a.node.pinned_key("nobody"), std::nullopt);
}

TEST(Native, OffIsPlaintext) {
    Recorded a(Encryption::off), b;
    Peer out = a.node.connect(kLocal, b.node.port());
    EXPECT_FALSE(out.encrypted);
    EXPECT_TRUE(out.peer_key.empty());
    Peer in = b.first_inbound();
    EXPECT_FALSE(in.encrypted);
    EXPECT_TRUE(in.peer_key.empty());
    a.node.send(out, "in the clear");
    ASSERT_TRUE(b.log.wait_count(EventType::message, 1));
    EXPECT_EQ(b.log.messages()[0].data(), "in the clear");
}

TEST(Native, RequiredRefusesOff) {
    Recorded required(Encryption::required), off(Encryption::off);
    EXPECT_EQ(code_of([&] { required.node.connect(kLocal, off.node.port()); }), P2P_EREFUSED);
    EXPECT_TRUE(required.node.all_peers().empty());
    // The other way the off node dials as p2pnetwork would: it may get the id, then the reset.
    int rc = off.node.try_connect(kLocal, required.node.port());
    if (rc == P2P_OK) {
        EXPECT_TRUE(off.log.wait_count(EventType::outbound_disconnected, 1));
    }
    EXPECT_TRUE(eventually([&] { return off.node.all_peers().empty(); }));
    EXPECT_EQ(required.log.count(EventType::inbound_connected), 0u);
    // The required node goes on serving native peers.
    Recorded c;
    EXPECT_TRUE(c.node.connect(kLocal, required.node.port()).encrypted);
}

TEST(Native, WrongPinnedKeyIsRefused) {
    Recorded a, b(Encryption::preferred, "bee"), other;
    a.node.pin("bee", other.node.public_key());
    EXPECT_EQ(a.node.pinned_key("bee"), other.node.public_key());
    EXPECT_EQ(code_of([&] { a.node.connect(kLocal, b.node.port()); }), P2P_EREFUSED);
    EXPECT_TRUE(a.node.all_peers().empty());
    // With the right pin the same dial succeeds.
    a.node.pin("bee", b.node.public_key());
    EXPECT_EQ(a.node.connect(kLocal, b.node.port()).peer_key, b.node.public_key());
}

TEST(Native, AllowListAdmitsOnlyItsKeys) {
    Recorded b, c, off(Encryption::off);
    Node a(kLocal, 0);
    a.allow(b.node.public_key());
    a.allow(c.node.public_key(), c.node.id());
    EXPECT_EQ(code_of([&] { a.allow("short"); }), P2P_EINVAL);
    a.start();
    EXPECT_TRUE(a.connect(kLocal, b.node.port()).encrypted);
    EXPECT_TRUE(a.connect(kLocal, c.node.port()).encrypted);
    Recorded stranger;
    EXPECT_EQ(code_of([&] { a.connect(kLocal, stranger.node.port()); }), P2P_EREFUSED);
    EXPECT_EQ(code_of([&] { a.connect(kLocal, off.node.port()); }), P2P_EREFUSED);
    EXPECT_EQ(a.all_peers().size(), 2u);
}

TEST(Native, IdentitySaveLoadSet) {
    TempPath file("node.key");
    std::string key;
    {
        Node first(kLocal, 0);
        key = first.public_key();
        first.save_identity(file.path);
    }
    struct stat st {};
    ASSERT_EQ(stat(file.path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::string pem = read_file(file.path);
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);

    Recorded loaded, peer;
    EXPECT_EQ(code_of([&] { loaded.node.load_identity(file.path); }), P2P_ESTATE); // started
    Node fresh(kLocal, 0);
    fresh.load_identity(file.path);
    EXPECT_EQ(fresh.public_key(), key);
    fresh.start();
    EXPECT_EQ(fresh.connect(kLocal, peer.node.port()).encrypted, true);
    EXPECT_EQ(peer.first_inbound().peer_key, key); // the peer sees the saved identity

    Node from_pem(kLocal, 0);
    from_pem.set_identity(pem);
    EXPECT_EQ(from_pem.public_key(), key);
    EXPECT_EQ(code_of([&] { from_pem.set_identity("not a key"); }), P2P_EINVAL);
    EXPECT_EQ(code_of([&] { from_pem.load_identity(file.dir + "/missing"); }), P2P_EKEY);
}
