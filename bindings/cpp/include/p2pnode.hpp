// p2pnode.hpp - the C++17 binding of p2pnode, a peer-to-peer node library.
//
// One header over the C ABI (p2pnode.h), in the manner of cppzmq: RAII types,
// a move-only Node, an exception carrying the C status code, and thin inline
// calls with no protocol logic of their own.
//
// Two styles, as in the Python package p2pnetwork:
//
//     struct MyNode : p2pnode::Node {                // 1. derive and override
//         using Node::Node;
//         ~MyNode() override { stop(); }             //    (see "Deriving" below)
//         void on_message(const p2pnode::Peer& p, const p2pnode::Message& m) override {
//             std::cout << p.id << " says " << m.data() << "\n";
//         }
//     };
//
//     p2pnode::Node node("127.0.0.1", 0);            // 2. handlers, or one callback
//     node.set_message_handler([](const p2pnode::Peer& p, const p2pnode::Message& m) { ... });
//     node.set_callback([](const p2pnode::Event& ev) { ...; return true; });
//     node.start();
//     p2pnode::Peer peer = node.connect("127.0.0.1", 8002);
//     node.send(peer, "hello");
//
// p2pnode::SecureNode (at the end of this header) is a Node whose messages
// are signed JSON objects, as the Python package p2psecure's SecureNode.
//
// Events arrive on the node's event thread, one at a time, in order. A
// handler may call any method of the node (send, connect, disconnect, stop).
// An exception thrown by a handler never crosses into the C library: it is
// reported on standard error and the node goes on (for on_reconnection_error
// it answers true, the default).
//
// Deriving. The default event methods call the handler set for that event,
// else the one callback, else do nothing (on_reconnection_error: true). A
// derived class that overrides event methods must call stop() in its own
// destructor: events raised while the node stops are then delivered to it
// while it is still whole. (~Node stops the node too, but by then the derived
// part is gone and its overrides are no longer called.) For the same reason
// move a derived node only while no event can arrive (before start(), or
// while its network is quiet): its own members are moved after the Node part.
// A Node whose state is its handlers may be moved at any time: an event being
// delivered during the move finishes first, and the next goes to the new
// address (Event::node tells it).
#ifndef P2PNODE_HPP
#define P2PNODE_HPP

#include <p2pnode.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace p2pnode {

// ---- Enumerations -----------------------------------------------------------

enum class Compression : int {
    none = P2P_COMPRESSION_NONE, zlib = P2P_COMPRESSION_ZLIB, bzip2 = P2P_COMPRESSION_BZIP2,
    lzma = P2P_COMPRESSION_LZMA,
};

// How a received payload is presented, by p2pnetwork's rule.
enum class Kind : int {
    json = P2P_KIND_JSON,   // UTF-8 text that parses as one JSON value
    text = P2P_KIND_TEXT,   // other UTF-8 text
    bytes = P2P_KIND_BYTES, // not valid UTF-8
};

enum class Direction : int {
    inbound = P2P_INBOUND, outbound = P2P_OUTBOUND, all = P2P_ALL,
};

enum class EventType : int {
    outbound_connected = P2P_EVENT_OUTBOUND_CONNECTED, inbound_connected = P2P_EVENT_INBOUND_CONNECTED,
    outbound_disconnected = P2P_EVENT_OUTBOUND_DISCONNECTED, inbound_disconnected = P2P_EVENT_INBOUND_DISCONNECTED,
    message = P2P_EVENT_MESSAGE, disconnect_with_outbound = P2P_EVENT_DISCONNECT_WITH_OUTBOUND,
    request_to_stop = P2P_EVENT_REQUEST_TO_STOP, reconnection_error = P2P_EVENT_RECONNECTION_ERROR,
    // A SecureNode raises these three instead of message.
    secure_message = P2P_EVENT_SECURE_MESSAGE,     // a signed message that passed every check
    message_rejected = P2P_EVENT_MESSAGE_REJECTED, // a message that failed a check
    discovery_answer = P2P_EVENT_DISCOVERY_ANSWER, // an answer to SecureNode::send_discovery
};

enum class Limit : int {
    max_connections = P2P_LIMIT_MAX_CONNECTIONS, handshake_timeout_ms = P2P_LIMIT_HANDSHAKE_TIMEOUT_MS,
    dial_timeout_ms = P2P_LIMIT_DIAL_TIMEOUT_MS, max_frame_size = P2P_LIMIT_MAX_FRAME_SIZE,
    max_decompressed_size = P2P_LIMIT_MAX_DECOMPRESSED_SIZE, max_queued_bytes = P2P_LIMIT_MAX_QUEUED_BYTES,
    send_timeout_ms = P2P_LIMIT_SEND_TIMEOUT_MS, reconnect_interval_ms = P2P_LIMIT_RECONNECT_INTERVAL_MS,
    max_pending_events = P2P_LIMIT_MAX_PENDING_EVENTS,
    overflow_policy = P2P_LIMIT_OVERFLOW_POLICY, // an OverflowPolicy
    max_queued_bytes_total = P2P_LIMIT_MAX_QUEUED_BYTES_TOTAL,
    max_queued_bytes_per_address = P2P_LIMIT_MAX_QUEUED_BYTES_PER_ADDRESS,
    stop_timeout_ms = P2P_LIMIT_STOP_TIMEOUT_MS, max_pending_handshakes = P2P_LIMIT_MAX_PENDING_HANDSHAKES,
    max_pending_handshakes_per_address = P2P_LIMIT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
    idle_eviction_ms = P2P_LIMIT_IDLE_EVICTION_MS, max_pending_bytes = P2P_LIMIT_MAX_PENDING_BYTES,
    max_pending_bytes_per_address = P2P_LIMIT_MAX_PENDING_BYTES_PER_ADDRESS,
};

// What a send does when a queue is full (p2p_overflow_policy; Limit::overflow_policy).
enum class OverflowPolicy : int {
    wait = P2P_OVERFLOW_WAIT,               // wait up to the send timeout, then P2P_EFULL
    drop_newest = P2P_OVERFLOW_DROP_NEWEST, // P2P_EFULL at once
    drop_oldest = P2P_OVERFLOW_DROP_OLDEST, // discard the oldest queued; the send succeeds
    disconnect = P2P_OVERFLOW_DISCONNECT,   // disconnect the peer; P2P_EFULL
};

// The event's name (p2p_event_name): p2pnetwork's ("node_message", ...),
// and "secure_message", "message_rejected", "discovery_answer".
inline const char *to_string(EventType t) noexcept {
    const char *n = p2p_event_name(static_cast<int>(t));
    return n != nullptr ? n : "unknown_event";
}

// Why a SecureNode rejected a message (p2p_reject); none: it was not.
enum class Reject : int {
    none = P2P_REJECT_NONE,
    malformed = P2P_REJECT_MALFORMED,           // not a JSON object, or a field missing or of the wrong type
    bad_signature = P2P_REJECT_BAD_SIGNATURE,   // _signature does not verify with _public_key
    bad_hash = P2P_REJECT_BAD_HASH,             // _hash is not the hash of the message
    bad_message_id = P2P_REJECT_BAD_MESSAGE_ID, // _message_id is not the hash of the message
    key_mismatch = P2P_REJECT_KEY_MISMATCH,     // the key differs from the one pinned for its _id
    untrusted_key = P2P_REJECT_UNTRUSTED_KEY,   // no trusted key for its _id
    weak_key = P2P_REJECT_WEAK_KEY,             // the key is smaller than min_key_bits
    replay = P2P_REJECT_REPLAY,                 // this _message_id was accepted before
    stale = P2P_REJECT_STALE,                   // _timestamp is older than the replay window
    future = P2P_REJECT_FUTURE,                 // _timestamp is further ahead than the clock skew allows
};

