#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace Kiln::Server {

// A few threads of slightly lower CPU priority (nice 3) that run the work posted to them in order: long
// reads (a large query, a million-point history) go here, so that the small requests that must stay quick
// (metric batches, the live feed) neither wait for a free request thread nor, much, for a core behind them.
// Only slightly lower: while a training run takes every core, a long read must still be quick enough for a
// person waiting on it. Work never throws out of its thread (an exception is logged).
class WorkQueue final {
public:
    explicit WorkQueue(unsigned threads);
    ~WorkQueue(); // runs what was posted, then joins
    WorkQueue(const WorkQueue&) = delete;
    WorkQueue& operator=(const WorkQueue&) = delete;

    void post(std::function<void()> work);

private:
    void loop();
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::function<void()>> m_work;
    bool m_stop = false;
    std::vector<std::thread> m_threads;
};

} // namespace Kiln::Server
