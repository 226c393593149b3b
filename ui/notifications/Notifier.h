#pragma once
#include <QHash>
#include <QObject>
#include <QString>

QT_BEGIN_NAMESPACE
class QSystemTrayIcon;
QT_END_NAMESPACE

namespace Kiln::Ui {

// Tells the user something happened while they were elsewhere (a run ended). The seam between the studio
// and the desktop: DesktopNotifier talks to the desktop; tests install their own recording subclass.
class Notifier : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    struct Notification {
        QString title;
        QString body;
        qint64 runId = 0;
    };
    virtual void show(const Notification& n) = 0;

Q_SIGNALS:
    void activated(qint64 runId); // the user clicked the notification
};

// Freedesktop notifications over D-Bus (org.freedesktop.Notifications) where a notification server runs;
// otherwise a message from a tray icon; otherwise nothing (the studio's status bar still says it).
class DesktopNotifier final : public Notifier {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DesktopNotifier)
public:
    explicit DesktopNotifier(QObject* parent = nullptr);
    void show(const Notification& n) override;

private Q_SLOTS:
    void onActionInvoked(uint id, const QString& action);

private:
    QHash<uint, qint64> m_runOfNotification;
    QSystemTrayIcon* m_tray = nullptr;
    qint64 m_trayRun = 0;
};

} // namespace Kiln::Ui
