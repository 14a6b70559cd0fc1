// Test helpers: an event log to wait on, and a deadline-bounded wait.
#pragma once

#include <p2pnode.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace testing_p2p {

using namespace std::chrono_literals;
// How long a wait may take: 10 s, or P2PNODE_TEST_DEADLINE_S seconds (the
// valgrind run sets it higher: everything runs many times slower there).
inline std::chrono::milliseconds test_deadline() {
    static const std::chrono::milliseconds d = [] {
        const char *s = std::getenv("P2PNODE_TEST_DEADLINE_S");
        long v = s != nullptr ? std::strtol(s, nullptr, 10) : 0;
        return std::chrono::milliseconds(v > 0 ? v * 1000 : 10000);
    }();
    return d;
}

// Polls pred until it holds or the deadline passes; returns its last value.
inline bool eventually(const std::function<bool()> &pred, std::chrono::milliseconds deadline = test_deadline()) {
    auto end = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(5ms);
    }
}

// Events as a node reported them, in order; tests wait on predicates over it.
class EventLog {
public:
    void push(const p2pnode::Event &e) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            events_.push_back(e);
        }
        cv_.notify_all();
    }

    // Waits until pred(events) holds, up to the deadline.
    bool wait(const std::function<bool(const std::vector<p2pnode::Event> &)> &pred,
              std::chrono::milliseconds deadline = test_deadline()) {
        std::unique_lock<std::mutex> lk(mu_);
        return cv_.wait_for(lk, deadline, [&] { return pred(events_); });
    }

    bool wait_count(p2pnode::EventType t, std::size_t n, std::chrono::milliseconds deadline = test_deadline()) {
        return wait([&](const std::vector<p2pnode::Event> &ev) { return count_in(ev, t) >= n; }, deadline);
    }

    std::size_t count(p2pnode::EventType t) {
        std::lock_guard<std::mutex> lk(mu_);
        return count_in(events_, t);
    }

    std::vector<p2pnode::Event> of(p2pnode::EventType t) {
        std::lock_guard<std::mutex> lk(mu_);
        std::vector<p2pnode::Event> out;
        for (auto &e : events_)
            if (e.type == t) out.push_back(e);
        return out;
    }

    std::vector<p2pnode::Message> messages() {
        std::vector<p2pnode::Message> out;
        for (auto &e : of(p2pnode::EventType::message)) out.push_back(e.message);
        return out;
    }

    std::vector<p2pnode::Event> all() {
        std::lock_guard<std::mutex> lk(mu_);
        return events_;
    }

    // A callback that records every event (answers true to reconnection_error).
    p2pnode::Node::Callback recorder() {
        return [this](const p2pnode::Event &e) {
            push(e);
            return true;
        };
    }

    static std::size_t count_in(const std::vector<p2pnode::Event> &ev, p2pnode::EventType t) {
        std::size_t n = 0;
        for (auto &e : ev)
            if (e.type == t) ++n;
        return n;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<p2pnode::Event> events_;
};

inline const std::string kLocal = "127.0.0.1";

// A file name in a fresh temporary folder; the file and the folder go with it.
struct TempPath {
    std::string dir, path;
    explicit TempPath(const std::string &name) {
        char tmpl[] = "/tmp/p2pnode-cpp-XXXXXX";
        dir = mkdtemp(tmpl) != nullptr ? tmpl : "/tmp";
        path = dir + "/" + name;
    }
    TempPath(const TempPath &) = delete;
    TempPath &operator=(const TempPath &) = delete;
    ~TempPath() {
        std::remove(path.c_str());
        rmdir(dir.c_str());
    }
};

// The code an expression throws as p2pnode::Error, or 0.
template <class F> int code_of(F &&f) {
    try {
        f();
    } catch (const p2pnode::Error &e) {
        return e.code();
    }
    return 0;
}

} // namespace testing_p2p
