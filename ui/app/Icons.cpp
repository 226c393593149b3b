#include "Icons.h"

#include <QApplication>
#include <QFile>
#include <QPainter>
#include <QPalette>
#include <QPixmap>
#include <QSvgRenderer>

#include <mutex>

static void registerBundle() {
    Q_INIT_RESOURCE(kiln_ui); // (outside any namespace, as the macro requires)
}

namespace Kiln::Ui::Icons {

void loadResources() {
    static std::once_flag once;
    std::call_once(once, registerBundle);
}

static QString fallbackPath(const QString& name) {
    return QStringLiteral(":/resources/icons/%1.svg").arg(name);
}

bool hasFallback(const QString& name) {
    loadResources();
    return QFile::exists(fallbackPath(name));
}

QIcon get(const QString& name) {
    loadResources();
    if (QIcon::hasThemeIcon(name))
        return QIcon::fromTheme(name);
    QFile file(fallbackPath(name));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    // The SVGs are drawn in black (#000000): recolour them to the text colour of the current palette.
    auto svg = file.readAll();
    const auto colour = QApplication::palette().color(QPalette::WindowText).name().toLatin1();
    svg.replace("#000000", colour);
    QSvgRenderer renderer(svg);
    QIcon icon;
    for (const int size : {16, 22, 24, 32, 48, 64}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        renderer.render(&painter);
        painter.end();
        icon.addPixmap(pixmap);
    }
    return icon;
}

} // namespace Kiln::Ui::Icons