// Which public key a SecureNode accepts for a sender's node id.
enum class KeyPolicy : int {
    trust_on_first_use = P2P_TRUST_ON_FIRST_USE, // pin the first key seen per id (default)
    trusted_keys_only = P2P_TRUSTED_KEYS_ONLY,   // accept only ids pinned with SecureNode::pin
    no_pinning = P2P_NO_PINNING,                 // any key that verifies, as p2psecure
};

// The message types a SecureNode hands to on_secure_message instead of
// handling them itself (SecureNode::set_delegate), or-ed.
enum Delegate : int {
    delegate_ping = P2P_DELEGATE_PING, delegate_pong = P2P_DELEGATE_PONG, delegate_discovery = P2P_DELEGATE_DISCOVERY,
    delegate_discovery_answer = P2P_DELEGATE_DISCOVERY_ANSWER,
};

// The steps of a SecureNode's own handling of a delegated message
// (SecureNode::handle_step; p2p_secure_step).
enum class Step : int {
    received_ping = P2P_STEP_RECEIVED_PING, send_pong = P2P_STEP_SEND_PONG, received_pong = P2P_STEP_RECEIVED_PONG,
    received_discovery = P2P_STEP_RECEIVED_DISCOVERY, route_discovery = P2P_STEP_ROUTE_DISCOVERY,
    send_discovery_answer = P2P_STEP_SEND_DISCOVERY_ANSWER, relay_discovery_answer = P2P_STEP_RELAY_DISCOVERY_ANSWER,
};

// The formats SecureNode::key_pair_save writes.
enum class KeyFormat : int {
    // PBKDF2-HMAC-SHA256 (600000) + AES-256-GCM; without a password a plain PKCS#8 PEM.
    p2pnode = P2P_KEY_FORMAT_P2PNODE,
    // p2psecure's key_pair_save format (weak: PBKDF2-SHA1 1000, AES-CBC); needs a password.
    p2psecure = P2P_KEY_FORMAT_P2PSECURE,
};

// The names of the header (p2p_reject_name, p2p_compression_name).
inline const char *to_string(Reject r) noexcept {
    const char *n = p2p_reject_name(static_cast<int>(r));
    return n != nullptr ? n : "unknown";
}
inline const char *to_string(Compression c) noexcept {
    const char *n = p2p_compression_name(static_cast<int>(c));
    return n != nullptr ? n : "unknown";
}
// The codec named name ("zlib", ...; "" is none), if there is one.
inline std::optional<Compression> compression_from_name(const std::string &name) noexcept {
    int c = 0;
    if (p2p_compression_from_name(name.c_str(), &c) != P2P_OK) return std::nullopt;
    return static_cast<Compression>(c);
}

inline const char *to_string(Kind k) noexcept {
    switch (k) {
    case Kind::json: return "json";
    case Kind::text: return "text";
    case Kind::bytes: return "bytes";
    }
    return "unknown";
}

// ---- Errors -----------------------------------------------------------------

// Error is thrown by every call that fails: code() is the C status (P2P_E*),
// what() the library's message for the failure. A SecureNode adds two codes:
// P2P_EKEY (no key yet, or a key file that cannot be read or written) and
// P2P_EREJECTED (a message failed its checks; what() says why).
class Error : public std::runtime_error {
public:
    Error(int code, const std::string &message) : std::runtime_error(message), code_(code) {}

    // The message the library left for this thread's last failed call, or
    // the code's description when there is none. Call right after the failure.
    explicit Error(int code) : Error(code, last_message(code)) {}

    int code() const noexcept { return code_; }
    // The static description of the code ("no such peer", ...).
    const char *name() const noexcept { return p2p_strerror(code_); }

    static std::string last_message(int code) {
        const char *m = p2p_errmsg();
        if (m != nullptr && *m != '\0') return m;
        const char *s = p2p_strerror(code);
        return s != nullptr ? s : "p2pnode error";
    }

private:
    int code_;
};

namespace detail {
inline void check(int rc) {
    if (rc != P2P_OK) throw Error(rc);
}
inline std::string str(const char *s) { return s != nullptr ? std::string(s) : std::string(); }
inline std::string str(const char *s, std::size_t n) { return s != nullptr ? std::string(s, n) : std::string(); }

// A p2p_buf the library fills, released when it goes out of scope.
struct Buf {
    p2p_buf b = P2P_BUF_INIT;
    Buf() = default;
    Buf(const Buf &) = delete;
    Buf &operator=(const Buf &) = delete;
    ~Buf() { p2p_buf_free(&b); }
    std::string str() const { return detail::str(reinterpret_cast<const char *>(b.data), b.len); }
};
// The bytes f(p2p_buf *) hands out; Error for any failure. With optional,
// P2P_ENOTFOUND gives std::nullopt instead.
template <class F> std::string take(F f) {
    Buf buf;
    check(f(&buf.b));
    return buf.str();
}
// The value f(T *) stores; Error for any failure.
template <class T, class F> T get(F f) {
    T v{};
    check(f(&v));
    return v;
}
template <class F> std::optional<std::string> take_optional(F f) {
    Buf buf;
    int rc = f(&buf.b);
    if (rc == P2P_ENOTFOUND) return std::nullopt;
    check(rc);
    return buf.str();
}
} // namespace detail

// The library's version, "MAJOR.MINOR.PATCH".
inline std::string version() { return detail::str(p2p_version()); }

// ---- Values -----------------------------------------------------------------

// A view of bytes to send: converts from text (std::string, std::string_view,
// const char*) and from byte containers (std::vector<uint8_t>, std::vector<char>).
// It does not own the bytes; the library copies them during the call.
class Payload {
public:
    Payload() noexcept = default;
    Payload(const void *data, std::size_t size) noexcept : data_(data), size_(size) {}
    Payload(std::string_view s) noexcept : data_(s.data()), size_(s.size()) {}
    Payload(const std::string &s) noexcept : data_(s.data()), size_(s.size()) {}
    Payload(const char *s) : Payload(std::string_view(s != nullptr ? s : "")) {}
    Payload(const std::vector<std::uint8_t> &v) noexcept : data_(v.data()), size_(v.size()) {}
    Payload(const std::vector<char> &v) noexcept : data_(v.data()), size_(v.size()) {}

    const void *data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    const void *data_ = nullptr;
    std::size_t size_ = 0;
};

// A peer of a node, as a value: its handle (what send and disconnect take)
// and what was known of it when the value was made.
struct Peer {
    std::uint64_t handle = 0;
    std::string id;
    std::string host;
    int port = 0;
    Direction direction = Direction::inbound;

    bool inbound() const noexcept { return direction == Direction::inbound; }
    bool outbound() const noexcept { return direction == Direction::outbound; }
    friend bool operator==(const Peer &a, const Peer &b) noexcept { return a.handle == b.handle; }
    friend bool operator!=(const Peer &a, const Peer &b) noexcept { return a.handle != b.handle; }
};

// A received message: its exact bytes, how p2pnetwork would present them
// (JSON value, text, bytes) and the codec it travelled with.
class Message {
public:
    Message() = default;
    Message(std::string data, Kind kind, Compression compression)
        : data_(std::move(data)), kind_(kind), compression_(compression) {}

