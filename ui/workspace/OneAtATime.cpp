#include "OneAtATime.h"

#include <QTimer>
#include <utility>

namespace Kiln::Ui {

OneAtATime::OneAtATime(QObject* owner, std::function<void()> start, int gapMs)
    : m_owner(owner)
    , m_start(std::move(start))
    , m_gapMs(gapMs) {}

void OneAtATime::ask() {
    if (m_waiting) // the one that starts after the gap will read what changed
        return;
    if (m_busy) {
        m_again = true;
        return;
    }
    m_busy = true;
    m_start();
}

void OneAtATime::finished() {
    m_busy = false;
    if (!std::exchange(m_again, false))
        return;
    m_waiting = true;
    QTimer::singleShot(m_gapMs, m_owner, [this] {
        m_waiting = false;
        ask();
    });
}

} // namespace Kiln::Ui
