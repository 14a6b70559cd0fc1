// A chat over a topic: every line you type is published to the topic, and
// every line published to it by anyone in the network is printed. Nodes find
// each other from one bootstrap address (discovery), and links between our
// nodes are encrypted (the native protocol).
//
//     chat <name> <topic> [<bootstrap-host>:<port>] [<listen-host>:<port>]
//
// The first node of a network needs no bootstrap; the others give the address
// of any node already in it. <name> is the node id (unique in the network);
// the node listens on 127.0.0.1 and a free port unless told otherwise. End
// with Ctrl-D (end of input).
//
//     $ chat alice lobby                      * alice listening on 127.0.0.1:40123, topic lobby
//     $ chat bob lobby 127.0.0.1:40123        * bob listening on 127.0.0.1:40555, topic lobby
//     hello                                   (alice prints "<bob> hello")
#include <p2pnode.hpp>

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace {

std::mutex print_mu;

void say(const std::string &line) {
    std::lock_guard<std::mutex> lk(print_mu);
    std::cout << line << std::endl;
}

// "host:port" as its two parts, if it is one.
std::optional<std::pair<std::string, int>> address(const std::string &s) {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    char *end = nullptr;
    long port = std::strtol(s.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535) return std::nullopt;
    return std::make_pair(s.substr(0, colon), static_cast<int>(port));
}

// The override style: the node itself prints what the topic brings.
class ChatNode : public p2pnode::Node {
public:
    ChatNode(const std::string &host, int port, const std::string &name) : Node(host, port, name) {}
    ~ChatNode() override { stop(); } // the events of stopping come while the object is whole

    void on_topic_message(const p2pnode::Peer &, const std::string &, const std::string &origin,
                          const p2pnode::Message &m) override {
        say("<" + origin + "> " + m.text());
    }
    void on_outbound_connected(const p2pnode::Peer &p) override { joined(p); }
    void on_inbound_connected(const p2pnode::Peer &p) override { joined(p); }
    void on_outbound_disconnected(const p2pnode::Peer &p) override { say("* " + p.id + " left"); }
    void on_inbound_disconnected(const p2pnode::Peer &p) override { say("* " + p.id + " left"); }

private:
    static void joined(const p2pnode::Peer &p) {
        say("* connected with " + p.id + (p.encrypted ? " (encrypted)" : " (plaintext)"));
    }
};

} // namespace

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        std::cerr << "usage: chat <name> <topic> [<bootstrap-host>:<port>] [<listen-host>:<port>]\n";
        return 2;
    }
    const std::string name = argv[1], topic = argv[2];
    auto bootstrap = argc > 3 ? address(argv[3]) : std::nullopt;
    auto listen = argc > 4 ? address(argv[4]) : std::make_pair(std::string("127.0.0.1"), 0);
    if ((argc > 3 && !bootstrap) || !listen) {
        std::cerr << "chat: an address is <host>:<port>\n";
        return 2;
    }
    try {
        ChatNode node(listen->first, listen->second, name);
        node.subscribe(topic);
        node.start();
        say("* " + name + " listening on " + node.host() + ":" + std::to_string(node.port()) + ", topic " + topic);
        if (bootstrap) node.connect(bootstrap->first, bootstrap->second);
        node.discover(3); // learn the network from the peers, keep at least 3 connections
        for (std::string line; std::getline(std::cin, line);)
            if (!line.empty()) node.publish(topic, line);
        node.stop();
    } catch (const p2pnode::Error &e) {
        std::cerr << "chat: " << e.what() << " (" << e.name() << ")\n";
        return 1;
    }
    return 0;
}
