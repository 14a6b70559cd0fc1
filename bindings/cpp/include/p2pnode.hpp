// p2pnode.hpp - the C++17 binding of p2pnode over the C ABI (p2pnode.h), in the manner of cppzmq: RAII, a
// move-only Node, Error carrying the C status, thin inline calls. Events come on the node's event thread, one
// at a time; a handler may call its node; what it throws is reported on stderr, never passed into C. A class
// overriding on_* methods calls stop() in its own destructor. README.md has the examples and the rules.
#ifndef P2PNODE_HPP
#define P2PNODE_HPP

#include <p2pnode.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace p2pnode {

// ---- Enumerations: the C header's numbers (p2pnode.h says what each value means) ---------------
enum class Compression : int {
    none = P2P_COMPRESSION_NONE, zlib = P2P_COMPRESSION_ZLIB, bzip2 = P2P_COMPRESSION_BZIP2,
    lzma = P2P_COMPRESSION_LZMA };
enum class Kind : int { json = P2P_KIND_JSON, text = P2P_KIND_TEXT, bytes = P2P_KIND_BYTES };
enum class Direction : int { inbound = P2P_INBOUND, outbound = P2P_OUTBOUND, all = P2P_ALL };
// A SecureNode raises secure_message, message_rejected and discovery_answer instead of message.
enum class EventType : int {
    outbound_connected = P2P_EVENT_OUTBOUND_CONNECTED, inbound_connected = P2P_EVENT_INBOUND_CONNECTED,
    outbound_disconnected = P2P_EVENT_OUTBOUND_DISCONNECTED, inbound_disconnected = P2P_EVENT_INBOUND_DISCONNECTED,
    message = P2P_EVENT_MESSAGE, disconnect_with_outbound = P2P_EVENT_DISCONNECT_WITH_OUTBOUND,
    request_to_stop = P2P_EVENT_REQUEST_TO_STOP, reconnection_error = P2P_EVENT_RECONNECTION_ERROR,
    secure_message = P2P_EVENT_SECURE_MESSAGE, message_rejected = P2P_EVENT_MESSAGE_REJECTED,
    discovery_answer = P2P_EVENT_DISCOVERY_ANSWER, topic_message = P2P_EVENT_TOPIC_MESSAGE };
enum class Limit : int {
    max_connections = P2P_LIMIT_MAX_CONNECTIONS, handshake_timeout_ms = P2P_LIMIT_HANDSHAKE_TIMEOUT_MS,
    dial_timeout_ms = P2P_LIMIT_DIAL_TIMEOUT_MS, max_frame_size = P2P_LIMIT_MAX_FRAME_SIZE,
    max_decompressed_size = P2P_LIMIT_MAX_DECOMPRESSED_SIZE, max_queued_bytes = P2P_LIMIT_MAX_QUEUED_BYTES,
    send_timeout_ms = P2P_LIMIT_SEND_TIMEOUT_MS, reconnect_interval_ms = P2P_LIMIT_RECONNECT_INTERVAL_MS,
    max_pending_events = P2P_LIMIT_MAX_PENDING_EVENTS, overflow_policy = P2P_LIMIT_OVERFLOW_POLICY,
    max_queued_bytes_total = P2P_LIMIT_MAX_QUEUED_BYTES_TOTAL,
    max_queued_bytes_per_address = P2P_LIMIT_MAX_QUEUED_BYTES_PER_ADDRESS, stop_timeout_ms = P2P_LIMIT_STOP_TIMEOUT_MS,
    max_pending_handshakes = P2P_LIMIT_MAX_PENDING_HANDSHAKES,
    max_pending_handshakes_per_address = P2P_LIMIT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
    idle_eviction_ms = P2P_LIMIT_IDLE_EVICTION_MS, max_pending_bytes = P2P_LIMIT_MAX_PENDING_BYTES,
    max_pending_bytes_per_address = P2P_LIMIT_MAX_PENDING_BYTES_PER_ADDRESS, encryption = P2P_LIMIT_ENCRYPTION,
    heartbeat_interval_ms = P2P_LIMIT_HEARTBEAT_INTERVAL_MS, heartbeat_timeout_ms = P2P_LIMIT_HEARTBEAT_TIMEOUT_MS,
    negotiation_wait_ms = P2P_LIMIT_NEGOTIATION_WAIT_MS };
// With our own nodes: native and encrypted if the peer can (preferred), never (off), or refuse it (required).
enum class Encryption : int {
    preferred = P2P_ENCRYPTION_PREFERRED, off = P2P_ENCRYPTION_OFF, required = P2P_ENCRYPTION_REQUIRED };
// What a send does when a queue is full (Limit::overflow_policy).
enum class OverflowPolicy : int {
    wait = P2P_OVERFLOW_WAIT, drop_newest = P2P_OVERFLOW_DROP_NEWEST, drop_oldest = P2P_OVERFLOW_DROP_OLDEST,
    disconnect = P2P_OVERFLOW_DISCONNECT };
// Why a SecureNode rejected a message; none: it was not.
enum class Reject : int {
    none = P2P_REJECT_NONE, malformed = P2P_REJECT_MALFORMED, bad_signature = P2P_REJECT_BAD_SIGNATURE,
    bad_hash = P2P_REJECT_BAD_HASH, bad_message_id = P2P_REJECT_BAD_MESSAGE_ID, key_mismatch = P2P_REJECT_KEY_MISMATCH,
    untrusted_key = P2P_REJECT_UNTRUSTED_KEY, weak_key = P2P_REJECT_WEAK_KEY, replay = P2P_REJECT_REPLAY,
    stale = P2P_REJECT_STALE, future = P2P_REJECT_FUTURE };
enum class KeyPolicy : int {
    trust_on_first_use = P2P_TRUST_ON_FIRST_USE, trusted_keys_only = P2P_TRUSTED_KEYS_ONLY,
    no_pinning = P2P_NO_PINNING };