    Kind kind() const noexcept { return kind_; }
    Compression compression() const noexcept { return compression_; }
    bool is_json() const noexcept { return kind_ == Kind::json; }
    bool is_text() const noexcept { return kind_ == Kind::text; }
    bool is_bytes() const noexcept { return kind_ == Kind::bytes; }

    // The exact bytes (for json and text: the UTF-8 text).
    const std::string &data() const noexcept { return data_; }
    const std::string &text() const noexcept { return data_; }
    std::string_view view() const noexcept { return data_; }
    std::vector<std::uint8_t> bytes() const { return {data_.begin(), data_.end()}; }
    std::size_t size() const noexcept { return data_.size(); }
    bool empty() const noexcept { return data_.empty(); }

    operator Payload() const noexcept { return Payload(data_); }

private:
    std::string data_;
    Kind kind_ = Kind::bytes;
    Compression compression_ = Compression::none;
};

// ---- Secure values (SecureNode) ----------------------------------------------

// A signed message that passed every check, as a SecureNode received it. It
// does not depend on the neighbour it came through (the Peer of the event),
// which need not be its signer.
struct SecureMessage {
    std::string sender_id; // the signer's node id (_id)
    std::string type;      // _type: "message" for send_message, or the application's own
    std::string payload;   // the whole signed JSON object as received (underscore fields included)
};

// One peer of a node that answered a discovery, as that node sees it.
struct DiscoveredNode {
    std::string id;
    std::string host;
    int port = 0;                             // its listening port
    Direction direction = Direction::inbound; // seen from the answering node
};

// An answer to SecureNode::send_discovery: who answered, and its peers.
struct DiscoveryAnswer {
    std::string sender_id;              // the answering node's id
    std::string type;                   // _type ("discovery_answer")
    std::string payload;                // the whole signed JSON object as received
    std::vector<DiscoveredNode> nodes;  // the answering node's peers
};

// The verdict of SecureNode::check_message: true when the message is good,
// else the reject code and the library's sentence.
struct CheckResult {
    Reject reject = Reject::none;
    std::string reason;

    bool ok() const noexcept { return reject == Reject::none; }
    explicit operator bool() const noexcept { return ok(); }
};

// The checks a SecureNode makes on what it receives (p2p_secure_config).
// Every zero means the library's default.
struct SecureConfig {
    KeyPolicy key_policy = KeyPolicy::trust_on_first_use;
    int min_key_bits = 0;                        // smallest RSA key accepted (0: 2048)
    std::chrono::milliseconds replay_window{0};  // how old a _timestamp may be (0: 5 minutes;
                                                 // negative: no timestamp or replay checks)
    std::chrono::milliseconds max_clock_skew{0}; // how far ahead a _timestamp may be (0: 1 minute)
    int max_pinned_keys = 0;                     // keys pinned on first use at most (0: 65536)

    p2p_secure_opts to_c() const noexcept {
        p2p_secure_opts c;
        P2P_INIT(&c);
        c.key_policy = static_cast<std::int32_t>(key_policy);
        c.min_key_bits = min_key_bits;
        c.replay_window_ms = static_cast<std::int64_t>(replay_window.count());
        c.max_clock_skew_ms = static_cast<std::int64_t>(max_clock_skew.count());
        c.max_pinned_keys = max_pinned_keys;
        return c;
    }
};

class Node;

// One event, copied out of the library: safe to keep.
struct Event {
    EventType type = EventType::message;
    Node *node = nullptr; // the node that raised it (its current address)
    Peer peer;            // all but request_to_stop and reconnection_error; for the
                          // secure events the neighbour it came from
    Message message;      // message, secure_message, discovery_answer (the signed
                          // JSON as received), message_rejected (the refused payload)
    std::string host;     // reconnection_error: the lost peer
    int port = 0;
    int trials = 0;       // reconnection_error: attempts so far, from 1
    std::string sender_id; // secure_message, discovery_answer: the signer's node id (_id)
    std::string msg_type;  // secure_message, discovery_answer: the message's _type
    Reject reject = Reject::none; // message_rejected: why
    std::string reason;           // message_rejected: why, for people
    std::vector<DiscoveredNode> nodes; // discovery_answer: the answering node's peers
    std::uint64_t dropped = 0;       // *_disconnected: accepted messages never written to the peer
    std::uint64_t dropped_bytes = 0; // *_disconnected: their bytes on the wire

    const char *name() const noexcept { return to_string(type); }

    // The secure_message event as the value on_secure_message gets.
    SecureMessage secure_message() const { return SecureMessage{sender_id, msg_type, message.data()}; }
    // The discovery_answer event as the value on_discovery_answer gets.
    DiscoveryAnswer discovery_answer() const { return DiscoveryAnswer{sender_id, msg_type, message.data(), nodes}; }

    // Copies the fields the header sets for the event's type, and only those.
    static Event from(const p2p_ev &ev) {
        Event e;
        e.type = static_cast<EventType>(ev.type);
        if (ev.type == P2P_EVENT_REQUEST_TO_STOP) return e;
        if (ev.type == P2P_EVENT_RECONNECTION_ERROR) {
            e.host = detail::str(ev.host);
            e.port = ev.port;
            e.trials = ev.trials;
            return e;
        }
        e.peer = Peer{ev.peer, detail::str(ev.peer_id, ev.peer_id_len), detail::str(ev.peer_host, ev.peer_host_len),
                      ev.peer_port, static_cast<Direction>(ev.direction)};
        if (ev.type == P2P_EVENT_INBOUND_DISCONNECTED || ev.type == P2P_EVENT_OUTBOUND_DISCONNECTED) {
            e.dropped = ev.dropped;
            e.dropped_bytes = ev.dropped_bytes;
        }
        if (ev.data != nullptr) // message and the three secure events
            e.message = Message(detail::str(reinterpret_cast<const char *>(ev.data), ev.data_len),
                                static_cast<Kind>(ev.kind), static_cast<Compression>(ev.compression));
        e.sender_id = detail::str(ev.sender_id);
        e.msg_type = detail::str(ev.msg_type);
        if (ev.type == P2P_EVENT_MESSAGE_REJECTED) {
            e.reject = static_cast<Reject>(ev.reject);
            e.reason = detail::str(ev.reason);
        }
        for (std::size_t i = 0; ev.nodes != nullptr && i < ev.n_nodes; ++i) {
            const p2p_peer *d = P2P_EV_NODE(&ev, i);
            e.nodes.push_back(DiscoveredNode{detail::str(d->id, d->id_len), detail::str(d->host, d->host_len),
                                             d->port, static_cast<Direction>(d->direction)});
        }
        return e;
    }
};

// A node's or a peer's counters: p2p_stats (see p2pnode.h), whose fields it
// is. Delivery is at most once per link, in order:
//   accepted == written + dropped_overflow + dropped_link_lost + dropped_stop + queued
// (sent = accepted; the three drops' bytes are dropped_bytes; refused: sends
// a full queue did not take).
struct Counters : p2p_stats {
    Counters() noexcept : p2p_stats{} { size = sizeof(p2p_stats); }
    std::uint64_t dropped() const noexcept { return dropped_overflow + dropped_link_lost + dropped_stop; }
};

// ---- Node -------------------------------------------------------------------

