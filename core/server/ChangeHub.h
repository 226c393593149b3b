#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace Kiln::Server {

// Wakes long-poll waiters when something of a run changes (metrics, logs, status). Each run has a version
// that notify() bumps; a waiter that saw version V is called as soon as the version is past V, or when its
// timeout expires, exactly once, on the hub's own thread.
class ChangeHub final {
public:
    ChangeHub();
    ~ChangeHub();
    ChangeHub(const ChangeHub&) = delete;
    ChangeHub& operator=(const ChangeHub&) = delete;

    std::uint64_t version(std::int64_t runId);
    void notify(std::int64_t runId);
    void wait(std::int64_t runId, std::uint64_t seenVersion, std::chrono::milliseconds timeout,
              std::function<void()> callback);
    std::size_t waiting();
    // Answers every waiter now and stops the hub thread; later waits are answered at once. Call it while
    // the objects the callbacks use still exist.
    void shutdown();

private:
    void loop();
    struct Waiter {
        std::int64_t runId;
        std::chrono::steady_clock::time_point deadline;
        std::function<void()> callback;
    };
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::map<std::int64_t, std::uint64_t> m_versions;
    std::vector<Waiter> m_waiters;
    std::vector<std::function<void()>> m_ready;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace Kiln::Server