// The message types SecureNode::set_delegate hands to on_secure_message, or-ed.
enum Delegate : int {
    delegate_ping = P2P_DELEGATE_PING, delegate_pong = P2P_DELEGATE_PONG, delegate_discovery = P2P_DELEGATE_DISCOVERY,
    delegate_discovery_answer = P2P_DELEGATE_DISCOVERY_ANSWER };
// The steps of a SecureNode's own handling of a delegated message (SecureNode::handle_step).
enum class Step : int {
    received_ping = P2P_STEP_RECEIVED_PING, send_pong = P2P_STEP_SEND_PONG, received_pong = P2P_STEP_RECEIVED_PONG,
    received_discovery = P2P_STEP_RECEIVED_DISCOVERY, route_discovery = P2P_STEP_ROUTE_DISCOVERY,
    send_discovery_answer = P2P_STEP_SEND_DISCOVERY_ANSWER, relay_discovery_answer = P2P_STEP_RELAY_DISCOVERY_ANSWER };
// SecureNode::key_pair_save's formats: ours (PEM without a password), p2psecure's (weak; needs one).
enum class KeyFormat : int { p2pnode = P2P_KEY_FORMAT_P2PNODE, p2psecure = P2P_KEY_FORMAT_P2PSECURE };

// ---- Errors, bytes, and the calls' plumbing ----------------------------------------------------
// Thrown by every call that fails: code() is the C status (P2P_E*), what() the library's message.
class Error : public std::runtime_error {
public:
    Error(int code, const std::string &message) : std::runtime_error(message), code_(code) {}
    // With the message of this thread's last failed call: make it right after the failure.
    explicit Error(int code) : Error(code, last_message(code)) {}
    int code() const noexcept { return code_; }
    const char *name() const noexcept { return p2p_strerror(code_); } // the code's description
    static std::string last_message(int code) {
        const char *m = p2p_errmsg(), *s = p2p_strerror(code);
        return m != nullptr && *m != '\0' ? m : s != nullptr ? s : "p2pnode error";
    }
private:
    int code_;
};

// A view of bytes to send, from text or byte containers; the library copies them during the call.
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

namespace detail {
inline void check(int rc) { if (rc != P2P_OK) throw Error(rc); }
inline std::string str(const char *s) { return s != nullptr ? std::string(s) : std::string(); }
inline std::string str(const char *s, std::size_t n) { return s != nullptr ? std::string(s, n) : std::string(); }
inline const char *or_unknown(const char *name, const char *unknown = "unknown") { return name ? name : unknown; }
// What a C function gets for an argument: a Payload or a string_view as its (data, len) pair (text is
// never NULL: an empty view is ""), a std::string as its c_str(), anything else as it is.
struct Bytes { // a Payload's pointer as the C parameter has it: const void * or const uint8_t *
    const void *p;
    operator const void *() const noexcept { return p; }
    operator const std::uint8_t *() const noexcept { return static_cast<const std::uint8_t *>(p); }
};
inline auto arg(Payload p) noexcept { return std::make_tuple(Bytes{p.data()}, p.size()); }
inline auto arg(std::string_view s) noexcept { return std::make_tuple(s.data() != nullptr ? s.data() : "", s.size()); }
inline auto arg(const std::string &s) noexcept { return std::make_tuple(s.c_str()); }
template <class T> std::tuple<T> arg(T v) noexcept { return std::tuple<T>(v); }
template <class F, class... A> int call(F f, const A &...a) { return std::apply(f, std::tuple_cat(arg(a)...)); }
// A p2p_buf the library fills, released when it goes out of scope.
struct Buf {
    p2p_buf b = P2P_BUF_INIT;
    Buf() = default;
    explicit Buf(p2p_buf owned) noexcept : b(owned) {}
    Buf(const Buf &) = delete;
    Buf &operator=(const Buf &) = delete;
    ~Buf() { p2p_buf_free(&b); }
    std::string str() const { return detail::str(reinterpret_cast<const char *>(b.data), b.len); }
};
// True for P2P_OK, false for the status absent; Error for any other failure.
inline bool found(int rc, int absent = P2P_ENOTFOUND) {
    if (rc != absent) check(rc);
    return rc == P2P_OK;
}
// What f(a..., &out) stores in out (a T, or a p2p_buf's bytes); Error for any failure.
template <class T, class F, class... A> T get(F f, const A &...a) {
    T v{};
    check(call(f, a..., &v));
    return v;
}
template <class F, class... A> std::string take(F f, const A &...a) {
    Buf buf;
    check(call(f, a..., &buf.b));
    return buf.str();
}
// As take, with std::nullopt for P2P_ENOTFOUND.
template <class F, class... A> std::optional<std::string> take_optional(F f, const A &...a) {
    Buf buf;
    return found(call(f, a..., &buf.b)) ? std::optional(buf.str()) : std::nullopt;
}
} // namespace detail

// The library's names: p2pnetwork's event names ("node_message", ...), rejects, codecs, kinds.
inline const char *to_string(EventType t) { return detail::or_unknown(p2p_event_name(int(t)), "unknown_event"); }
inline const char *to_string(Reject r) { return detail::or_unknown(p2p_reject_name(int(r))); }
inline const char *to_string(Compression c) { return detail::or_unknown(p2p_compression_name(int(c))); }
inline const char *to_string(Kind k) { return detail::or_unknown(p2p_kind_name(int(k))); }
// The codec named name ("zlib", ...; "" is none), if there is one.
inline std::optional<Compression> compression_from_name(const std::string &name) noexcept {
    int c = 0;
    return p2p_compression_from_name(name.c_str(), &c) == P2P_OK ? std::optional(Compression(c)) : std::nullopt;
}
inline std::string version() { return p2p_version(); }