class Node {
public:
    using Callback = std::function<bool(const Event &)>;
    using PeerHandler = std::function<void(const Peer &)>;
    using MessageHandler = std::function<void(const Peer &, const Message &)>;
    using StopHandler = std::function<void()>;
    using ReconnectionHandler = std::function<bool(const std::string &host, int port, int trials)>;

    // Creates a node and binds its listening socket (port 0 picks a free
    // port; port() tells it). host "" listens on all interfaces; id ""
    // generates one; max_connections limits inbound peers (0: no limit).
    explicit Node(const std::string &host = "127.0.0.1", int port = 0, const std::string &id = {},
                  int max_connections = 0)
        : Node(Adopt{}, make(host, port, id, max_connections)) {}

    // As above, with every event delivered to callback (p2pnetwork's
    // callback style); its result answers reconnection_error.
    Node(const std::string &host, int port, Callback callback, const std::string &id = {},
         int max_connections = 0)
        : Node(host, port, id, max_connections) {
        set_callback(std::move(callback));
    }

    // Stops the node (peers see the disconnect) and releases it.
    virtual ~Node() { release(); }

    Node(const Node &) = delete;
    Node &operator=(const Node &) = delete;

    // The callback state lives in a heap block whose address the library
    // keeps; a move hands that block over and repoints it at the new Node.
    Node(Node &&other) noexcept { take(other); }

    Node &operator=(Node &&other) noexcept {
        if (this != &other) {
            release();
            take(other);
        }
        return *this;
    }

    // The C handle (nullptr once moved from).
    p2p_node *handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != nullptr; }

    // ---- Life

    // Starts accepting connections, delivering events, reconnecting.
    void start() { detail::check(p2p_node_start(h_)); }
    // Raises request_to_stop, closes every peer after flushing, delivers the
    // disconnected events and returns when the node's threads are gone.
    // Idempotent; from inside a handler it returns at once. Does nothing on
    // a moved-from node, so that a derived destructor may call it.
    void stop() {
        if (h_ != nullptr) detail::check(p2p_node_stop(h_));
    }
    int try_stop() noexcept { return p2p_node_stop(h_); }

    // ---- Handlers (set them before start)

    void set_callback(Callback fn) { set(&Impl::callback, std::move(fn)); }
    void set_outbound_connected_handler(PeerHandler fn) { set(&Impl::outbound_connected, std::move(fn)); }
    void set_inbound_connected_handler(PeerHandler fn) { set(&Impl::inbound_connected, std::move(fn)); }
    void set_outbound_disconnected_handler(PeerHandler fn) { set(&Impl::outbound_disconnected, std::move(fn)); }
    void set_inbound_disconnected_handler(PeerHandler fn) { set(&Impl::inbound_disconnected, std::move(fn)); }
    void set_message_handler(MessageHandler fn) { set(&Impl::message, std::move(fn)); }
    void set_disconnect_with_outbound_handler(PeerHandler fn) { set(&Impl::disconnect_with_outbound, std::move(fn)); }
    void set_request_to_stop_handler(StopHandler fn) { set(&Impl::request_to_stop, std::move(fn)); }
    void set_reconnection_error_handler(ReconnectionHandler fn) { set(&Impl::reconnection_error, std::move(fn)); }

    // ---- Connections

    // Dials host:port and exchanges ids; with reconnect the node re-dials the
    // peer whenever the connection is lost, asking on_reconnection_error first.
    Peer connect(const std::string &host, int port, bool reconnect = false) {
        std::uint64_t p = 0;
        detail::check(p2p_node_connect(h_, host.c_str(), port, reconnect ? 1 : 0, &p));
        return peer_or_handle(p, Direction::outbound);
    }
    // Returns the status; *peer (if given) receives the handle (for
    // P2P_EALREADY: the existing peer's, where there is one).
    int try_connect(const std::string &host, int port, bool reconnect = false,
                    std::uint64_t *peer = nullptr) noexcept {
        return p2p_node_connect(h_, host.c_str(), port, reconnect ? 1 : 0, peer);
    }

    // Closes the connection with a peer after flushing; an outbound peer is
    // no longer reconnected (disconnect_with_outbound is raised first).
    void disconnect(const Peer &peer) { detail::check(p2p_node_disconnect(h_, peer.handle)); }
    int try_disconnect(const Peer &peer) noexcept { return p2p_node_disconnect(h_, peer.handle); }

    // ---- Messages

    // Sends bytes to one peer. Any bytes arrive exactly; a dict is sent as
    // its JSON text, a str as its UTF-8.
    void send(const Peer &peer, Payload data, Compression c = Compression::none) {
        detail::check(try_send(peer, data, c));
    }
    void send(const Peer &peer, const void *data, std::size_t size, Compression c = Compression::none) {
        send(peer, Payload(data, size), c);
    }
    int try_send(const Peer &peer, Payload data, Compression c = Compression::none) noexcept {
        return p2p_node_send(h_, peer.handle, data.data(), data.size(), static_cast<int>(c));
    }

    // Sends to every peer but those in exclude (p2pnetwork's send_to_nodes).
    void broadcast(Payload data, const std::vector<Peer> &exclude = {},
                   Compression c = Compression::none) {
        detail::check(try_broadcast(data, exclude, c));
    }
    void broadcast(Payload data, Compression c) { broadcast(data, {}, c); }
    int try_broadcast(Payload data, const std::vector<Peer> &exclude = {},
                      Compression c = Compression::none) noexcept {
        return with_handles(exclude, [&](const std::uint64_t *ex, std::size_t n) {
            return p2p_node_broadcast(h_, data.data(), data.size(), ex, n, static_cast<int>(c));
        });
    }

    // ---- Peers

    std::vector<Peer> inbound_peers() const { return peers(Direction::inbound); }
    std::vector<Peer> outbound_peers() const { return peers(Direction::outbound); }
    std::vector<Peer> all_peers() const { return peers(Direction::all); }

    // The peers of one direction; a peer that goes away while the list is
    // made is left out.
    std::vector<Peer> peers(Direction d = Direction::all) const {
        std::vector<Peer> out;
        for (std::uint64_t h : peer_handles(d)) {
            Peer p;
            if (fill_peer(h, p) == P2P_OK) out.push_back(std::move(p));
        }
        return out;
    }

    std::vector<std::uint64_t> peer_handles(Direction d = Direction::all) const {
        detail::Buf buf;
        detail::check(p2p_node_peers_buf(h_, static_cast<int>(d), &buf.b));
        const auto *hs = reinterpret_cast<const std::uint64_t *>(buf.b.data);
        return std::vector<std::uint64_t>(hs, hs + buf.b.len / sizeof(std::uint64_t));
    }

    // What the node knows of a peer now (throws Error P2P_ENOPEER once gone).
    Peer peer(std::uint64_t handle) const {
        return detail::get<Peer>([&](Peer *p) { return fill_peer(handle, *p); });
    }

    // The peer's own key/value store (p2pnetwork's set_info / get_info).
    void set_info(const Peer &peer, const std::string &key, Payload value) {
        detail::check(p2p_peer_set_info(h_, peer.handle, key.c_str(), value.data(), value.size()));
    }
    std::optional<std::string> get_info(const Peer &peer, const std::string &key) const {
        return detail::take_optional(
            [&](p2p_buf *b) { return p2p_peer_get_info_buf(h_, peer.handle, key.c_str(), b); });
    }

    // ---- Facts

    std::string id() const { return detail::take([&](p2p_buf *b) { return p2p_node_id_buf(h_, b); }); }
    std::string host() const { return detail::take([&](p2p_buf *b) { return p2p_node_host_buf(h_, b); }); }
    int port() const { return detail::get<int>([&](int *v) { return p2p_node_port(h_, v); }); }
    Counters counters() const { return detail::get<Counters>([&](Counters *c) { return p2p_node_stats(h_, c); }); }
    // One peer's counters (final inside its disconnected event).
    Counters counters(const Peer &p) const {
        return detail::get<Counters>([&](Counters *c) { return p2p_peer_stats(h_, p.handle, c); });
    }

    void set_debug(bool on) { detail::check(p2p_node_set_debug(h_, on ? 1 : 0)); }
    bool debug() const { return detail::get<int>([&](int *on) { return p2p_node_get_debug(h_, on); }) != 0; }

    // ---- Limits (all but max_connections only before start; 0 restores the default)

    void set_limit(Limit l, std::int64_t value) { detail::check(p2p_node_set_limit(h_, static_cast<int>(l), value)); }
    std::int64_t limit(Limit l) const {
        return detail::get<std::int64_t>(
            [&](std::int64_t *v) { return p2p_node_get_limit(h_, static_cast<int>(l), v); });
    }
    void set_max_connections(int n) { set_limit(Limit::max_connections, n); }
    int max_connections() const { return static_cast<int>(limit(Limit::max_connections)); }

    // ---- Events: override these, or set handlers
    // (A SecureNode never raises on_message; see its own three events.)

    virtual void on_outbound_connected(const Peer &peer) { call(impl_->outbound_connected, peer); }
    virtual void on_inbound_connected(const Peer &peer) { call(impl_->inbound_connected, peer); }
    virtual void on_outbound_disconnected(const Peer &peer) { call(impl_->outbound_disconnected, peer); }
    virtual void on_inbound_disconnected(const Peer &peer) { call(impl_->inbound_disconnected, peer); }
    virtual void on_message(const Peer &peer, const Message &message) {
        if (impl_->message) impl_->message(peer, message);
        else forward();
    }
    // The application asked to drop an outbound peer; raised before it closes.
    virtual void on_disconnect_with_outbound(const Peer &peer) { call(impl_->disconnect_with_outbound, peer); }
    // stop() was called; the peers are still connected.
    virtual void on_request_to_stop() {
        if (impl_->request_to_stop) impl_->request_to_stop();
        else forward();
    }
    // Whether a lost peer connected with reconnect is dialled again.
    virtual bool on_reconnection_error(const std::string &host, int port, int trials) {
        if (impl_->reconnection_error) return impl_->reconnection_error(host, port, trials);
        if (impl_->callback && impl_->current != nullptr) return impl_->callback(*impl_->current);
        return true;
    }

