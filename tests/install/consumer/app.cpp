// A C++ program outside the tree, built against an installed p2pnode
// (CMake's p2pnode::cpp or `pkg-config p2pnode-cpp`): two nodes on free
// loopback ports, one message from the first to the second, awaited with a
// deadline. Exit status 0 when the message arrived intact.
#include <p2pnode.hpp>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>

int main() {
    const std::string msg = "hello from an installed C++ program";
    std::mutex mu;
    std::condition_variable cv;
    std::string got;
    bool arrived = false;
    try {
        p2pnode::Node b("127.0.0.1", 0, [&](const p2pnode::Event &ev) {
            if (ev.type == p2pnode::EventType::message) {
                std::lock_guard<std::mutex> lk(mu);
                got = ev.message.text();
                arrived = true;
                cv.notify_all();
            }
            return true;
        });
        p2pnode::Node a("127.0.0.1", 0, [](const p2pnode::Event &) { return true; });
        b.start();
        a.start();
        auto peer = a.connect("127.0.0.1", b.port());
        a.send(peer, msg, p2pnode::Compression::bzip2);
        {
            std::unique_lock<std::mutex> lk(mu);
            if (!cv.wait_for(lk, std::chrono::seconds(10), [&] { return arrived; })) {
                std::cerr << "c++ consumer: the message did not arrive within 10 s\n";
                return 1;
            }
        }
        a.stop();
        b.stop();
        if (got != msg) {
            std::cerr << "c++ consumer: got \"" << got << "\"\n";
            return 1;
        }
        std::cout << "c++ consumer: got \"" << got << "\" (bzip2)\n";
        return 0;
    } catch (const p2pnode::Error &e) {
        std::cerr << "c++ consumer: error " << e.code() << ": " << e.what() << "\n";
        return 1;
    }
}
