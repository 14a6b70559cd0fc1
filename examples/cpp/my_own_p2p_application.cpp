// The p2pnetwork README's first example: three nodes of a class that
// extends Node, connected in a ring, one message to all. Free ports.
#include "my_own_peer2peer_node.hpp"

int main() {
    try {
        MyOwnPeer2PeerNode node_1("127.0.0.1", 0);
        MyOwnPeer2PeerNode node_2("127.0.0.1", 0);
        MyOwnPeer2PeerNode node_3("127.0.0.1", 0);
        node_1.start();
        node_2.start();
        node_3.start();

        node_1.connect("127.0.0.1", node_2.port());
        node_2.connect("127.0.0.1", node_3.port());
        node_3.connect("127.0.0.1", node_1.port());

        node_1.broadcast("message: Hi there!");
        // node_1 has two peers (node_2 outbound, node_3 inbound).
        if (!wait_for([&] { return node_2.messages + node_3.messages == 2; })) {
            std::cerr << "the message did not arrive" << std::endl;
            return 1;
        }
        node_1.stop();
        node_2.stop();
        node_3.stop();
        std::cout << "end test" << std::endl;
        return 0;
    } catch (const p2pnode::Error &e) {
        std::cerr << "error " << e.code() << ": " << e.what() << std::endl;
        return 1;
    }
}