protected:
    // State a derived class keeps beside the node's own handlers, so that it
    // moves with them (a move repoints events under the same lock).
    struct Extra {
        virtual ~Extra() = default;
    };
    struct Adopt {};
    // Takes over h, a node just made (p2p_node_new, p2p_secure_node_new) and
    // not started: its events go to this object. h is freed if that fails.
    Node(Adopt, p2p_node *h) {
        Impl *impl = new (std::nothrow) Impl;
        if (impl == nullptr) {
            p2p_node_free(h);
            throw std::bad_alloc();
        }
        impl->owner = this;
        int rc = p2p_node_set_handler(h, &Node::trampoline, impl);
        if (rc != P2P_OK) {
            Error err(rc);
            p2p_node_free(h);
            delete impl;
            throw err;
        }
        impl_ = impl;
        h_ = h;
    }

    // Gives the node a derived class's state (in its constructor, before start).
    void attach(std::unique_ptr<Extra> x) {
        std::lock_guard<std::recursive_mutex> lk(impl_->mu);
        impl_->extra = std::move(x);
    }
    // The derived class's state (nullptr once moved from).
    Extra *extra() const noexcept { return impl_ != nullptr ? impl_->extra.get() : nullptr; }

    // Sets one of the derived class's handlers under the state's lock.
    template <class X, class F> void set_extra(F X::*slot, F fn) {
        if (impl_ == nullptr) throw Error(P2P_EINVAL, "node is NULL (moved from)");
        std::lock_guard<std::recursive_mutex> lk(impl_->mu);
        static_cast<X &>(*impl_->extra).*slot = std::move(fn);
    }

    // Hands the event being dispatched to the one callback, if there is one.
    void forward() {
        if (impl_->callback && impl_->current != nullptr) impl_->callback(*impl_->current);
    }

    // Hands an event to its on_* method; a derived class handles its own
    // event types and passes the others on.
    virtual bool dispatch(const Event &e) {
        switch (e.type) {
        case EventType::outbound_connected: on_outbound_connected(e.peer); break;
        case EventType::inbound_connected: on_inbound_connected(e.peer); break;
        case EventType::outbound_disconnected: on_outbound_disconnected(e.peer); break;
        case EventType::inbound_disconnected: on_inbound_disconnected(e.peer); break;
        case EventType::message: on_message(e.peer, e.message); break;
        case EventType::disconnect_with_outbound: on_disconnect_with_outbound(e.peer); break;
        case EventType::request_to_stop: on_request_to_stop(); break;
        case EventType::reconnection_error: return on_reconnection_error(e.host, e.port, e.trials);
        default: forward(); break; // a derived class's type it did not handle
        }
        return true;
    }

    // JSON or text for the library: never NULL (an empty view is then "").
    static const char *text(std::string_view s) noexcept { return s.data() != nullptr ? s.data() : ""; }

    // Calls f with the handles of exclude in one array (for the broadcasts).
    template <class F> static int with_handles(const std::vector<Peer> &exclude, F f) noexcept {
        try {
            std::vector<std::uint64_t> ex; // no allocation when empty
            ex.reserve(exclude.size());
            for (const Peer &p : exclude) ex.push_back(p.handle);
            return f(ex.empty() ? static_cast<const std::uint64_t *>(nullptr) : ex.data(), ex.size());
        } catch (...) {
            return P2P_EINTERNAL; // out of memory
        }
    }

