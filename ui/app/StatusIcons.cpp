#include "StatusIcons.h"

#include <QHash>
#include <QPainter>
#include <QPixmap>

namespace Kiln::Ui::StatusIcons {

QColor color(const QString& status) {
    static const QHash<QString, QColor> colors = {{QStringLiteral("Queued"), QColor(0x9e, 0x9e, 0x9e)},
                                                  {QStringLiteral("Preparing"), QColor(0x8e, 0x6c, 0xd8)},
                                                  {QStringLiteral("Running"), QColor(0x1e, 0x88, 0xe5)},
                                                  {QStringLiteral("Finalizing"), QColor(0x00, 0x89, 0x7b)},
                                                  {QStringLiteral("Completed"), QColor(0x2e, 0x7d, 0x32)},
                                                  {QStringLiteral("Failed"), QColor(0xc6, 0x28, 0x28)},
                                                  {QStringLiteral("Canceled"), QColor(0xef, 0x8c, 0x00)}};
    return colors.value(status, QColor(0x75, 0x75, 0x75));
}

static QIcon circle(const QColor& fill, bool ring) {
    QIcon icon;
    for (int size : {16, 32, 48, 64}) { // sharp at 1x to 4x
        QPixmap pm(size, size);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        p.setRenderHint(QPainter::Antialiasing);
        const qreal m = size * 0.15;
        QRectF r(m, m, size - 2 * m, size - 2 * m);
        if (ring) {
            p.setPen(QPen(fill, size / 8.0));
            p.drawEllipse(r);
        } else {
            p.setPen(Qt::NoPen);
            p.setBrush(fill);
            p.drawEllipse(r);
        }
        icon.addPixmap(pm);
    }
    return icon;
}

QIcon forStatus(const QString& status) {
    static QHash<QString, QIcon> cache;
    auto it = cache.find(status);
    if (it == cache.end()) {
        const bool live = status == QLatin1String("Queued") || status == QLatin1String("Preparing") ||
                          status == QLatin1String("Running") || status == QLatin1String("Finalizing");
        it = cache.insert(status, circle(color(status), live));
    }
    return *it;
}

QIcon experiment() {
    static const QIcon icon = [] {
        QIcon i;
        for (int size : {16, 32, 48, 64}) { // sharp at 1x to 4x
            QPixmap pm(size, size);
            pm.fill(Qt::transparent);
            QPainter p(&pm);
            p.setRenderHint(QPainter::Antialiasing);
            p.setPen(Qt::NoPen);
            p.setBrush(QColor(0x60, 0x7d, 0x8b));
            const qreal u = size / 16.0;
            p.drawRoundedRect(QRectF(2 * u, 3 * u, 12 * u, 10 * u), 2 * u, 2 * u);
            p.setBrush(QColor(0xcf, 0xd8, 0xdc));
            p.drawRect(QRectF(4 * u, 6 * u, 8 * u, 1.5 * u));
            p.drawRect(QRectF(4 * u, 9 * u, 6 * u, 1.5 * u));
            i.addPixmap(pm);
        }
        return i;
    }();
    return icon;
}

} // namespace Kiln::Ui::StatusIcons
