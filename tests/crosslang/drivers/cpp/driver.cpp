// driver.cpp - the C++ driver of the cross-language demo and test
// (tests/crosslang): a p2pnode::Node driven over stdin/stdout by the line
// protocol that every language's driver speaks.
//
//     driver <name> [port]
//
// It starts a node on 127.0.0.1 (port 0: a free one) with id <name>, prints
// "READY <port>", then answers one line per command read from stdin:
//
//     connect <port> [reconnect]            OK connect <peer-id> | ERR connect <code> <message>
//     send <peer-id> <compression> <hex|->  OK send | ERR send <code> <message>
//     broadcast <compression> <hex|->       OK broadcast | ERR broadcast <code> <message>
//     disconnect <peer-id>                  OK disconnect | ERR disconnect <code> <message>
//     peers                                 OK peers <id>,<id>,... | OK peers -
//     key                                   OK key <hex> (its public identity key)
//     peer <peer-id>                        OK peer <peer-id> encrypted <key-hex> | OK peer <peer-id> plaintext -
//     discover <target-peers>               OK discover | ERR discover <code> <message>
//     known                                 OK known <id>@<host>:<port>,... | OK known -
//     subscribe <topic>                     OK subscribe | ERR subscribe <code> <message>
//     unsubscribe <topic>                   OK unsubscribe | ERR unsubscribe <code> <message>
//     publish <topic> <hex|->               OK publish | ERR publish <code> <message>
//     stop (or end of input)                the stop events, then OK stop; exit 0
//
// P2P_IDENTITY=<path>, when set, keeps the node's identity key across restarts (keep_identity).
//
// Events (from the node's event thread, as they come):
//
//     EVENT <event-name> <peer-id|-> <kind|-> <compression|-> <hex|->
//     EVENT node_reconnection_error <host>:<port> <trials> - -   (answered true)
//     EVENT node_topic_message <peer-id> <kind> <compression> <hex|-> <topic> <origin-id>
//         (peer-id: the neighbour that relayed it; origin-id: the node that published it)
#include <p2pnode.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::mutex out_mu;

// say writes one protocol line and flushes it.
void say(const std::string &line) {
    std::lock_guard<std::mutex> lk(out_mu);
    std::cout << line << '\n' << std::flush;
}

std::string to_hex(const std::string &data) {
    if (data.empty()) return "-";
    static const char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * data.size());
    for (unsigned char c : data) {
        s += digits[c >> 4];
        s += digits[c & 15];
    }
    return s;
}

std::optional<std::string> from_hex(const std::string &s) {
    if (s == "-") return std::string();
    if (s.size() % 2 != 0) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out(s.size() / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i) {
        int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<char>(hi << 4 | lo);
    }
    return out;
}

std::optional<p2pnode::Compression> parse_codec(const std::string &s) {
    using C = p2pnode::Compression;
    for (C c : {C::none, C::zlib, C::bzip2, C::lzma})
        if (s == p2pnode::to_string(c)) return c;
    return std::nullopt;
}

bool on_event(const p2pnode::Event &ev) {
    using T = p2pnode::EventType;
    std::ostringstream line;
    line << "EVENT " << ev.name() << ' ';
    switch (ev.type) {
    case T::message:
    case T::topic_message:
        line << ev.peer.id << ' ' << p2pnode::to_string(ev.message.kind()) << ' '
             << p2pnode::to_string(ev.message.compression()) << ' ' << to_hex(ev.message.data());
        if (ev.type == T::topic_message) line << ' ' << ev.topic << ' ' << ev.origin;
        break;
    case T::reconnection_error:
        line << ev.host << ':' << ev.port << ' ' << ev.trials << " - -";
        break;
    case T::request_to_stop:
        line << "- - - -";
        break;
    default:
        line << ev.peer.id << " - - -";
    }
    say(line.str());
    return true; // answers node_reconnection_error: dial again
}

std::optional<p2pnode::Peer> find_peer(const p2pnode::Node &node, const std::string &id) {
    for (auto &p : node.all_peers())
        if (p.id == id) return p;
    return std::nullopt;
}