private:
    struct Impl {
        std::recursive_mutex mu; // held while an event is dispatched and while owner changes
        Node *owner = nullptr;   // nullptr once released
        const Event *current = nullptr; // the event being dispatched
        int depth = 0;                  // callbacks running on it (nested when one stops a node)
        Callback callback;
        PeerHandler outbound_connected, inbound_connected, outbound_disconnected,
            inbound_disconnected, disconnect_with_outbound;
        MessageHandler message;
        StopHandler request_to_stop;
        ReconnectionHandler reconnection_error;
        std::unique_ptr<Extra> extra;
    };

    static p2p_node *make(const std::string &host, int port, const std::string &id, int max_connections) {
        p2p_node *h = nullptr;
        int rc = p2p_node_new(host.c_str(), port, id.c_str(), max_connections, &h);
        if (rc != P2P_OK) throw Error(rc);
        return h;
    }

    static Impl *&dispatching() noexcept {
        static thread_local Impl *cur = nullptr;
        return cur;
    }

    template <class F> void set(F Impl::*slot, F fn) {
        if (impl_ == nullptr) throw Error(P2P_EINVAL, "node is NULL (moved from)");
        std::lock_guard<std::recursive_mutex> lk(impl_->mu);
        impl_->*slot = std::move(fn);
    }

    void call(const PeerHandler &h, const Peer &peer) {
        if (h) h(peer);
        else forward();
    }

    static void report(const Event *ev, const char *what) noexcept {
        std::fprintf(stderr, "p2pnode: exception in event handler (%s): %s\n",
                     ev != nullptr ? ev->name() : "event", what);
    }

    // The C callback: copies the event, hands it to the node's current
    // owner, and keeps every exception on this side.
    // A node released from inside its own handler leaves its state to the
    // callback running on it, which deletes it when it returns: the library
    // delivers no event once p2p_node_free is called.
    static int trampoline(void *user, const p2p_ev *ev) noexcept {
        Impl *impl = static_cast<Impl *>(user);
        if (impl == nullptr || ev == nullptr) return 1;
        bool answer = true, orphaned = false;
        {
            std::lock_guard<std::recursive_mutex> lk(impl->mu);
            if (impl->owner == nullptr) return 1;
            Event e;
            try {
                e = Event::from(*ev);
            } catch (const std::exception &x) { // copying the event failed
                report(nullptr, x.what());
                return 1;
            }
            e.node = impl->owner;
            const Event *saved = impl->current;
            Impl *saved_impl = dispatching();
            impl->current = &e;
            dispatching() = impl;
            ++impl->depth;
            try {
                answer = impl->owner->dispatch(e);
            } catch (const std::exception &x) {
                report(&e, x.what());
                answer = true;
            } catch (...) {
                report(&e, "unknown exception");
                answer = true;
            }
            --impl->depth;
            impl->current = saved;
            dispatching() = saved_impl;
            orphaned = impl->owner == nullptr && impl->depth == 0;
        }
        if (orphaned) delete impl;
        return answer ? 1 : 0;
    }

    int fill_peer(std::uint64_t handle, Peer &p) const {
        p2p_peer f;
        P2P_INIT(&f);
        int rc = p2p_peer_facts(h_, handle, &f);
        if (rc != P2P_OK) return rc;
        struct Free {
            p2p_buf *b;
            ~Free() { p2p_buf_free(b); }
        } release{&f.mem};
        p = Peer{handle, detail::str(f.id, f.id_len), detail::str(f.host, f.host_len), f.port,
                 static_cast<Direction>(f.direction)};
        return P2P_OK;
    }

    // A peer just connected may already be gone again: keep its handle then.
    Peer peer_or_handle(std::uint64_t handle, Direction d) const {
        Peer p;
        if (fill_peer(handle, p) != P2P_OK) {
            p = Peer{};
            p.handle = handle;
            p.direction = d;
        }
        return p;
    }

    // Takes other's handle and callback state. Under the state's lock, so
    // that an event being dispatched meanwhile finishes on the old owner
    // first, and the next one goes to this.
    void take(Node &other) noexcept {
        Impl *impl = other.impl_;
        if (impl == nullptr) {
            h_ = std::exchange(other.h_, nullptr);
            return;
        }
        std::lock_guard<std::recursive_mutex> lk(impl->mu);
        h_ = std::exchange(other.h_, nullptr);
        impl_ = std::exchange(other.impl_, nullptr);
        impl->owner = this;
    }

    void release() noexcept {
        if (impl_ == nullptr) return;
        if (dispatching() == impl_) {
            // Released from inside its own handler: free delivers no more
            // events, and the callback running deletes the state on return.
            impl_->owner = nullptr;
            if (h_ != nullptr) p2p_node_free(h_);
        } else {
            // Stop first so that the handlers see the node's last events
            // (free delivers none), then free: it returns when the event
            // thread is gone.
            if (h_ != nullptr) {
                p2p_node_stop(h_);
                p2p_node_free(h_);
            }
            delete impl_;
        }
        h_ = nullptr;
        impl_ = nullptr;
    }

    p2p_node *h_ = nullptr;
    Impl *impl_ = nullptr;
};

// ---- SecureNode -------------------------------------------------------------

// SecureNode is a Node whose messages are JSON objects signed with its RSA
// key and checked on receipt, in the wire format of the Python package
// p2psecure (its SecureNode: create_message, check_message, send_message,
// send_ping, send_discovery, key_pair_*). Every Node method works on it.
//
//     p2pnode::SecureNode node("127.0.0.1", 0);
//     node.key_pair_load("node.key", "password");   // or key_pair_generate()
//     node.set_secure_message_handler([](const p2pnode::Peer &p, const p2pnode::SecureMessage &m) {
//         std::cout << m.sender_id << " signed " << m.payload << "\n";
//     });
//     node.start();                                  // without a key: Error P2P_EKEY
//     node.connect("127.0.0.1", 8002);
//     node.send_message(R"({"text": "hello"})");     // {"_type": "message", "message": ...}
//
// What it receives arrives as on_secure_message (every check passed) or
// on_message_rejected (with the reason; the connection stays up), never as
// on_message; pings, pongs and discoveries it answers itself, and answers
// to its own discoveries arrive as on_discovery_answer. Beyond p2psecure's
// checks it pins the first key seen per node id and rejects replayed or
// stale messages (SecureConfig).
//
// JSON goes in and comes out as UTF-8 text; the binding does not parse it.
// SecureNode::send signs; the Node's own send and broadcast, reachable as
// node.Node::send(...) or through a Node&, send unsigned bytes, which secure
// peers reject. A class derived from SecureNode follows the rules of Node
// (call stop() in its destructor; move it only while no event can arrive).
class SecureNode : public Node {
public:
    using SecureMessageHandler = std::function<void(const Peer &, const SecureMessage &)>;
    using RejectedHandler =
        std::function<void(const Peer &, const Message &raw, Reject reject, const std::string &reason)>;
    using DiscoveryAnswerHandler = std::function<void(const Peer &, const DiscoveryAnswer &)>;

    // Creates a secure node without a key (see Node for host, port, id and
    // max_connections; config for the checks). Give it a key with
    // key_pair_generate or key_pair_load before start().
    explicit SecureNode(const std::string &host = "127.0.0.1", int port = 0, const std::string &id = {},
                        int max_connections = 0, const SecureConfig &config = {})
        : Node(Adopt{}, make_secure(host, port, id, max_connections, config)) {
        attach(std::make_unique<Handlers>());
    }

    // As above, with every event delivered to callback.
    SecureNode(const std::string &host, int port, Callback callback, const std::string &id = {},
               int max_connections = 0, const SecureConfig &config = {})
        : SecureNode(host, port, id, max_connections, config) {
        set_callback(std::move(callback));
    }

    // Stops the node first, so that the handlers of the secure events still
    // see the events of stopping.
    ~SecureNode() override {
        if (handle() != nullptr) try_stop();
    }

    SecureNode(SecureNode &&) noexcept = default;
    SecureNode &operator=(SecureNode &&) noexcept = default;

    // ---- Keys (p2psecure's key_pair_*)

    // Makes a new RSA key pair of bits bits (0: 4096; at least 2048) and uses
    // it from now on. Takes a second or more for 4096 bits.
    void key_pair_generate(int bits = 0) { detail::check(p2p_secure_key_generate(handle(), bits)); }

    // Loads a private key file (p2psecure's format, ours, or a PEM file,
    // encrypted with password or not) and uses it from now on. A file that
    // cannot be read, a wrong password or no key: Error P2P_EKEY.
    void key_pair_load(const std::string &path, const std::string &password = {}) {
        detail::check(p2p_secure_key_load(handle(), path.c_str(), password.c_str()));
    }

