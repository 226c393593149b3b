#include "ChangeHub.h"

#include <iostream>

namespace Kiln::Server {

namespace {
// A waiter's callback answers a long-poll; one that throws must not end the hub's thread (nor kilnd).
void answer(const std::function<void()>& callback) noexcept {
    try {
        callback();
    } catch (const std::exception& e) {
        std::cerr << "kilnd: a long-poll's answer failed: " << e.what() << std::endl;
    } catch (...) {
        std::cerr << "kilnd: a long-poll's answer failed" << std::endl;
    }
}
} // namespace

ChangeHub::ChangeHub()
    : m_thread([this] { loop(); }) {}

ChangeHub::~ChangeHub() {
    shutdown();
}

void ChangeHub::shutdown() {
    {
        std::lock_guard g(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    // Waits that raced with the stop are answered here.
    std::vector<std::function<void()>> ready;
    {
        std::lock_guard g(m_mutex);
        ready.swap(m_ready);
        for (auto& w : m_waiters)
            ready.push_back(std::move(w.callback));
        m_waiters.clear();
    }
    for (auto& cb : ready)
        answer(cb);
}

std::uint64_t ChangeHub::version(std::int64_t runId) {
    std::lock_guard g(m_mutex);
    return m_versions[runId];
}

void ChangeHub::notify(std::int64_t runId) {
    bool woken = false;
    {
        std::lock_guard g(m_mutex);
        ++m_versions[runId];
        for (auto it = m_waiters.begin(); it != m_waiters.end();) {
            if (it->runId == runId) {
                m_ready.push_back(std::move(it->callback));
                it = m_waiters.erase(it);
                woken = true;
            } else {
                ++it;
            }
        }
    }
    if (woken) // (waking the hub's thread for nobody cost a context switch per logged batch)
        m_cv.notify_all();
}

void ChangeHub::wait(std::int64_t runId, std::uint64_t seenVersion, std::chrono::milliseconds timeout,
                     std::function<void()> callback) {
    std::unique_lock lock(m_mutex);
    if (m_stop) {
        lock.unlock();
        answer(callback); // stopped: answer at once, on the caller's thread
        return;
    }
    if (m_versions[runId] != seenVersion)
        m_ready.push_back(std::move(callback));
    else
        m_waiters.push_back({runId, std::chrono::steady_clock::now() + timeout, std::move(callback)});
    lock.unlock();
    m_cv.notify_all();
}

std::size_t ChangeHub::waiting() {
    std::lock_guard g(m_mutex);
    return m_waiters.size();
}

void ChangeHub::loop() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        auto next = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        for (const auto& w : m_waiters)
            next = std::min(next, w.deadline);
        m_cv.wait_until(lock, next, [this] { return m_stop || !m_ready.empty(); });
        const auto now = std::chrono::steady_clock::now();
        for (auto it = m_waiters.begin(); it != m_waiters.end();) {
            if (it->deadline <= now || m_stop) {
                m_ready.push_back(std::move(it->callback));
                it = m_waiters.erase(it);
            } else {
                ++it;
            }
        }
        auto ready = std::move(m_ready);
        m_ready.clear();
        lock.unlock();
        for (auto& cb : ready)
            answer(cb);
        lock.lock();
        if (m_stop && m_ready.empty() && m_waiters.empty())
            return;
    }
}

} // namespace Kiln::Server
