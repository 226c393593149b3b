#include "WorkQueue.h"

#include <iostream>

namespace Kiln::Server {

WorkQueue::WorkQueue(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i)
        m_threads.emplace_back([this] { loop(); });
}

WorkQueue::~WorkQueue() {
    {
        std::lock_guard g(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    for (auto& t : m_threads)
        t.join();
}

void WorkQueue::post(std::function<void()> work) {
    {
        std::lock_guard g(m_mutex);
        m_work.push_back(std::move(work));
    }
    m_cv.notify_one();
}

void WorkQueue::loop() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_cv.wait(lock, [this] { return m_stop || !m_work.empty(); });
        if (m_work.empty())
            return; // (stopping, and everything posted has run)
        auto work = std::move(m_work.front());
        m_work.pop_front();
        lock.unlock();
        try {
            work();
        } catch (const std::exception& e) {
            std::cerr << "kilnd: background work failed: " << e.what() << std::endl;
        } catch (...) {
            std::cerr << "kilnd: background work failed" << std::endl;
        }
        lock.lock();
    }
}

} // namespace Kiln::Server