void command(p2pnode::Node &node, const std::vector<std::string> &f) {
    const std::string &cmd = f[0];
    auto usage = [&] { say("ERR " + cmd + " " + std::to_string(P2P_EINVAL) + " bad arguments"); };
    try {
        if (cmd == "connect") {
            if (f.size() < 2 || f.size() > 3) return usage();
            char *end = nullptr;
            long port = std::strtol(f[1].c_str(), &end, 10);
            if (*end != '\0') return usage();
            auto peer = node.connect("127.0.0.1", static_cast<int>(port), f.size() == 3 && f[2] == "reconnect");
            say("OK connect " + (peer.id.empty() ? std::string("-") : peer.id));
        } else if (cmd == "send" || cmd == "broadcast") {
            bool bc = cmd == "broadcast";
            if (f.size() != (bc ? 3u : 4u)) return usage();
            auto codec = parse_codec(f[f.size() - 2]);
            auto data = from_hex(f.back());
            if (!codec || !data) return usage();
            if (bc) {
                node.broadcast(*data, *codec);
            } else {
                auto peer = find_peer(node, f[1]);
                if (!peer) return say("ERR send " + std::to_string(P2P_ENOPEER) + " no peer " + f[1]);
                node.send(*peer, *data, *codec);
            }
            say("OK " + cmd);
        } else if (cmd == "disconnect") {
            if (f.size() != 2) return usage();
            auto peer = find_peer(node, f[1]);
            if (!peer) return say("ERR disconnect " + std::to_string(P2P_ENOPEER) + " no peer " + f[1]);
            node.disconnect(*peer);
            say("OK disconnect");
        } else if (cmd == "peers") {
            std::string ids;
            for (auto &p : node.all_peers()) ids += (ids.empty() ? "" : ",") + p.id;
            say("OK peers " + (ids.empty() ? std::string("-") : ids));
        } else if (cmd == "key") {
            say("OK key " + to_hex(node.public_key()));
        } else if (cmd == "peer") {
            if (f.size() != 2) return usage();
            auto peer = find_peer(node, f[1]);
            if (!peer) return say("ERR peer " + std::to_string(P2P_ENOPEER) + " no peer " + f[1]);
            say("OK peer " + peer->id + (peer->encrypted ? " encrypted " + to_hex(peer->peer_key) : " plaintext -"));
        } else if (cmd == "discover") {
            char *end = nullptr;
            long k = f.size() == 2 ? std::strtol(f[1].c_str(), &end, 10) : 0;
            if (f.size() != 2 || *end != '\0') return usage();
            node.discover(static_cast<int>(k));
            say("OK discover");
        } else if (cmd == "known") {
            std::string known;
            for (auto &d : node.known_peers())
                known += (known.empty() ? "" : ",") + d.id + "@" + d.host + ":" + std::to_string(d.port);
            say("OK known " + (known.empty() ? std::string("-") : known));
        } else if (cmd == "subscribe" || cmd == "unsubscribe") {
            if (f.size() != 2) return usage();
            cmd == "subscribe" ? node.subscribe(f[1]) : node.unsubscribe(f[1]);
            say("OK " + cmd);
        } else if (cmd == "publish") {
            auto data = f.size() == 3 ? from_hex(f[2]) : std::nullopt;
            if (!data) return usage();
            node.publish(f[1], *data);
            say("OK publish");
        } else {
            say("ERR " + cmd + " " + std::to_string(P2P_EINVAL) + " unknown command");
        }
    } catch (const p2pnode::Error &e) {
        say("ERR " + cmd + " " + std::to_string(e.code()) + " " + e.what());
    }
}

// With P2P_IDENTITY=<path> set (tests/crosslang/README.md), the node's identity key is that file:
// loaded when it is there, else saved there, so that a driver restarted under its name keeps its key
// (its peers pinned it).
void keep_identity(p2pnode::Node &node) {
    const char *path = std::getenv("P2P_IDENTITY");
    if (path == nullptr || *path == '\0') return;
    if (std::ifstream(path).good())
        node.load_identity(path);
    else
        node.save_identity(path);
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: driver <name> [port]\n";
        return 2;
    }
    try {
        // The callback style: one function gets every event.
        p2pnode::Node node("127.0.0.1", argc == 3 ? std::atoi(argv[2]) : 0, on_event, argv[1]);
        keep_identity(node);
        node.start();
        say("READY " + std::to_string(node.port()));
        std::string line;
        while (std::getline(std::cin, line)) {
            std::istringstream in(line);
            std::vector<std::string> f;
            for (std::string w; in >> w;) f.push_back(w);
            if (f.empty()) continue;
            if (f[0] == "stop") break;
            command(node, f);
        }
        node.stop(); // the events of stopping are delivered before it returns
        say("OK stop");
    } catch (const p2pnode::Error &e) {
        std::cerr << "driver: " << e.what() << " (" << e.name() << ")\n";
        return 1;
    }
    return 0;
}
