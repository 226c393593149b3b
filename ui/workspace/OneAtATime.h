#pragma once
#include <functional>

class QObject;

namespace Kiln::Ui {

// A refresh that follows a busy workspace, which may change many times a second: one request at a time.
// Asks that come while one is on its way make one more after it, a moment later, so that a slow kilnd is
// never sent a queue of listings (each answered long after the next change made it stale), and a page
// fetched on a scroll does not wait behind them in the connection's pool.
class OneAtATime {
public:
    // `start` sends the request; its answer (or failure) must call finished().
    OneAtATime(QObject* owner, std::function<void()> start, int gapMs = 250);
    void ask();
    void finished();
    bool busy() const { return m_busy; }

private:
    QObject* m_owner;
    std::function<void()> m_start;
    int m_gapMs;
    bool m_busy = false;
    bool m_again = false;
    bool m_waiting = false; // the next one starts when the gap after the previous one ends
};

} // namespace Kiln::Ui