// ---- Values ------------------------------------------------------------------------------------
// A peer of a node: its handle (what send and disconnect take) and its facts when the value was made.
struct Peer {
    std::uint64_t handle = 0;
    std::string id, host;
    int port = 0;
    Direction direction = Direction::inbound;
    bool encrypted = false; // the native protocol (TLS 1.3): then peer_key is its ed25519 public key, 32 bytes
    std::string peer_key{};
    bool inbound() const noexcept { return direction == Direction::inbound; }
    bool outbound() const noexcept { return direction == Direction::outbound; }
    friend bool operator==(const Peer &a, const Peer &b) noexcept { return a.handle == b.handle; }
    friend bool operator!=(const Peer &a, const Peer &b) noexcept { return a.handle != b.handle; }
};
namespace detail {
// What the library knows of a peer now (P2P_ENOPEER once it is gone), into p.
inline int facts(p2p_node *h, std::uint64_t peer, Peer &p) {
    p2p_peer f;
    P2P_INIT(&f);
    int rc = p2p_peer_facts(h, peer, &f); // id and host live in f.mem
    Buf mem(f.mem);
    if (rc == P2P_OK)
        p = Peer{peer, str(f.id, f.id_len), str(f.host, f.host_len), f.port, Direction(f.direction), f.encrypted != 0,
                 f.encrypted != 0 ? str(reinterpret_cast<const char *>(f.key), sizeof f.key) : std::string()};
    return rc;
}
} // namespace detail

// A received message: its exact bytes (for json and text: UTF-8), its Kind and its codec.
class Message {
public:
    Message() = default;
    Message(std::string data, Kind kind, Compression c) : data_(std::move(data)), kind_(kind), compression_(c) {}
    Kind kind() const noexcept { return kind_; }
    Compression compression() const noexcept { return compression_; }
    bool is_json() const noexcept { return kind_ == Kind::json; }
    bool is_text() const noexcept { return kind_ == Kind::text; }
    bool is_bytes() const noexcept { return kind_ == Kind::bytes; }
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

// A signed message that passed every check; its signer need not be the neighbour it came through.
struct SecureMessage {
    std::string sender_id; // the signer's node id (_id)
    std::string type;      // _type: "message" for send_message, or the application's own
    std::string payload;   // the whole signed JSON object as received
};
// A node as another knows it (a discovery answer's peer; Node::known_peers: no direction); port: where it listens.
struct DiscoveredNode {
    std::string id, host;
    int port = 0;
    Direction direction = Direction::inbound;
    static DiscoveredNode from(const p2p_peer &d) {
        return {detail::str(d.id, d.id_len), detail::str(d.host, d.host_len), d.port, Direction(d.direction)};
    }
};
// An answer to SecureNode::send_discovery: the signed message (sender_id: who answered) and its peers.
struct DiscoveryAnswer : SecureMessage {
    std::vector<DiscoveredNode> nodes;
};
// The verdict of SecureNode::check_message: true when good, else the reject code and the reason.
struct CheckResult {
    Reject reject = Reject::none;
    std::string reason;
    bool ok() const noexcept { return reject == Reject::none; }
    explicit operator bool() const noexcept { return ok(); }
};
// The checks a SecureNode makes on what it receives (p2p_secure_opts); every zero is the default.
struct SecureConfig {
    KeyPolicy key_policy = KeyPolicy::trust_on_first_use;
    int min_key_bits = 0;                        // smallest RSA key accepted (2048)
    std::chrono::milliseconds replay_window{0};  // how old a _timestamp may be (5 min; < 0: no checks)
    std::chrono::milliseconds max_clock_skew{0}; // how far ahead it may be (1 min)
    int max_pinned_keys = 0;                     // keys pinned on first use at most (65536)
    p2p_secure_opts to_c() const noexcept {
        return {sizeof(p2p_secure_opts), std::int32_t(key_policy), min_key_bits, std::int64_t(replay_window.count()),
                std::int64_t(max_clock_skew.count()), max_pinned_keys, 0};
    }
};

class Node;
// One event, copied out of the library: safe to keep. Which fields are set depends on the type.
struct Event {
    EventType type = EventType::message;
    Node *node = nullptr;         // the node that raised it (its current address)
    Peer peer;                    // all but request_to_stop and reconnection_error (secure: the neighbour)
    Message message;              // message and the secure events (message_rejected: the refused payload)
    std::string host;             // reconnection_error: the lost peer, and the attempts so far, from 1
    int port = 0, trials = 0;
    std::string sender_id;        // secure_message, discovery_answer: the signer's node id (_id)
    std::string msg_type;         // secure_message, discovery_answer: the message's _type
    Reject reject = Reject::none; // message_rejected: why, and in words
    std::string reason;
    std::vector<DiscoveredNode> nodes;            // discovery_answer: the answering node's peers
    std::uint64_t dropped = 0, dropped_bytes = 0; // *_disconnected: accepted, never written
    std::string topic, origin;                    // topic_message: the topic, the publisher's node id
    const char *name() const { return to_string(type); }
    SecureMessage secure_message() const { return SecureMessage{sender_id, msg_type, message.data()}; }
    DiscoveryAnswer discovery_answer() const { return DiscoveryAnswer{secure_message(), nodes}; }

