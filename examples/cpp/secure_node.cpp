// secure_node.cpp - the command-line secure node of p2psecure's
// examples/secure_node.py in C++ (p2pnode::SecureNode), with the interface
// every language's secure_node example shares (tests/crosslang/README.md,
// "The secure node examples"):
//
//     secure_node <key-file> <password> [port]
//
// It makes a secure node on 127.0.0.1 (port 0: a free one) with a generated
// id. If <key-file> exists it is loaded with <password> (p2psecure's format,
// ours, or PEM); otherwise a new 4096-bit key is generated and saved there in
// our format. It starts the node, prints "READY <port> <id>", then answers
// one line per command read from stdin:
//
//     connect <host> <port>   OK connect <peer-id>              | ERR connect <code> <message>
//     message <json>          OK message                        | ERR message <code> <message>
//     ping                    OK ping                           | ERR ping <code> <message>
//     discovery               OK discovery                      | ERR discovery <code> <message>
//     status                  OK status <peer-id>=<ping|->,...  | OK status -
//     stop (or end of input)  OK stop, exit status 0
//
// <json> is the rest of the line, any JSON value, sent with send_message.
// Events are printed as they come, one line each:
//
//     EVENT connected <peer-id> <inbound|outbound>
//     EVENT disconnected <peer-id>
//     EVENT message <peer-id> <sender-id> <type> <payload>
//     EVENT rejected <peer-id> <reject-code> <reason>
//     EVENT discovery_answer <peer-id> <sender-id> <entries|->
//
// (entries: <id>@<host>:<port>/<inbound|outbound>,...). A line that fails
// before READY (a key file that cannot be read, a port in use) goes to
// standard error, with exit status 1.
#include <p2pnode.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>

namespace {

std::mutex out_mu;

// say writes one protocol line and flushes it (events come from the node's
// event thread, replies from the main thread).
void say(const std::string &line) {
    std::lock_guard<std::mutex> lk(out_mu);
    std::cout << line << '\n' << std::flush;
}

// One line per event or reply: line breaks in a field (only ever JSON
// whitespace or a message's prose) become spaces. Empty fields are "-".
std::string field(std::string s) {
    if (s.empty()) return "-";
    for (char &c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s;
}

const char *direction(p2pnode::Direction d) { return d == p2pnode::Direction::inbound ? "inbound" : "outbound"; }

// The derive-and-override style: one method per event.
class SecureNodeExample : public p2pnode::SecureNode {
public:
    using SecureNode::SecureNode;
    ~SecureNodeExample() override { stop(); } // the events of stopping still reach the overrides

    void on_inbound_connected(const p2pnode::Peer &p) override { connected(p); }
    void on_outbound_connected(const p2pnode::Peer &p) override { connected(p); }
    void on_inbound_disconnected(const p2pnode::Peer &p) override { disconnected(p); }
    void on_outbound_disconnected(const p2pnode::Peer &p) override { disconnected(p); }

    void on_secure_message(const p2pnode::Peer &p, const p2pnode::SecureMessage &m) override {
        say("EVENT message " + field(p.id) + " " + field(m.sender_id) + " " + field(m.type) + " " +
            field(m.payload));
    }

    void on_message_rejected(const p2pnode::Peer &p, const p2pnode::Message &, p2pnode::Reject reject,
                             const std::string &reason) override {
        say("EVENT rejected " + field(p.id) + " " + std::to_string(static_cast<int>(reject)) + " " + field(reason));
    }

    void on_discovery_answer(const p2pnode::Peer &p, const p2pnode::DiscoveryAnswer &a) override {
        std::string entries;
        for (const auto &n : a.nodes) {
            if (!entries.empty()) entries += ',';
            entries += n.id + "@" + n.host + ":" + std::to_string(n.port) + "/" + direction(n.direction);
        }
        say("EVENT discovery_answer " + field(p.id) + " " + field(a.sender_id) + " " + field(entries));
    }

private:
    void connected(const p2pnode::Peer &p) { say("EVENT connected " + field(p.id) + " " + direction(p.direction)); }
    void disconnected(const p2pnode::Peer &p) { say("EVENT disconnected " + field(p.id)); }
};

void command(SecureNodeExample &node, const std::string &cmd, const std::string &rest) {
    auto err = [&](int code, const std::string &message) {
        say("ERR " + cmd + " " + std::to_string(code) + " " + field(message));
    };
    try {
        if (cmd == "connect") {
            std::istringstream in(rest);
            std::string host, extra;
            int port = 0;
            if (!(in >> host >> port) || (in >> extra)) return err(P2P_EINVAL, "usage: connect <host> <port>");
            p2pnode::Peer peer = node.connect(host, port);
            say("OK connect " + field(peer.id));
        } else if (cmd == "message") {
            node.send_message(rest);
            say("OK message");
        } else if (cmd == "ping") {
            node.send_ping();
            say("OK ping");
        } else if (cmd == "discovery") {
            node.send_discovery();
            say("OK discovery");
        } else if (cmd == "status") {
            std::string list;
            for (const auto &p : node.all_peers()) {
                std::optional<std::string> ping;
                try {
                    ping = node.get_info(p, "ping");
                } catch (const p2pnode::Error &) { // the peer left meanwhile
                    continue;
                }
                if (!list.empty()) list += ',';
                list += p.id + "=" + (ping ? field(*ping) : std::string("-"));
            }
            say("OK status " + (list.empty() ? std::string("-") : list));
        } else {
            err(P2P_EINVAL, "unknown command");
        }
    } catch (const p2pnode::Error &e) {
        err(e.code(), e.what());
    }
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        std::cerr << "usage: secure_node <key-file> <password> [port]\n";
        return 2;
    }
    const std::string key_file = argv[1], password = argv[2];
    int port = 0;
    if (argc == 4) {
        char *end = nullptr;
        long p = std::strtol(argv[3], &end, 10);
        if (*end != '\0' || p < 0 || p > 65535) {
            std::cerr << "secure_node: bad port " << argv[3] << "\n";
            return 2;
        }
        port = static_cast<int>(p);
    }
    try {
        SecureNodeExample node("127.0.0.1", port);
        if (std::ifstream(key_file).good()) {
            node.key_pair_load(key_file, password);
        } else {
            node.key_pair_generate(); // 4096 bits, as p2psecure
            node.key_pair_save(key_file, password, p2pnode::KeyFormat::p2pnode);
        }
        node.start();
        say("READY " + std::to_string(node.port()) + " " + node.id());

        std::string line;
        while (std::getline(std::cin, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            std::size_t b = line.find_first_not_of(" \t");
            if (b == std::string::npos) continue;
            std::size_t e = line.find_first_of(" \t", b);
            std::string cmd = line.substr(b, e == std::string::npos ? std::string::npos : e - b);
            std::string rest;
            if (e != std::string::npos) {
                std::size_t r = line.find_first_not_of(" \t", e);
                if (r != std::string::npos) rest = line.substr(r);
            }
            if (cmd == "stop") break;
            command(node, cmd, rest);
        }
        node.stop(); // the events of stopping are printed before it returns
        say("OK stop");
    } catch (const p2pnode::Error &e) {
        std::cerr << "secure_node: " << e.what() << " (" << e.name() << ")\n";
        return 1;
    }
    return 0;
}
