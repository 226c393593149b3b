// A run ending while the studio is in the background gives one notification naming the run, its status
// and its primary metric; clicking it opens the run; none while the studio is in front or when switched
// off. The desktop's notification server does not run here, so RecordingNotifier (a test stand-in for it)
// takes the notifications through the studio's Notifier seam.
#include "app/MainWindow.h"
#include "GuiHelpers.h"
#include "notifications/Notifier.h"
#include "runs/RunPage.h"
#include "runs/RunTreeModel.h"
#include "TestSupport.h"
#include "workspace/WorkspaceConnection.h"

#include <QAction>
#include <QStandardPaths>
#include <QTest>

using namespace Kiln;

class RecordingNotifier final : public Ui::Notifier {
public:
    QList<Notification> shown;
    void show(const Notification& n) override { shown << n; }
    void click(qint64 runId) { Q_EMIT activated(runId); }
};

class TestNotificationsGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    QString m_source;

    std::int64_t submit(const QString& points) {
        auto r = m_ws->kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                             QStringLiteral("notify"), QStringLiteral("--source"), m_source,
                             QStringLiteral("--script"), QStringLiteral("curve.py"), QStringLiteral("--json"),
                             QStringLiteral("--"), QStringLiteral("--points"), points});
        return r.exitCode == 0 ? r.json()["id"].get<std::int64_t>() : 0;
    }

    // The status the studio's run browser shows for run `id` (what the notifier reacts to).
    static QString seenStatus(Ui::MainWindow& window, std::int64_t id) {
        const auto index = window.runModel().indexOfRun(id);
        return index.isValid() ? index.data(Ui::RunTreeModel::StatusRole).toString() : QString();
    }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
        m_source = Test::sourceWith(m_tmp, QStringLiteral("src"), {QStringLiteral("curve.py")});
    }
    void cleanupTestCase() { m_ws.reset(); }

    void aRunEndingInTheBackgroundNotifiesOnce() {
        Ui::MainWindow window(m_ws->path());
        auto* notifier = new RecordingNotifier;
        window.setNotifier(notifier);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        // Another window has the focus: the studio is in the background.
        QWidget elsewhere;
        elsewhere.show();
        elsewhere.activateWindow();
        QTRY_VERIFY(elsewhere.isActiveWindow() && !window.isActiveWindow());
        const auto id = submit(QStringLiteral("30"));
        QVERIFY(id > 0);
        QTRY_COMPARE_WITH_TIMEOUT(notifier->shown.size(), 1, 30000);
        const auto n = notifier->shown.front();
        QCOMPARE(n.runId, id);
        QVERIFY2(n.title.contains(QStringLiteral("notify #%1").arg(id)) &&
                     n.title.contains(QStringLiteral("completed")),
                 qPrintable(n.title));
        QVERIFY2(n.body.contains(QStringLiteral("loss = ")), qPrintable(n.body));
        // Later listings do not repeat it: still in the background, a refresh and one more run. That run's
        // end is notified (so the listings after the refresh did arrive, and would have notified again),
        // the first run's is not: two notifications, not three.
        window.refresh();
        const auto later = submit(QStringLiteral("5"));
        QVERIFY(
            m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(later)}).exitCode ==
            0);
        QTRY_COMPARE_WITH_TIMEOUT(notifier->shown.size(), 2, 30000);
        QCOMPARE(notifier->shown.back().runId, later);
        window.refresh();
        QTRY_COMPARE_WITH_TIMEOUT(seenStatus(window, later), QStringLiteral("Completed"), 20000);
        QCOMPARE(seenStatus(window, id), QStringLiteral("Completed"));
        QCOMPARE(notifier->shown.size(), 2);
        QVERIFY(!window.isActiveWindow()); // (still in the background: a repeat would have been shown)
        // Clicking it opens the run.
        notifier->click(id);
        QTRY_VERIFY(window.currentRunPage() && window.currentRunPage()->runId() == id);
    }

    void noNotificationInFrontOrWhenSwitchedOff() {
        Ui::MainWindow window(m_ws->path());
        auto* notifier = new RecordingNotifier;
        window.setNotifier(notifier);
        window.show();
        window.activateWindow();
        QTRY_VERIFY(window.isActiveWindow());
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        const auto inFront = submit(QStringLiteral("10"));
        QVERIFY(
            m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(inFront)}).exitCode ==
            0);
        // The studio saw it end (the event a notification would follow), and none came.
        QTRY_COMPARE_WITH_TIMEOUT(seenStatus(window, inFront), QStringLiteral("Completed"), 20000);
        QCOMPARE(notifier->shown.size(), 0);
        // Switched off: nothing even in the background.
        window.findChild<QAction*>(QStringLiteral("actionNotifications"))->setChecked(false);
        QWidget elsewhere;
        elsewhere.show();
        elsewhere.activateWindow();
        QTRY_VERIFY(!window.isActiveWindow());
        const auto off = submit(QStringLiteral("10"));
        QVERIFY(m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(off)}).exitCode ==
                0);
        QTRY_COMPARE_WITH_TIMEOUT(seenStatus(window, off), QStringLiteral("Completed"), 20000);
        QCOMPARE(notifier->shown.size(), 0);
        window.findChild<QAction*>(QStringLiteral("actionNotifications"))->setChecked(true);
    }
};

int main(int argc, char** argv) {
    return Test::runGuiTest<TestNotificationsGui>(argc, argv);
}
#include "test_notifications_gui.moc"