    // Copies the fields the header sets for the event's type, and only those.
    static Event from(const p2p_ev &ev) {
        Event e;
        e.type = EventType(ev.type);
        if (ev.type == P2P_EVENT_REQUEST_TO_STOP) return e;
        if (ev.type == P2P_EVENT_RECONNECTION_ERROR) {
            e.host = detail::str(ev.host);
            e.port = ev.port;
            e.trials = ev.trials;
            return e;
        }
        e.peer = Peer{ev.peer, detail::str(ev.peer_id, ev.peer_id_len), detail::str(ev.peer_host, ev.peer_host_len),
                      ev.peer_port, static_cast<Direction>(ev.direction)};
        const bool gone = ev.type == P2P_EVENT_INBOUND_DISCONNECTED || ev.type == P2P_EVENT_OUTBOUND_DISCONNECTED;
        e.dropped = gone ? ev.dropped : 0;
        e.dropped_bytes = gone ? ev.dropped_bytes : 0;
        if (ev.type == P2P_EVENT_INBOUND_CONNECTED || ev.type == P2P_EVENT_OUTBOUND_CONNECTED) // + encrypted, key
            detail::facts(ev.node, ev.peer, e.peer);
        e.topic = detail::str(ev.topic, ev.topic_len); // "" but in topic_message
        e.origin = detail::str(ev.origin, ev.origin_len);
        if (ev.data != nullptr)
            e.message = Message(detail::str(reinterpret_cast<const char *>(ev.data), ev.data_len),
                                static_cast<Kind>(ev.kind), static_cast<Compression>(ev.compression));
        e.sender_id = detail::str(ev.sender_id);
        e.msg_type = detail::str(ev.msg_type);
        e.reject = ev.type == P2P_EVENT_MESSAGE_REJECTED ? Reject(ev.reject) : Reject::none;
        if (ev.type == P2P_EVENT_MESSAGE_REJECTED) e.reason = detail::str(ev.reason);
        for (std::size_t i = 0; ev.nodes != nullptr && i < ev.n_nodes; ++i)
            e.nodes.push_back(DiscoveredNode::from(*P2P_EV_NODE(&ev, i)));
        return e;
    }
};

// A node's or a peer's counters: p2p_stats, whose fields it is (see p2pnode.h).
struct Counters : p2p_stats {
    Counters() noexcept : p2p_stats{} { size = sizeof(p2p_stats); }
    std::uint64_t dropped() const noexcept { return dropped_overflow + dropped_link_lost + dropped_stop; }
};

// ---- Node --------------------------------------------------------------------------------------
class Node {
public:
    using Callback = std::function<bool(const Event &)>;
    using PeerHandler = std::function<void(const Peer &)>;
    using MessageHandler = std::function<void(const Peer &, const Message &)>;
    using StopHandler = std::function<void()>;
    using ReconnectionHandler = std::function<bool(const std::string &host, int port, int trials)>;
    using TopicHandler = std::function<void(const Peer &, const std::string &, const std::string &, const Message &)>;
    // Listens on host:port (0: a free port; "": all interfaces); id "" makes one; max_connections: inbound (0: any).
    explicit Node(const std::string &host = "127.0.0.1", int port = 0, const std::string &id = {},
                  int max_connections = 0, Encryption encryption = Encryption::preferred)
        : Node(detail::get<p2p_node *>(p2p_node_new, host, port, id, max_connections)) { set_encryption(encryption); }
    // As above, with every event delivered to callback; its result answers reconnection_error.
    Node(const std::string &host, int port, Callback callback, const std::string &id = {}, int max_connections = 0,
         Encryption encryption = Encryption::preferred)
        : Node(host, port, id, max_connections, encryption) { set_callback(std::move(callback)); }
    virtual ~Node() { release(); } // stops the node (peers see the disconnect) and frees it
    Node(Node &&other) noexcept { take(other); } // move-only: the library keeps the state's address
    Node &operator=(Node &&other) noexcept {
        if (this != &other) {
            release();
            take(other);
        }
        return *this;
    }
    p2p_node *handle() const noexcept { return h_; } // nullptr once moved from
    explicit operator bool() const noexcept { return h_ != nullptr; }
    void start() { detail::check(p2p_node_start(h_)); }
    // Raises request_to_stop, flushes and closes the peers, delivers their events, returns when done (at
    // once inside a handler). Idempotent; nothing once moved from.
    void stop() { detail::check(h_ != nullptr ? p2p_node_stop(h_) : P2P_OK); }
    int try_stop() noexcept { return p2p_node_stop(h_); }
    // ---- Handlers (set them before start); an event without one goes to the callback.
    void set_callback(Callback fn) { locked([&](Impl &i) { i.callback = std::move(fn); }); }
    void set_outbound_connected_handler(PeerHandler fn) { on_peer(EventType::outbound_connected, fn); }
    void set_inbound_connected_handler(PeerHandler fn) { on_peer(EventType::inbound_connected, fn); }
    void set_outbound_disconnected_handler(PeerHandler fn) { on_peer(EventType::outbound_disconnected, fn); }
    void set_inbound_disconnected_handler(PeerHandler fn) { on_peer(EventType::inbound_disconnected, fn); }
    void set_disconnect_with_outbound_handler(PeerHandler fn) { on_peer(EventType::disconnect_with_outbound, fn); }
    void set_message_handler(MessageHandler fn) {
        set_event_handler(EventType::message, fn, [fn](const Event &e) { fn(e.peer, e.message); return true; });
    }
    void set_request_to_stop_handler(StopHandler fn) {
        set_event_handler(EventType::request_to_stop, fn, [fn](const Event &) { fn(); return true; });
    }
    void set_reconnection_error_handler(ReconnectionHandler fn) {
        set_event_handler(EventType::reconnection_error, fn,
                          [fn](const Event &e) { return fn(e.host, e.port, e.trials); });
    }
    void set_topic_message_handler(TopicHandler fn) {
        set_event_handler(EventType::topic_message, fn,
                          [fn](const Event &e) { fn(e.peer, e.topic, e.origin, e.message); return true; });
    }
    // ---- Connections and messages; each try_* returns the status instead of throwing.
    // Dials host:port and exchanges ids; with reconnect, the peer is re-dialled whenever lost.
    Peer connect(const std::string &host, int port, bool reconnect = false) {
        Peer peer{0, {}, {}, 0, Direction::outbound};
        detail::check(try_connect(host, port, reconnect, &peer.handle));
        detail::facts(h_, peer.handle, peer); // it may be gone already: its handle then
        return peer;
    }
    // *peer (if given) receives the handle (for P2P_EALREADY: the existing peer's, where there is one).
    int try_connect(const std::string &host, int port, bool reconnect = false, std::uint64_t *peer = nullptr) noexcept {
        return p2p_node_connect(h_, host.c_str(), port, reconnect ? 1 : 0, peer);
    }
    // Flushes and closes; an outbound peer is no longer reconnected (disconnect_with_outbound first).
    void disconnect(const Peer &peer) { detail::check(try_disconnect(peer)); }
    int try_disconnect(const Peer &peer) noexcept { return p2p_node_disconnect(h_, peer.handle); }
    void send(const Peer &peer, Payload data, Compression c = Compression::none) {
        detail::check(try_send(peer, data, c));
    }
    void send(const Peer &peer, const void *data, std::size_t size, Compression c = Compression::none) {
        send(peer, Payload(data, size), c);
    }
    int try_send(const Peer &peer, Payload data, Compression c = Compression::none) noexcept {
        return detail::call(p2p_node_send, h_, peer.handle, data, int(c));
    }
    // Sends to every peer but those in exclude (p2pnetwork's send_to_nodes).
    void broadcast(Payload data, const std::vector<Peer> &exclude = {}, Compression c = Compression::none) {
        detail::check(try_broadcast(data, exclude, c));
    }
    void broadcast(Payload data, Compression c) { broadcast(data, {}, c); }
    int try_broadcast(Payload data, const std::vector<Peer> &exclude = {}, Compression c = Compression::none) noexcept {
        return with_handles(exclude, [&](const std::uint64_t *ex, std::size_t n) {
            return detail::call(p2p_node_broadcast, h_, data, ex, n, int(c));
        });
    }
    std::vector<Peer> inbound_peers() const { return peers(Direction::inbound); }
    std::vector<Peer> outbound_peers() const { return peers(Direction::outbound); }
    std::vector<Peer> all_peers() const { return peers(Direction::all); }
    // The peers of one direction (all: inbound first); one that goes meanwhile is left out.
    std::vector<Peer> peers(Direction d = Direction::all) const {
        std::vector<Peer> out;
        for (std::uint64_t h : peer_handles(d))
            if (Peer p; detail::facts(h_, h, p) == P2P_OK) out.push_back(std::move(p));
        return out;
    }
    std::vector<std::uint64_t> peer_handles(Direction d = Direction::all) const {
        detail::Buf buf;
        detail::check(p2p_node_peers_buf(h_, int(d), &buf.b));
        const auto *hs = reinterpret_cast<const std::uint64_t *>(buf.b.data);
        return std::vector<std::uint64_t>(hs, hs + buf.b.len / sizeof(std::uint64_t));
    }
    // What the node knows of a peer now (Error P2P_ENOPEER once gone).
    Peer peer(std::uint64_t handle) const {
        Peer p;
        detail::check(detail::facts(h_, handle, p));
        return p;
    }
    // The peer's own key/value store (p2pnetwork's set_info / get_info).
    void set_info(const Peer &peer, const std::string &key, Payload value) {
        detail::check(detail::call(p2p_peer_set_info, h_, peer.handle, key, value));
    }
    std::optional<std::string> get_info(const Peer &peer, const std::string &key) const {
        return detail::take_optional(p2p_peer_get_info_buf, h_, peer.handle, key);
    }
    // ---- Facts, counters (a peer's are final in its disconnected event), limits
    std::string id() const { return detail::take(p2p_node_id_buf, h_); }
    std::string host() const { return detail::take(p2p_node_host_buf, h_); }
    int port() const { return detail::get<int>(p2p_node_port, h_); }
    Counters counters() const { return detail::get<Counters>(p2p_node_stats, h_); }
    Counters counters(const Peer &p) const { return detail::get<Counters>(p2p_peer_stats, h_, p.handle); }
    void set_debug(bool on) { detail::check(p2p_node_set_debug(h_, on ? 1 : 0)); }
    bool debug() const { return detail::get<int>(p2p_node_get_debug, h_) != 0; }
    // All but max_connections only before start; 0 restores the default.
    void set_limit(Limit l, std::int64_t value) { detail::check(p2p_node_set_limit(h_, int(l), value)); }
    std::int64_t limit(Limit l) const { return detail::get<std::int64_t>(p2p_node_get_limit, h_, int(l)); }
    void set_max_connections(int n) { set_limit(Limit::max_connections, n); }
    int max_connections() const { return static_cast<int>(limit(Limit::max_connections)); }
    // ---- Encryption and trust (before start): native peers know this node by its ed25519 identity (README.md).
    void set_encryption(Encryption e) { set_limit(Limit::encryption, int(e)); }
    Encryption encryption() const { return Encryption(limit(Limit::encryption)); }
    std::string public_key() const { return detail::take(p2p_node_public_key_buf, h_); } // 32 bytes
    // The identity (ed25519, PKCS#8 PEM): from memory, from a file, to a file (mode 0600, atomically).
    void set_identity(Payload pem) { detail::check(detail::call(p2p_node_set_identity, h_, pem)); }
    void load_identity(const std::string &path) { detail::check(detail::call(p2p_node_identity_load, h_, path)); }
    void save_identity(const std::string &path) const { detail::check(detail::call(p2p_node_identity_save, h_, path)); }
    // pin: a peer claiming id must show key (32 bytes); allow: only listed keys (for id, if given) connect.
    void pin(std::string_view id, Payload key) { detail::check(detail::call(p2p_node_pin, h_, id, key)); }
    std::optional<std::string> pinned_key(std::string_view id) const {
        return detail::take_optional(p2p_node_pinned_key_buf, h_, id);
    }
    void allow(Payload key, const std::optional<std::string> &id = std::nullopt) {
        detail::check(detail::call(p2p_node_allow, h_, id ? id->c_str() : nullptr, id ? id->size() : 0, key));
    }
    // ---- Discovery and topics (with our nodes): dial known peers until there are target_peers connections.
    void discover(int target_peers) { detail::check(p2p_node_discover(h_, target_peers)); }
    std::vector<DiscoveredNode> known_peers() const {
        detail::Buf buf;
        std::size_t n = 0; // entries, P2P_BUF_PEER steps through them
        detail::check(p2p_node_known_peers_buf(h_, &buf.b, &n));
        std::vector<DiscoveredNode> out;
        for (std::size_t i = 0; i < n; ++i) out.push_back(DiscoveredNode::from(*P2P_BUF_PEER(&buf.b, i)));
        return out;
    }
    // Each subscriber of topic in the network gets each publish once (on_topic_message), its publisher never.
    void subscribe(std::string_view topic) { detail::check(detail::call(p2p_node_subscribe, h_, topic)); }
    void unsubscribe(std::string_view topic) { detail::check(detail::call(p2p_node_unsubscribe, h_, topic)); }
    void publish(std::string_view topic, Payload data) {
        detail::check(detail::call(p2p_node_publish, h_, topic, data, 0)); // 0: compression, reserved
    }
    // ---- Events: override these, or set handlers. By default each calls its handler, else the callback.
    virtual void on_outbound_connected(const Peer &) { fallback(); }
    virtual void on_inbound_connected(const Peer &) { fallback(); }
    virtual void on_outbound_disconnected(const Peer &) { fallback(); }
    virtual void on_inbound_disconnected(const Peer &) { fallback(); }
    virtual void on_message(const Peer &, const Message &) { fallback(); }
    virtual void on_disconnect_with_outbound(const Peer &) { fallback(); }
    // stop() was called; the peers are still connected.
    virtual void on_request_to_stop() { fallback(); }
    // Whether a lost peer connected with reconnect is dialled again.
    virtual bool on_reconnection_error(const std::string &, int, int) { return fallback(); }
    // A publish to a subscribed topic by the node origin (its id), relayed to us by peer.
    virtual void on_topic_message(const Peer &, const std::string &, const std::string &, const Message &) {
        fallback();
    }

protected:
    // Takes over h, a node just made and not started: its events go to this object (h freed on failure).
    explicit Node(p2p_node *h) try : h_(h), impl_(std::make_shared<Impl>()) {
        impl_->owner = this;
        detail::check(p2p_node_set_handler(h, &Node::trampoline, impl_.get()));
    } catch (...) {
        p2p_node_free(h);
    }
    // Makes cb the handler of events of type t, or clears it when fn is empty.
    template <class F> void set_event_handler(EventType t, const F &fn, Callback cb) {
        locked([&](Impl &i) { i.handlers[int(t)] = fn ? std::move(cb) : Callback(); });
    }
    // The on_* methods' default: the handler of the event being dispatched, else the callback (else true).
    bool fallback() {
        const Event *e = impl_ != nullptr ? impl_->current : nullptr;
        if (e == nullptr) return true;
        auto h = impl_->handlers.find(int(e->type));
        const Callback &f = h != impl_->handlers.end() && h->second ? h->second : impl_->callback;
        return f ? f(*e) : true;
    }
    // Hands an event to its on_* method; a derived class handles its own types, passes the rest on.
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
        case EventType::topic_message: on_topic_message(e.peer, e.topic, e.origin, e.message); break;
        default: return fallback();
        }
        return true;
    }
    // Calls f with the handles of exclude in one array (NULL when empty); P2P_EINTERNAL without memory.
    template <class F> static int with_handles(const std::vector<Peer> &exclude, F f) noexcept try {
        std::vector<std::uint64_t> ex;
        for (const Peer &p : exclude) ex.push_back(p.handle);
        return f(ex.empty() ? nullptr : ex.data(), ex.size());
    } catch (...) {
        return P2P_EINTERNAL;
    }

