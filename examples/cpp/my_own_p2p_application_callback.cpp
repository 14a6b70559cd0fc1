// The p2pnetwork README's callback example: plain Nodes that hand every
// event to one function. Free ports.
#include <p2pnode.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>

static std::mutex print_mu;
static std::atomic<int> received{0};

// Called for every event; its answer matters for reconnection_error only.
static bool node_callback(const p2pnode::Event &event) {
    std::lock_guard<std::mutex> lk(print_mu);
    std::cout << "Event: " << event.name() << " from node " << event.node->port();
    if (event.type == p2pnode::EventType::message) {
        std::cout << ": " << event.message.data();
        ++received;
    }
    std::cout << std::endl;
    return true;
}

int main() {
    try {
        p2pnode::Node node_1("127.0.0.1", 0, node_callback);
        p2pnode::Node node_2("127.0.0.1", 0, node_callback);
        p2pnode::Node node_3("127.0.0.1", 0, node_callback);
        node_1.start();
        node_2.start();
        node_3.start();

        node_1.connect("127.0.0.1", node_2.port());
        node_2.connect("127.0.0.1", node_3.port());
        node_3.connect("127.0.0.1", node_1.port());

        node_1.broadcast("message: Hi there!");
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (received < 2) {
            if (std::chrono::steady_clock::now() > end) {
                std::cerr << "the message did not arrive" << std::endl;
                return 1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
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