    // Writes the private key to path (mode 0600) in format, protected by
    // password ("": none; KeyFormat::p2psecure needs one).
    void key_pair_save(const std::string &path, const std::string &password = {},
                       KeyFormat format = KeyFormat::p2pnode) const {
        detail::check(p2p_secure_key_save(handle(), path.c_str(), password.c_str(), static_cast<int>(format)));
    }

    // The public key, PEM ("-----BEGIN PUBLIC KEY-----", as it travels in
    // _public_key). Without a key: Error P2P_EKEY.
    std::string public_key() const {
        return detail::take([&](p2p_buf *b) { return p2p_secure_public_key_buf(handle(), b); });
    }

    // Whether the node has a key yet.
    bool has_key() const {
        detail::Buf buf;
        int rc = p2p_secure_public_key_buf(handle(), &buf.b);
        if (rc == P2P_EKEY) return false;
        detail::check(rc);
        return true;
    }

    // ---- Messages

    // Signs {"_type": "message", "message": <json>} and sends it to every
    // peer (p2psecure's send_message). json is the text of any JSON value.
    void send_message(std::string_view json) { detail::check(try_send_message(json)); }
    int try_send_message(std::string_view json) noexcept {
        return p2p_secure_send_message(handle(), text(json), json.size());
    }

    // Signs the JSON object json_object (its underscore fields are replaced)
    // and sends it to one peer. Hides Node::send, which sends unsigned bytes.
    void send(const Peer &peer, std::string_view json_object) { detail::check(try_send(peer, json_object)); }
    int try_send(const Peer &peer, std::string_view json_object) noexcept {
        return p2p_secure_send(handle(), peer.handle, text(json_object), json_object.size());
    }

    // Signs the JSON object once and sends it to every peer but those in
    // exclude (p2psecure's send_to_nodes(create_message(data))).
    void send_to_nodes(std::string_view json_object, const std::vector<Peer> &exclude = {}) {
        detail::check(try_send_to_nodes(json_object, exclude));
    }
    int try_send_to_nodes(std::string_view json_object, const std::vector<Peer> &exclude = {}) noexcept {
        return with_handles(exclude, [&](const std::uint64_t *ex, std::size_t n) {
            return p2p_secure_broadcast(handle(), text(json_object), json_object.size(), ex, n);
        });
    }

    // Pings every peer; when its pong arrives, the latency in seconds is
    // stored in that peer's info "ping" as JSON number text (get_info).
    void send_ping() { detail::check(try_send_ping()); }
    int try_send_ping() noexcept { return p2p_secure_send_ping(handle()); }

    // Asks the network for its connections: every node reached answers with
    // its peers, and each answer arrives as on_discovery_answer.
    void send_discovery() { detail::check(try_send_discovery()); }
    int try_send_discovery() noexcept { return p2p_secure_send_discovery(handle()); }

    // Signs the JSON object json_object as p2psecure's create_message does
    // and returns the signed JSON text (it is not sent). Each call signs anew.
    std::string create_message(std::string_view json_object) {
        return detail::take([&](p2p_buf *b) {
            return p2p_secure_create_message_buf(handle(), text(json_object), json_object.size(), b);
        });
    }

    // Checks a signed message as p2psecure's check_message does (signature,
    // _hash, _message_id, field types), without any node: no key pinning,
    // no replay check. The result is true when it is good, else it holds
    // the reject code and the reason.
    static CheckResult check_message(std::string_view json) {
        int reject = 0;
        int rc = p2p_secure_check_message(text(json), json.size(), &reject);
        if (rc == P2P_OK) return CheckResult{};
        if (rc == P2P_EREJECTED) {
            CheckResult r{static_cast<Reject>(reject), Error::last_message(rc)};
            if (r.reject == Reject::none) r.reject = Reject::malformed;
            return r;
        }
        throw Error(rc);
    }

    // ---- Key pinning

    // Sets the public key (PEM) accepted from node id: messages signed for
    // that id with any other key are rejected (Reject::key_mismatch).
    void pin(const std::string &id, const std::string &pem) {
        detail::check(p2p_secure_pin(handle(), id.c_str(), pem.c_str()));
    }
    // Forgets the key of id; under trust_on_first_use the next key seen for
    // it is pinned.
    void unpin(const std::string &id) { detail::check(p2p_secure_pin(handle(), id.c_str(), nullptr)); }
    // The PEM of the key pinned for id, if any.
    std::optional<std::string> pinned_key(const std::string &id) const {
        return detail::take_optional([&](p2p_buf *b) { return p2p_secure_pinned_key_buf(handle(), id.c_str(), b); });
    }

    // The latency in seconds its last pong measured for peer (send_ping),
    // if one came.
    std::optional<double> ping(const Peer &peer) const {
        double seconds = 0;
        int rc = p2p_peer_ping(handle(), peer.handle, &seconds);
        if (rc == P2P_ENOTFOUND) return std::nullopt;
        detail::check(rc);
        return seconds;
    }

    // ---- Delegating ping, pong and discovery

    // Hands the verified messages of the types in types (Delegate bits; 0,
    // the default: none) to on_secure_message (msg_type "ping", ...) instead
    // of handling them, as a p2psecure subclass that overrides
    // received_ping and the like; handle_step does the node's own steps.
    void set_delegate(int types) { detail::check(p2p_secure_set_delegate(handle(), types)); }

    // Does one step of the node's own handling of a delegated message
    // json from peer (see p2p_secure_handle). Returns P2P_OK, or
    // P2P_EALREADY (route_discovery: seen before; nothing sent) or
    // P2P_ENOTFOUND (relay_discovery_answer: not ours to relay); throws
    // Error for the other failures.
    int handle_step(const Peer &peer, Step step, std::string_view json) {
        int rc = p2p_secure_handle(handle(), peer.handle, static_cast<int>(step), text(json), json.size());
        if (rc != P2P_OK && rc != P2P_EALREADY && rc != P2P_ENOTFOUND) throw Error(rc);
        return rc;
    }

    // ---- p2psecure's helpers, in its formats (see the C header). Bytes
    // travel in std::string; every failure throws Error (P2P_EINVAL for bad
    // input, P2P_EKEY for a file that cannot be read or written).

    // The private key, PEM PKCS#1 (get_private_key): the secret in clear.
    std::string private_key() const {
        detail::Buf buf;
        detail::check(p2p_secure_private_key_buf(handle(), &buf.b));
        std::string pem = buf.str();
        std::memset(buf.b.data, 0, buf.b.len); // the library's copy of the secret
        return pem;
    }

    // RSA PKCS#1 v1.5 of plaintext to public_key_pem, base64 (encrypt).
    static std::string encrypt(Payload plaintext, const std::string &public_key_pem) {
        return detail::take([&](p2p_buf *b) {
            return p2p_secure_encrypt_buf(public_key_pem.c_str(), plaintext.data(), plaintext.size(), b);
        });
    }
    // The plaintext of a base64 ciphertext made to this node's key (decrypt).
    std::string decrypt(std::string_view ciphertext) const {
        return detail::take([&](p2p_buf *b) {
            return p2p_secure_decrypt_buf(handle(), ciphertext.data(), ciphertext.size(), b);
        });
    }