private:
    // The callback state, at an address the library keeps; each callback running on it holds a share.
    struct Impl : std::enable_shared_from_this<Impl> {
        std::recursive_mutex mu;          // held while an event is dispatched and while owner changes
        Node *owner = nullptr;            // the Node it belongs to now
        const Event *current = nullptr;   // the event being dispatched
        Callback callback;                // the one callback
        std::map<int, Callback> handlers; // by event type
    };
    template <class F> void locked(F f) {
        if (impl_ == nullptr) throw Error(P2P_EINVAL, "node is NULL (moved from)");
        std::lock_guard<std::recursive_mutex> lk(impl_->mu);
        f(*impl_);
    }
    void on_peer(EventType t, const PeerHandler &fn) {
        set_event_handler(t, fn, [fn](const Event &e) { fn(e.peer); return true; });
    }
    // The C callback: copies the event, hands it to the node's current owner, keeps every exception
    // on this side (answering true). Its share keeps the state while a handler frees the node.
    static int trampoline(void *user, const p2p_ev *ev) noexcept {
        std::shared_ptr<Impl> impl = static_cast<Impl *>(user)->shared_from_this();
        std::lock_guard<std::recursive_mutex> lk(impl->mu);
        const Event *outer = impl->current;
        bool answer = true;
        try {
            Event e = Event::from(*ev);
            e.node = impl->owner;
            impl->current = &e;
            answer = impl->owner->dispatch(e);
        } catch (const std::exception &x) {
            report(ev->type, x.what());
        } catch (...) {
            report(ev->type, "unknown exception");
        }
        impl->current = outer;
        return answer ? 1 : 0;
    }
    static void report(int type, const char *what) noexcept {
        std::fprintf(stderr, "p2pnode: exception in event handler (%s): %s\n", to_string(EventType(type)), what);
    }
    // Under the state's lock: an event being dispatched finishes on the old owner, the next comes here.
    void take(Node &other) noexcept {
        std::shared_ptr<Impl> impl = other.impl_;
        std::unique_lock<std::recursive_mutex> lk;
        if (impl != nullptr) lk = std::unique_lock<std::recursive_mutex>(impl->mu);
        h_ = std::exchange(other.h_, nullptr);
        impl_ = std::move(other.impl_);
        if (impl != nullptr) impl->owner = this;
    }
    // Stops first: the handlers see the last events (free delivers none; inside a handler both return at once).
    void release() noexcept {
        if (h_ != nullptr) {
            p2p_node_stop(h_);
            p2p_node_free(h_);
        }
        h_ = nullptr;
        impl_.reset();
    }
    p2p_node *h_ = nullptr;
    std::shared_ptr<Impl> impl_;
};

