#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace Kiln::Server {

// A few threads that run the work posted to them in order: long reads (a large query, a million-point
// history) go here, so that they never take all of the server's request threads, and the small requests
// that must stay quick (metric batches, the live feed) always find one. (Not at a lower CPU priority: while
// a training run takes every core, a long read would then wait behind it, and a person waits on it.) Work
// never throws out of its thread (an exception is logged).
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
