#include "Theme.h"

#include <memory>
#include <QApplication>
#include <QPalette>
#include <QSettings>
#include <QStyle>
#include <QStyleFactory>

namespace Kiln::Ui::Theme {

namespace {

Choice g_current = Choice::System;
QString g_systemStyle;

QPalette darkPalette() {
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x30), base(0x1e, 0x1f, 0x22), text(0xdf, 0xe1, 0xe5);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, QColor(0x3c, 0x3f, 0x41));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(0x35, 0x74, 0xf0));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x58, 0x9d, 0xf6));
    p.setColor(QPalette::PlaceholderText, QColor(0x8c, 0x8f, 0x94));
    for (auto role : {QPalette::Text, QPalette::WindowText, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, QColor(0x6f, 0x73, 0x7a));
    return p;
}

QPalette lightPalette() {
    // QStyleFactory hands over ownership: the style is only asked for its palette (LeakSanitizer).
    const std::unique_ptr<QStyle> fusion(QStyleFactory::create(QStringLiteral("Fusion")));
    QPalette p = fusion->standardPalette();
    p.setColor(QPalette::Window, QColor(0xf3, 0xf3, 0xf3));
    p.setColor(QPalette::Base, Qt::white);
    p.setColor(QPalette::Highlight, QColor(0x25, 0x63, 0xeb));
    return p;
}

} // namespace

void apply(Choice choice) {
    if (g_systemStyle.isEmpty())
        g_systemStyle = QApplication::style()->name();
    g_current = choice;
    if (choice == Choice::System) {
        QApplication::setStyle(g_systemStyle);
        QApplication::setPalette(QApplication::style()->standardPalette());
        return;
    }
    QApplication::setStyle(QStringLiteral("Fusion"));
    QApplication::setPalette(choice == Choice::Dark ? darkPalette() : lightPalette());
}

Choice current() {
    return g_current;
}

Choice saved() {
    const auto v = QSettings().value(QStringLiteral("appearance/theme")).toString();
    return v == QLatin1String("dark")    ? Choice::Dark
           : v == QLatin1String("light") ? Choice::Light
                                         : Choice::System;
}

void save(Choice choice) {
    QSettings().setValue(QStringLiteral("appearance/theme"), choice == Choice::Dark ? QStringLiteral("dark")
                                                             : choice == Choice::Light
                                                                 ? QStringLiteral("light")
                                                                 : QStringLiteral("system"));
}

QString name(Choice choice) {
    return choice == Choice::Dark    ? QApplication::translate("Theme", "Dark")
           : choice == Choice::Light ? QApplication::translate("Theme", "Light")
                                     : QApplication::translate("Theme", "Follow the system");
}

} // namespace Kiln::Ui::Theme
