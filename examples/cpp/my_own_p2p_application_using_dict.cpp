// Dict messages: p2pnetwork sends a dict as its JSON text
// (json.dumps, separators ", " and ": "), and the receiver gets it back as
// a JSON value. In C++ send the JSON text; a received message says it is JSON.
#include "my_own_peer2peer_node.hpp"

#include <sstream>

// json.dumps of {"name": ..., "number": ...} for this example's plain values.
static std::string dumps(const std::string &name, int number) {
    std::ostringstream o;
    o << "{\"name\": \"" << name << "\", \"number\": " << number << "}";
    return o.str();
}

int main() {
    try {
        std::mutex mu;
        std::vector<p2pnode::Message> got;
        p2pnode::Node node_2("127.0.0.1", 0, [&](const p2pnode::Event &e) {
            if (e.type == p2pnode::EventType::message) {
                std::lock_guard<std::mutex> lk(mu);
                std::cout << "node_message (" << p2pnode::to_string(e.message.kind()) << "): " << e.message.data()
                          << std::endl;
                got.push_back(e.message);
                // Answer with a dict of its own.
                e.node->send(e.peer, dumps("reply", static_cast<int>(got.size())));
            }
            return true;
        });
        MyOwnPeer2PeerNode node_1("127.0.0.1", 0);
        node_2.start();
        node_1.start();
        p2pnode::Peer peer = node_1.connect("127.0.0.1", node_2.port());
        node_1.send(peer, dumps("node_1", 1));
        node_1.send(peer, dumps("node_1", 2));
        if (!wait_for([&] { return node_1.messages == 2; })) {
            std::cerr << "the replies did not arrive" << std::endl;
            return 1;
        }
        std::lock_guard<std::mutex> lk(mu);
        for (auto &m : got)
            if (!m.is_json()) return 1;
        std::cout << "end test" << std::endl;
        return 0;
    } catch (const p2pnode::Error &e) {
        std::cerr << "error " << e.code() << ": " << e.what() << std::endl;
        return 1;
    }
}
