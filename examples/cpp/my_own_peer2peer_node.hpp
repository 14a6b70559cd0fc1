// MyOwnPeer2PeerNode: the p2pnetwork README's "extend Node" class in C++.
// Override the event methods you need; each prints what happened.
#pragma once

#include <p2pnode.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>

class MyOwnPeer2PeerNode : public p2pnode::Node {
public:
    MyOwnPeer2PeerNode(const std::string &host, int port, const std::string &id = {})
        : Node(host, port, id) {
        std::cout << "MyPeer2PeerNode: Started" << std::endl;
    }
    // Stop here, while the overrides below can still receive the last events.
    ~MyOwnPeer2PeerNode() override { stop(); }

    std::atomic<int> messages{0};

    void on_outbound_connected(const p2pnode::Peer &peer) override { say("outbound_node_connected", peer.id); }
    void on_inbound_connected(const p2pnode::Peer &peer) override { say("inbound_node_connected", peer.id); }
    void on_outbound_disconnected(const p2pnode::Peer &peer) override { say("outbound_node_disconnected", peer.id); }
    void on_inbound_disconnected(const p2pnode::Peer &peer) override { say("inbound_node_disconnected", peer.id); }
    void on_message(const p2pnode::Peer &peer, const p2pnode::Message &message) override {
        say("node_message", peer.id + ": " + message.data());
        ++messages;
    }
    void on_disconnect_with_outbound(const p2pnode::Peer &peer) override {
        say("node wants to disconnect with other outbound node", peer.id);
    }
    void on_request_to_stop() override { say("node is requested to stop", ""); }
    bool on_reconnection_error(const std::string &host, int port, int trials) override {
        say("node_reconnection_error", host + ":" + std::to_string(port) + " trials " + std::to_string(trials));
        return true;
    }

private:
    void say(const char *what, const std::string &detail) {
        static std::mutex mu; // the nodes print from their own threads
        std::lock_guard<std::mutex> lk(mu);
        std::cout << "[" << port_ << "] " << what << (detail.empty() ? "" : " (") << short_id(detail)
                  << (detail.empty() ? "" : ")") << std::endl;
    }
    // A generated id is 128 hex characters: show its start.
    static std::string short_id(const std::string &s) {
        return s.size() >= 128 ? s.substr(0, 12) + "..." + s.substr(128) : s;
    }
    int port_ = port();
};

// Waits up to seconds for pred; the examples never sleep a fixed time.
template <class Pred> bool wait_for(Pred pred, int seconds = 10) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}
