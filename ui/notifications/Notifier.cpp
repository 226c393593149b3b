#include "Notifier.h"

#include <QApplication>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusReply>
#include <QSystemTrayIcon>

namespace Kiln::Ui {

static constexpr auto kService = "org.freedesktop.Notifications";
static constexpr auto kPath = "/org/freedesktop/Notifications";

DesktopNotifier::DesktopNotifier(QObject* parent)
    : Notifier(parent) {
    auto bus = QDBusConnection::sessionBus();
    if (bus.isConnected())
        bus.connect(QLatin1String(kService), QLatin1String(kPath), QLatin1String(kService),
                    QStringLiteral("ActionInvoked"), this, SLOT(onActionInvoked(uint, QString)));
}

void DesktopNotifier::show(const Notification& n) {
    auto bus = QDBusConnection::sessionBus();
    if (bus.isConnected() && bus.interface() &&
        bus.interface()->isServiceRegistered(QLatin1String(kService))) {
        auto call = QDBusMessage::createMethodCall(QLatin1String(kService), QLatin1String(kPath),
                                                   QLatin1String(kService), QStringLiteral("Notify"));
        call << QStringLiteral("Kiln Studio") << uint(0) << QStringLiteral("org.kiln.Studio") << n.title
             << n.body << QStringList{QStringLiteral("default"), tr("Open the run")} << QVariantMap{}
             << int(-1);
        QDBusReply<uint> reply = bus.call(call, QDBus::Block, 2000);
        if (reply.isValid()) {
            m_runOfNotification.insert(reply.value(), n.runId);
            return;
        }
    }
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        if (!m_tray) {
            m_tray = new QSystemTrayIcon(QApplication::windowIcon(), this);
            connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] { Q_EMIT activated(m_trayRun); });
        }
        m_trayRun = n.runId;
        m_tray->show();
        m_tray->showMessage(n.title, n.body);
    }
}

void DesktopNotifier::onActionInvoked(uint id, const QString& action) {
    if (m_runOfNotification.contains(id) && action == QLatin1String("default"))
        Q_EMIT activated(m_runOfNotification.take(id));
}

} // namespace Kiln::Ui