    // The base64 RSA PKCS#1 v1.5 SHA-512 signature of text (sign).
    std::string sign(std::string_view text_to_sign) const {
        return detail::take([&](p2p_buf *b) {
            return p2p_secure_sign_buf(handle(), text_to_sign.data(), text_to_sign.size(), b);
        });
    }
    // sign(canonical(json)) (sign_data).
    std::string sign_data(std::string_view json) const { return sign(canonical(json)); }
    // Whether signature is public_key_pem's signature of text (verify);
    // throws for a pem that is not an RSA public key.
    static bool verify(std::string_view text_signed, const std::string &public_key_pem,
                       const std::string &signature) {
        int rc = p2p_secure_verify(public_key_pem.c_str(), text_signed.data(), text_signed.size(),
                                   signature.c_str());
        if (rc == P2P_EREJECTED) return false;
        detail::check(rc);
        return true;
    }
    // verify(canonical(json), ...) (verify_data).
    static bool verify_data(std::string_view json, const std::string &public_key_pem,
                            const std::string &signature) {
        return verify(canonical(json), public_key_pem, signature);
    }
    // Python's json.dumps(value, sort_keys=True) of the JSON text json: what
    // is hashed and signed (get_data_uniq_string).
    static std::string canonical(std::string_view json) {
        return detail::take([&](p2p_buf *b) { return p2p_secure_canonical_buf(text(json), json.size(), b); });
    }
    // The _hash p2psecure computes for json: SHA-512 hex of canonical(json) (get_hash).
    static std::string hash(std::string_view json) {
        return detail::take([&](p2p_buf *b) { return p2p_secure_hash(text(json), json.size(), b); });
    }

    // size bytes of key from password and salt, PBKDF2-HMAC-SHA1 1000
    // rounds (encryption_key_from_password(salt, password, size)).
    static std::string encryption_key_from_password(Payload salt, Payload password, std::size_t size) {
        std::string key(size, '\0');
        detail::check(p2p_secure_derive_key(password.data(), password.size(), salt.data(), salt.size(),
                                            size != 0 ? &key[0] : nullptr, size));
        return key;
    }
    // data and 1 to 16 zero bytes, up to a multiple of 16 (encrypt_aes_pad).
    static std::string encrypt_aes_pad(Payload data) {
        return detail::take([&](p2p_buf *b) { return p2p_secure_aes_pad_buf(data.data(), data.size(), b); });
    }
    // iv + AES-CBC of the zero-padded plaintext under key (16, 24 or 32
    // bytes) (encrypt_aes).
    static std::string encrypt_aes(Payload plaintext, Payload key) {
        return detail::take([&](p2p_buf *b) {
            return p2p_secure_aes_encrypt_buf(key.data(), key.size(), plaintext.data(), plaintext.size(), b);
        });
    }
    // The plaintext of iv + ciphertext, trailing zero bytes stripped (decrypt_aes).
    static std::string decrypt_aes(Payload ciphertext, Payload key) {
        return detail::take([&](p2p_buf *b) {
            return p2p_secure_aes_decrypt_buf(key.data(), key.size(), ciphertext.data(), ciphertext.size(), b);
        });
    }
    // salt + iv + AES-256-CBC under PBKDF2(password, salt) (encrypt_aes_pw).
    static std::string encrypt_aes_pw(Payload plaintext, Payload password) {
        return detail::take([&](p2p_buf *b) {
            return p2p_secure_aes_encrypt_pw_buf(password.data(), password.size(), plaintext.data(),
                                                 plaintext.size(), b);
        });
    }
    // The plaintext of salt + iv + ciphertext (decrypt_aes_pw).
    static std::string decrypt_aes_pw(Payload ciphertext, Payload password) {
        return detail::take([&](p2p_buf *b) {
            return p2p_secure_aes_decrypt_pw_buf(password.data(), password.size(), ciphertext.data(),
                                                 ciphertext.size(), b);
        });
    }
    // Writes encrypt_aes(plaintext, key) to path (mode 0600, replaced at once).
    static void encrypt_aes_file(const std::string &path, Payload plaintext, Payload key) {
        detail::check(p2p_secure_aes_encrypt_file(path.c_str(), key.data(), key.size(), plaintext.data(),
                                                  plaintext.size()));
    }
    // decrypt_aes of the file path.
    static std::string decrypt_aes_file(const std::string &path, Payload key) {
        return detail::take([&](p2p_buf *b) {
            return p2p_secure_aes_decrypt_file_buf(path.c_str(), key.data(), key.size(), b);
        });
    }
    // Writes encrypt_aes_pw(plaintext, password) to path (mode 0600).
    static void encrypt_aes_file_pw(const std::string &path, Payload plaintext, Payload password) {
        detail::check(p2p_secure_aes_encrypt_file_pw(path.c_str(), password.data(), password.size(),
                                                     plaintext.data(), plaintext.size()));
    }
    // decrypt_aes_pw of the file path.
    static std::string decrypt_aes_file_pw(const std::string &path, Payload password) {
        return detail::take([&](p2p_buf *b) {
            return p2p_secure_aes_decrypt_file_pw_buf(path.c_str(), password.data(), password.size(), b);
        });
    }

    // ---- Handlers (set them before start)

    void set_secure_message_handler(SecureMessageHandler fn) { set_extra(&Handlers::secure_message, std::move(fn)); }
    void set_message_rejected_handler(RejectedHandler fn) { set_extra(&Handlers::message_rejected, std::move(fn)); }
    void set_discovery_answer_handler(DiscoveryAnswerHandler fn) {
        set_extra(&Handlers::discovery_answer, std::move(fn));
    }

    // ---- Events: override these, or set handlers

    // A signed message that passed every check; peer is the neighbour it
    // came from, message.sender_id its signer.
    virtual void on_secure_message(const Peer &peer, const SecureMessage &message) {
        if (handlers().secure_message) handlers().secure_message(peer, message);
        else forward();
    }
    // A message that failed a check: raw is the payload as received.
    virtual void on_message_rejected(const Peer &peer, const Message &raw, Reject reject,
                                     const std::string &reason) {
        if (handlers().message_rejected) handlers().message_rejected(peer, raw, reject, reason);
        else forward();
    }
    // An answer to send_discovery, from answer.sender_id (relayed by peer).
    virtual void on_discovery_answer(const Peer &peer, const DiscoveryAnswer &answer) {
        if (handlers().discovery_answer) handlers().discovery_answer(peer, answer);
        else forward();
    }

private:
    // The handlers of the secure events, kept with the node's own (Extra).
    struct Handlers : Extra {
        SecureMessageHandler secure_message;
        RejectedHandler message_rejected;
        DiscoveryAnswerHandler discovery_answer;
    };
    Handlers &handlers() const noexcept { return static_cast<Handlers &>(*extra()); }

    static p2p_node *make_secure(const std::string &host, int port, const std::string &id, int max_connections,
                                 const SecureConfig &config) {
        p2p_secure_opts o = config.to_c();
        p2p_node *h = nullptr;
        detail::check(p2p_secure_node_create(host.c_str(), port, id.c_str(), max_connections, &o, &h));
        return h;
    }

    bool dispatch(const Event &e) override {
        switch (e.type) {
        case EventType::secure_message: on_secure_message(e.peer, e.secure_message()); return true;
        case EventType::message_rejected:
            on_message_rejected(e.peer, e.message, e.reject, e.reason);
            return true;
        case EventType::discovery_answer: on_discovery_answer(e.peer, e.discovery_answer()); return true;
        default: return Node::dispatch(e);
        }
    }
};

} // namespace p2pnode

#endif // P2PNODE_HPP
