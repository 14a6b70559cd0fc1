// Compression: the same text sent with each codec p2pnetwork knows
// (none, zlib, bzip2, lzma); the receiver sees which one carried it.
#include "my_own_peer2peer_node.hpp"

#include <vector>

int main() {
    try {
        std::mutex mu;
        std::vector<p2pnode::Message> got;
        p2pnode::Node receiver("127.0.0.1", 0);
        receiver.set_message_handler([&](const p2pnode::Peer &, const p2pnode::Message &m) {
            std::lock_guard<std::mutex> lk(mu);
            got.push_back(m);
        });
        MyOwnPeer2PeerNode sender("127.0.0.1", 0);
        receiver.start();
        sender.start();
        p2pnode::Peer peer = sender.connect("127.0.0.1", receiver.port());

        const std::string text(2000, 'a');
        const p2pnode::Compression codecs[] = {p2pnode::Compression::none, p2pnode::Compression::zlib,
                                               p2pnode::Compression::bzip2, p2pnode::Compression::lzma};
        for (auto c : codecs) sender.send(peer, text, c);

        if (!wait_for([&] {
                std::lock_guard<std::mutex> lk(mu);
                return got.size() == 4;
            })) {
            std::cerr << "the messages did not arrive" << std::endl;
            return 1;
        }
        std::lock_guard<std::mutex> lk(mu);
        for (std::size_t i = 0; i < got.size(); ++i) {
            std::cout << "received " << got[i].size() << " bytes, compression "
                      << p2pnode::to_string(got[i].compression()) << std::endl;
            if (got[i].data() != text || got[i].compression() != codecs[i]) return 1;
        }
        std::cout << "end test" << std::endl;
        return 0;
    } catch (const p2pnode::Error &e) {
        std::cerr << "error " << e.code() << ": " << e.what() << std::endl;
        return 1;
    }
}
