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

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace p2pnode {

// ---- Enumerations -----------------------------------------------------------

enum class Compression : int {
    none = P2P_COMPRESSION_NONE,
    zlib = P2P_COMPRESSION_ZLIB,
    bzip2 = P2P_COMPRESSION_BZIP2,
    lzma = P2P_COMPRESSION_LZMA,
};

// How a received payload is presented, by p2pnetwork's rule.
enum class Kind : int {
    json = P2P_KIND_JSON,   // UTF-8 text that parses as one JSON value
    text = P2P_KIND_TEXT,   // other UTF-8 text
    bytes = P2P_KIND_BYTES, // not valid UTF-8
};

enum class Direction : int {
    inbound = P2P_INBOUND,
    outbound = P2P_OUTBOUND,
    all = P2P_ALL,
};

enum class EventType : int {
    outbound_connected = P2P_EVENT_OUTBOUND_CONNECTED,
    inbound_connected = P2P_EVENT_INBOUND_CONNECTED,
    outbound_disconnected = P2P_EVENT_OUTBOUND_DISCONNECTED,
    inbound_disconnected = P2P_EVENT_INBOUND_DISCONNECTED,
    message = P2P_EVENT_MESSAGE,
    disconnect_with_outbound = P2P_EVENT_DISCONNECT_WITH_OUTBOUND,
    request_to_stop = P2P_EVENT_REQUEST_TO_STOP,
    reconnection_error = P2P_EVENT_RECONNECTION_ERROR,
};

enum class Limit : int {
    max_connections = P2P_LIMIT_MAX_CONNECTIONS,
    handshake_timeout_ms = P2P_LIMIT_HANDSHAKE_TIMEOUT_MS,
    dial_timeout_ms = P2P_LIMIT_DIAL_TIMEOUT_MS,
    max_frame_size = P2P_LIMIT_MAX_FRAME_SIZE,
    max_decompressed_size = P2P_LIMIT_MAX_DECOMPRESSED_SIZE,
    max_queued_bytes = P2P_LIMIT_MAX_QUEUED_BYTES,
    send_timeout_ms = P2P_LIMIT_SEND_TIMEOUT_MS,
    reconnect_interval_ms = P2P_LIMIT_RECONNECT_INTERVAL_MS,
    max_pending_events = P2P_LIMIT_MAX_PENDING_EVENTS,
};

// The event's name in p2pnetwork ("node_message", ...).
inline const char *to_string(EventType t) noexcept {
    switch (t) {
    case EventType::outbound_connected: return "outbound_node_connected";
    case EventType::inbound_connected: return "inbound_node_connected";
    case EventType::outbound_disconnected: return "outbound_node_disconnected";
    case EventType::inbound_disconnected: return "inbound_node_disconnected";
    case EventType::message: return "node_message";
    case EventType::disconnect_with_outbound: return "node_disconnect_with_outbound_node";
    case EventType::request_to_stop: return "node_request_to_stop";
    case EventType::reconnection_error: return "node_reconnection_error";
    }
    return "unknown_event";
}

inline const char *to_string(Compression c) noexcept {
    switch (c) {
    case Compression::none: return "none";
    case Compression::zlib: return "zlib";
    case Compression::bzip2: return "bzip2";
    case Compression::lzma: return "lzma";
    }
    return "unknown";
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
// what() the library's message for the failure.
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

class Node;

// One event, copied out of the library: safe to keep.
struct Event {
    EventType type = EventType::message;
    Node *node = nullptr; // the node that raised it (its current address)
    Peer peer;            // all but request_to_stop and reconnection_error
    Message message;      // message only
    std::string host;     // reconnection_error: the lost peer
    int port = 0;
    int trials = 0;       // reconnection_error: attempts so far, from 1

    const char *name() const noexcept { return to_string(type); }

    // Copies the fields the header sets for the event's type, and only those.
    static Event from(const p2p_event &ev) {
        Event e;
        e.type = static_cast<EventType>(ev.type);
        switch (ev.type) {
        case P2P_EVENT_REQUEST_TO_STOP:
            break;
        case P2P_EVENT_RECONNECTION_ERROR:
            e.host = detail::str(ev.host);
            e.port = ev.port;
            e.trials = ev.trials;
            break;
        default:
            e.peer.handle = ev.peer;
            e.peer.id = detail::str(ev.peer_id);
            e.peer.host = detail::str(ev.peer_host);
            e.peer.port = ev.peer_port;
            e.peer.direction = static_cast<Direction>(ev.direction);
            if (ev.type == P2P_EVENT_MESSAGE) {
                std::string data;
                if (ev.data != nullptr && ev.data_len > 0)
                    data.assign(reinterpret_cast<const char *>(ev.data), ev.data_len);
                e.message = Message(std::move(data), static_cast<Kind>(ev.kind),
                                    static_cast<Compression>(ev.compression));
            }
        }
        return e;
    }
};

struct Counters {
    std::uint64_t sent = 0;           // frames queued to peers
    std::uint64_t received = 0;       // frames received
    std::uint64_t receive_errors = 0; // frames that could not be decoded or were over a limit
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
        : impl_(new Impl) {
        impl_->owner = this;
        p2p_node *h = nullptr;
        int rc = p2p_node_new(host.c_str(), port, id.c_str(), max_connections, &h);
        if (rc != P2P_OK) {
            Error err(rc);
            delete impl_;
            throw err;
        }
        rc = p2p_node_set_callback(h, &Node::trampoline, impl_);
        if (rc != P2P_OK) {
            Error err(rc);
            p2p_node_free(h);
            delete impl_;
            throw err;
        }
        h_ = h;
    }

    // As above, with every event delivered to callback (p2pnetwork's
    // callback style); its result answers reconnection_error.
    Node(const std::string &host, int port, Callback callback, const std::string &id = {},
         int max_connections = 0)
        : Node(host, port, id, max_connections) {
        impl_->callback = std::move(callback);
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
    void set_disconnect_with_outbound_handler(PeerHandler fn) {
        set(&Impl::disconnect_with_outbound, std::move(fn));
    }
    void set_request_to_stop_handler(StopHandler fn) { set(&Impl::request_to_stop, std::move(fn)); }
    void set_reconnection_error_handler(ReconnectionHandler fn) {
        set(&Impl::reconnection_error, std::move(fn));
    }

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
        constexpr std::size_t kStack = 16;
        std::uint64_t small[kStack];
        std::vector<std::uint64_t> big;
        std::uint64_t *ex = small;
        if (exclude.size() > kStack) {
            try {
                big.resize(exclude.size());
            } catch (...) {
                return P2P_EINTERNAL;
            }
            ex = big.data();
        }
        for (std::size_t i = 0; i < exclude.size(); ++i) ex[i] = exclude[i].handle;
        return p2p_node_broadcast(h_, data.data(), data.size(), exclude.empty() ? nullptr : ex,
                                  exclude.size(), static_cast<int>(c));
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
        std::vector<std::uint64_t> hs;
        for (;;) {
            std::size_t n = 0;
            int rc = p2p_node_peers(h_, static_cast<int>(d), hs.empty() ? nullptr : hs.data(),
                                    hs.size(), &n);
            if (rc == P2P_OK && n <= hs.size()) {
                hs.resize(n);
                return hs;
            }
            if (rc == P2P_OK || rc == P2P_ERANGE) { // more peers than room: grow and ask again
                hs.resize(n);
                continue;
            }
            throw Error(rc);
        }
    }

    // What the node knows of a peer now (throws Error P2P_ENOPEER once gone).
    Peer peer(std::uint64_t handle) const {
        Peer p;
        detail::check(fill_peer(handle, p));
        return p;
    }

    // The peer's own key/value store (p2pnetwork's set_info / get_info).
    void set_info(const Peer &peer, const std::string &key, Payload value) {
        detail::check(p2p_peer_set_info(h_, peer.handle, key.c_str(), value.data(), value.size()));
    }
    std::optional<std::string> get_info(const Peer &peer, const std::string &key) const {
        std::string buf;
        for (;;) {
            std::size_t len = 0;
            int rc = p2p_peer_get_info(h_, peer.handle, key.c_str(), buf.empty() ? nullptr : &buf[0],
                                       buf.size(), &len);
            if (rc == P2P_ENOTFOUND) return std::nullopt;
            if (rc == P2P_OK && len <= buf.size()) {
                buf.resize(len);
                return buf;
            }
            if (rc != P2P_OK && rc != P2P_ERANGE) throw Error(rc);
            buf.resize(len);
        }
    }

    // ---- Facts

    std::string id() const {
        std::string s(P2P_MAX_ID_LEN + 1, '\0');
        detail::check(p2p_node_id(h_, &s[0], s.size()));
        s.resize(s.find('\0'));
        return s;
    }
    std::string host() const {
        std::string s(P2P_MAX_HOST_LEN + 1, '\0');
        detail::check(p2p_node_host(h_, &s[0], s.size()));
        s.resize(s.find('\0'));
        return s;
    }
    int port() const {
        int port = 0;
        detail::check(p2p_node_port(h_, &port));
        return port;
    }
    Counters counters() const {
        p2p_counters c{};
        detail::check(p2p_node_counters(h_, &c));
        return Counters{c.sent, c.received, c.receive_errors};
    }

    void set_debug(bool on) { detail::check(p2p_node_set_debug(h_, on ? 1 : 0)); }
    bool debug() const {
        int on = 0;
        detail::check(p2p_node_get_debug(h_, &on));
        return on != 0;
    }

    // ---- Limits (all but max_connections only before start; 0 restores the default)

    void set_limit(Limit l, std::int64_t value) {
        detail::check(p2p_node_set_limit(h_, static_cast<int>(l), value));
    }
    std::int64_t limit(Limit l) const {
        std::int64_t v = 0;
        detail::check(p2p_node_get_limit(h_, static_cast<int>(l), &v));
        return v;
    }
    void set_max_connections(int n) { set_limit(Limit::max_connections, n); }
    int max_connections() const { return static_cast<int>(limit(Limit::max_connections)); }

    // ---- Events: override these, or set handlers

    virtual void on_outbound_connected(const Peer &peer) { call(impl_->outbound_connected, EventType::outbound_connected, peer); }
    virtual void on_inbound_connected(const Peer &peer) { call(impl_->inbound_connected, EventType::inbound_connected, peer); }
    virtual void on_outbound_disconnected(const Peer &peer) { call(impl_->outbound_disconnected, EventType::outbound_disconnected, peer); }
    virtual void on_inbound_disconnected(const Peer &peer) { call(impl_->inbound_disconnected, EventType::inbound_disconnected, peer); }
    virtual void on_message(const Peer &peer, const Message &message) {
        if (impl_->message) impl_->message(peer, message);
        else forward();
    }
    // The application asked to drop an outbound peer; raised before it closes.
    virtual void on_disconnect_with_outbound(const Peer &peer) {
        call(impl_->disconnect_with_outbound, EventType::disconnect_with_outbound, peer);
    }
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

private:
    struct Impl {
        std::recursive_mutex mu; // held while an event is dispatched and while owner changes
        Node *owner = nullptr;
        const Event *current = nullptr; // the event being dispatched
        Callback callback;
        PeerHandler outbound_connected, inbound_connected, outbound_disconnected,
            inbound_disconnected, disconnect_with_outbound;
        MessageHandler message;
        StopHandler request_to_stop;
        ReconnectionHandler reconnection_error;
    };

    static Impl *&dispatching() noexcept {
        static thread_local Impl *cur = nullptr;
        return cur;
    }

    template <class F> void set(F Impl::*slot, F fn) {
        if (impl_ == nullptr) throw Error(P2P_EINVAL, "node is NULL (moved from)");
        std::lock_guard<std::recursive_mutex> lk(impl_->mu);
        impl_->*slot = std::move(fn);
    }

    void call(const PeerHandler &h, EventType, const Peer &peer) {
        if (h) h(peer);
        else forward();
    }
    void forward() {
        if (impl_->callback && impl_->current != nullptr) impl_->callback(*impl_->current);
    }

    static void report(const Event *ev, const char *what) noexcept {
        std::fprintf(stderr, "p2pnode: exception in event handler (%s): %s\n",
                     ev != nullptr ? ev->name() : "event", what);
    }

    bool dispatch(const Event &e) {
        switch (e.type) {
        case EventType::outbound_connected: on_outbound_connected(e.peer); break;
        case EventType::inbound_connected: on_inbound_connected(e.peer); break;
        case EventType::outbound_disconnected: on_outbound_disconnected(e.peer); break;
        case EventType::inbound_disconnected: on_inbound_disconnected(e.peer); break;
        case EventType::message: on_message(e.peer, e.message); break;
        case EventType::disconnect_with_outbound: on_disconnect_with_outbound(e.peer); break;
        case EventType::request_to_stop: on_request_to_stop(); break;
        case EventType::reconnection_error: return on_reconnection_error(e.host, e.port, e.trials);
        }
        return true;
    }

    // The C callback: copies the event, hands it to the node's current
    // owner, and keeps every exception on this side.
    static int trampoline(void *user, const p2p_event *ev) noexcept {
        Impl *impl = static_cast<Impl *>(user);
        if (impl == nullptr || ev == nullptr) return 1;
        const Event *current = nullptr;
        try {
            Event e = Event::from(*ev);
            std::lock_guard<std::recursive_mutex> lk(impl->mu);
            Node *owner = impl->owner;
            if (owner == nullptr) return 1; // released from inside its own handler
            e.node = owner;
            const Event *saved = impl->current;
            Impl *saved_impl = dispatching();
            impl->current = current = &e;
            dispatching() = impl;
            bool answer = true;
            try {
                answer = owner->dispatch(e);
            } catch (const std::exception &x) {
                report(&e, x.what());
                answer = true;
            } catch (...) {
                report(&e, "unknown exception");
                answer = true;
            }
            impl->current = saved;
            dispatching() = saved_impl;
            return answer ? 1 : 0;
        } catch (const std::exception &x) { // copying the event failed
            report(current, x.what());
        } catch (...) {
            report(current, "unknown exception");
        }
        return 1;
    }

    int fill_peer(std::uint64_t handle, Peer &p) const {
        char buf[P2P_MAX_ID_LEN + 1];
        p.handle = handle;
        int rc = p2p_peer_id(h_, handle, buf, sizeof buf);
        if (rc != P2P_OK) return rc;
        p.id = buf;
        rc = p2p_peer_host(h_, handle, buf, sizeof buf);
        if (rc != P2P_OK) return rc;
        p.host = buf;
        rc = p2p_peer_port(h_, handle, &p.port);
        if (rc != P2P_OK) return rc;
        int d = 0;
        rc = p2p_peer_direction(h_, handle, &d);
        if (rc != P2P_OK) return rc;
        p.direction = static_cast<Direction>(d);
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
            // Released from inside its own handler: the library frees the
            // node when the event thread ends and may still deliver events
            // until then, so the callback state must outlive this call. It
            // is detached (events are dropped) and deliberately left behind.
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

} // namespace p2pnode

#endif // P2PNODE_HPP