// ---- SecureNode --------------------------------------------------------------------------------
// A Node whose messages are JSON objects signed with its RSA key and checked on receipt, as p2psecure's
// SecureNode (README.md maps its API): they arrive as on_secure_message or on_message_rejected, never
// on_message. JSON travels as UTF-8 text, unparsed. Node::send (through a Node&) sends unsigned bytes.
class SecureNode : public Node {
public:
    using SecureMessageHandler = std::function<void(const Peer &, const SecureMessage &)>;
    using RejectedHandler = std::function<void(const Peer &, const Message &raw, Reject, const std::string &reason)>;
    using DiscoveryAnswerHandler = std::function<void(const Peer &, const DiscoveryAnswer &)>;
    // A secure node without a key (see Node; config: the checks); give it one before start().
    explicit SecureNode(const std::string &host = "127.0.0.1", int port = 0, const std::string &id = {},
                        int max_connections = 0, const SecureConfig &config = {})
        : Node(create(host, port, id, max_connections, config.to_c())) {}
    SecureNode(const std::string &host, int port, Callback callback, const std::string &id = {},
               int max_connections = 0, const SecureConfig &config = {})
        : SecureNode(host, port, id, max_connections, config) { set_callback(std::move(callback)); }
    // Stops first, so that the secure events' overrides see the events of stopping.
    ~SecureNode() override { if (handle() != nullptr) try_stop(); }
    SecureNode(SecureNode &&) noexcept = default;
    SecureNode &operator=(SecureNode &&) noexcept = default;
    // ---- Keys (p2psecure's key_pair_*); a missing or unreadable key, a wrong password: P2P_EKEY.
    // A new RSA key pair of bits bits (0: 4096; at least 2048), used from now on.
    void key_pair_generate(int bits = 0) { detail::check(p2p_secure_key_generate(handle(), bits)); }
    // Loads a private key file (p2psecure's format, ours, or PEM; password "" for none).
    void key_pair_load(const std::string &path, const std::string &password = {}) {
        detail::check(detail::call(p2p_secure_key_load, handle(), path, password));
    }
    // Writes the private key to path (mode 0600) in format, protected by password ("": none).
    void key_pair_save(const std::string &path, const std::string &password = {},
                       KeyFormat format = KeyFormat::p2pnode) const {
        detail::check(detail::call(p2p_secure_key_save, handle(), path, password, int(format)));
    }
    // The public key, PEM, as it travels in _public_key.
    std::string public_key() const { return detail::take(p2p_secure_public_key_buf, handle()); }
    bool has_key() const {
        detail::Buf buf;
        return detail::found(p2p_secure_public_key_buf(handle(), &buf.b), P2P_EKEY);
    }
    // ---- Messages: signs {"_type": "message", "message": json} (any JSON value), sends it to every peer.
    void send_message(std::string_view json) { detail::check(try_send_message(json)); }
    int try_send_message(std::string_view json) noexcept {
        return detail::call(p2p_secure_send_message, handle(), json);
    }
    // Signs the JSON object (its underscore fields replaced) and sends it to one peer.
    void send(const Peer &peer, std::string_view json_object) { detail::check(try_send(peer, json_object)); }
    int try_send(const Peer &peer, std::string_view json_object) noexcept {
        return detail::call(p2p_secure_send, handle(), peer.handle, json_object);
    }
    // Signs the JSON object once and sends it to every peer but those in exclude.
    void send_to_nodes(std::string_view json_object, const std::vector<Peer> &exclude = {}) {
        detail::check(try_send_to_nodes(json_object, exclude));
    }
    int try_send_to_nodes(std::string_view json_object, const std::vector<Peer> &exclude = {}) noexcept {
        return with_handles(exclude, [&](const std::uint64_t *ex, std::size_t n) {
            return detail::call(p2p_secure_broadcast, handle(), json_object, ex, n);
        });
    }
    // Pings every peer; each pong's latency is kept (ping(peer), and get_info(peer, "ping")).
    void send_ping() { detail::check(try_send_ping()); }
    int try_send_ping() noexcept { return p2p_secure_send_ping(handle()); }
    // Asks the network for its connections; each answer arrives as on_discovery_answer.
    void send_discovery() { detail::check(try_send_discovery()); }
    int try_send_discovery() noexcept { return p2p_secure_send_discovery(handle()); }
    // The signed JSON text of the object, as p2psecure's create_message (not sent).
    std::string create_message(std::string_view json_object) {
        return detail::take(p2p_secure_create_message_buf, handle(), json_object);
    }
    // p2psecure's check_message (signature, _hash, _message_id, types), without pinning or replays.
    static CheckResult check_message(std::string_view json) {
        int reject = 0, rc = detail::call(p2p_secure_check_message, json, &reject);
        if (rc == P2P_OK) return CheckResult{};
        if (rc != P2P_EREJECTED) throw Error(rc);
        return CheckResult{reject != P2P_REJECT_NONE ? Reject(reject) : Reject::malformed, Error::last_message(rc)};
    }
    // ---- Key pinning: the key accepted from node id (any other: Reject::key_mismatch).
    void pin(const std::string &id, const std::string &pem) {
        detail::check(detail::call(p2p_secure_pin, handle(), id, pem));
    }
    // Forgets id's key; under trust_on_first_use the next key seen for it is pinned.
    void unpin(const std::string &id) { detail::check(p2p_secure_pin(handle(), id.c_str(), nullptr)); }
    std::optional<std::string> pinned_key(const std::string &id) const {
        return detail::take_optional(p2p_secure_pinned_key_buf, handle(), id);
    }
    // The latency in seconds the peer's last pong measured, if one came.
    std::optional<double> ping(const Peer &peer) const {
        double seconds = 0;
        return detail::found(p2p_peer_ping(handle(), peer.handle, &seconds)) ? std::optional(seconds) : std::nullopt;
    }
    // ---- Delegating: messages of the Delegate types go to on_secure_message, as to a p2psecure subclass
    // overriding received_ping & co.; handle_step does one of the node's own steps (see README.md).
    void set_delegate(int types) { detail::check(p2p_secure_set_delegate(handle(), types)); }
    int handle_step(const Peer &peer, Step step, std::string_view json) {
        int rc = detail::call(p2p_secure_handle, handle(), peer.handle, int(step), json);
        if (rc != P2P_OK && rc != P2P_EALREADY && rc != P2P_ENOTFOUND) throw Error(rc);
        return rc;
    }
    // ---- p2psecure's helpers, same names and formats (see p2pnode.h); bytes in std::string.
    // The private key, PEM PKCS#1: the secret in clear (the library's copy is wiped).
    std::string private_key() const {
        detail::Buf buf;
        detail::check(p2p_secure_private_key_buf(handle(), &buf.b));
        std::string pem = buf.str();
        std::memset(buf.b.data, 0, buf.b.len);
        return pem;
    }
    // RSA PKCS#1 v1.5 to public_key_pem, base64; decrypt: with this node's key.
    static std::string encrypt(Payload plaintext, const std::string &public_key_pem) {
        return detail::take(p2p_secure_encrypt_buf, public_key_pem, plaintext);
    }
    std::string decrypt(std::string_view data) const { return detail::take(p2p_secure_decrypt_buf, handle(), data); }
    std::string sign(std::string_view text) const { return detail::take(p2p_secure_sign_buf, handle(), text); }
    std::string sign_data(std::string_view json) const { return sign(canonical(json)); }
    // Whether signature is the key's signature of text (Error for a pem that is no public key).
    static bool verify(std::string_view text, const std::string &public_key_pem, const std::string &signature) {
        return detail::found(detail::call(p2p_secure_verify, public_key_pem, text, signature), P2P_EREJECTED);
    }
    static bool verify_data(std::string_view json, const std::string &public_key_pem, const std::string &signature) {
        return verify(canonical(json), public_key_pem, signature);
    }
    // json.dumps(value, sort_keys=True), what is signed (get_data_uniq_string); hash: its SHA-512 hex.
    static std::string canonical(std::string_view json) { return detail::take(p2p_secure_canonical_buf, json); }
    static std::string hash(std::string_view json) { return detail::take(p2p_secure_hash, json); }
    static std::string encryption_key_from_password(Payload salt, Payload password, std::size_t size) {
        std::string key(size, '\0');
        detail::check(detail::call(p2p_secure_derive_key, password, salt, size != 0 ? &key[0] : nullptr, size));
        return key;
    }
    static std::string encrypt_aes_pad(Payload data) { return detail::take(p2p_secure_aes_pad_buf, data); }
    // iv + AES-CBC under key (16, 24 or 32 bytes); _pw: salt + iv + AES-256-CBC under PBKDF2(password);
    // _file: to and from the file path (written 0600, replaced at once).
    static std::string encrypt_aes(Payload plain, Payload key) {
        return detail::take(p2p_secure_aes_encrypt_buf, key, plain);
    }
    static std::string decrypt_aes(Payload data, Payload key) {
        return detail::take(p2p_secure_aes_decrypt_buf, key, data);
    }
    static std::string encrypt_aes_pw(Payload plain, Payload pw) {
        return detail::take(p2p_secure_aes_encrypt_pw_buf, pw, plain);
    }
    static std::string decrypt_aes_pw(Payload data, Payload pw) {
        return detail::take(p2p_secure_aes_decrypt_pw_buf, pw, data);
    }
    static void encrypt_aes_file(const std::string &path, Payload plain, Payload key) {
        detail::check(detail::call(p2p_secure_aes_encrypt_file, path, key, plain));
    }
    static std::string decrypt_aes_file(const std::string &path, Payload key) {
        return detail::take(p2p_secure_aes_decrypt_file_buf, path, key);
    }
    static void encrypt_aes_file_pw(const std::string &path, Payload plain, Payload pw) {
        detail::check(detail::call(p2p_secure_aes_encrypt_file_pw, path, pw, plain));
    }
    static std::string decrypt_aes_file_pw(const std::string &path, Payload pw) {
        return detail::take(p2p_secure_aes_decrypt_file_pw_buf, path, pw);
    }
    // ---- Events: override these, or set handlers (as Node's)
    void set_secure_message_handler(SecureMessageHandler fn) {
        set_event_handler(EventType::secure_message, fn,
                          [fn](const Event &e) { fn(e.peer, e.secure_message()); return true; });
    }
    void set_message_rejected_handler(RejectedHandler fn) {
        set_event_handler(EventType::message_rejected, fn,
                          [fn](const Event &e) { fn(e.peer, e.message, e.reject, e.reason); return true; });
    }
    void set_discovery_answer_handler(DiscoveryAnswerHandler fn) {
        set_event_handler(EventType::discovery_answer, fn,
                          [fn](const Event &e) { fn(e.peer, e.discovery_answer()); return true; });
    }
    // A signed message that passed every check; peer is the neighbour, message.sender_id the signer.
    virtual void on_secure_message(const Peer &, const SecureMessage &) { fallback(); }
    // A message that failed a check (raw: as received); the connection stays up.
    virtual void on_message_rejected(const Peer &, const Message &, Reject, const std::string &) { fallback(); }
    // An answer to send_discovery, from answer.sender_id (relayed by peer).
    virtual void on_discovery_answer(const Peer &, const DiscoveryAnswer &) { fallback(); }

protected:
    bool dispatch(const Event &e) override {
        switch (e.type) {
        case EventType::secure_message: on_secure_message(e.peer, e.secure_message()); return true;
        case EventType::message_rejected: on_message_rejected(e.peer, e.message, e.reject, e.reason); return true;
        case EventType::discovery_answer: on_discovery_answer(e.peer, e.discovery_answer()); return true;
        default: return Node::dispatch(e);
        }
    }

private:
    static p2p_node *create(const std::string &host, int port, const std::string &id, int max, p2p_secure_opts o) {
        return detail::get<p2p_node *>(p2p_secure_node_create, host, port, id, max, &o);
    }
};

} // namespace p2pnode

#endif // P2PNODE_HPP
