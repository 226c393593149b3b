#pragma once
#include <QString>

namespace Kiln::Ui {

// "0.4s", "42s", "3m 05s", "2h 10m": how long a run took (or has been going).
inline QString formatDuration(double seconds) {
    if (seconds > 0 && seconds < 9.95)
        return QStringLiteral("%1s").arg(seconds, 0, 'f', 1);
    const auto s = static_cast<qint64>(seconds < 0 ? 0 : seconds);
    if (s >= 3600)
        return QStringLiteral("%1h %2m").arg(s / 3600).arg((s % 3600) / 60);
    if (s >= 60)
        return QStringLiteral("%1m %2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1s").arg(s);
}

} // namespace Kiln::Ui
