// "Run again" and "Clone and edit" on a run page, offscreen on the real main window: the submission
// dialog comes pre-filled with every field of the run (its source snapshot, script, arguments, environment,
// compute, experiment), and the runs they start use the same snapshot.
#include "api/Client.h"
#include "app/MainWindow.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "runs/SubmitDialog.h"
#include "TestSupport.h"
#include "workspace/WorkspaceConnection.h"

#include <QPushButton>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>

using namespace Kiln;

class TestCloneGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    std::int64_t m_run = 0;
    const QStringList m_args = {QStringLiteral("--scale"),     QStringLiteral("3"),
                                QStringLiteral("--points"),    QStringLiteral("20"),
                                QStringLiteral("--optimizer"), QStringLiteral("adam")};

    bool waitCompleted(std::int64_t id) {
        for (int i = 0; i < 1200; ++i) {
            const auto status = m_ws->client().run(id)["status"].get<std::string>();
            if (status == "Completed")
                return true;
            if (status == "Failed" || status == "Canceled")
                return false;
            QTest::qWait(50);
        }
        return false;
    }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
        QCOMPARE(m_ws->kiln({QStringLiteral("env"), QStringLiteral("create"), QStringLiteral("--name"),
                             QStringLiteral("sys"), QStringLiteral("--python"),
                             QStringLiteral("/usr/bin/python3")})
                     .exitCode,
                 0);
        QCOMPARE(m_ws->kiln({QStringLiteral("compute"), QStringLiteral("create"), QStringLiteral("--name"),
                             QStringLiteral("two"), QStringLiteral("--max-nodes"), QStringLiteral("2")})
                     .exitCode,
                 0);
        const auto source = Test::sourceWith(m_tmp, QStringLiteral("src"), {QStringLiteral("curve.py")});
        auto r = m_ws->kiln(
            QStringList{QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                        QStringLiteral("clone"), QStringLiteral("--source"), source,
                        QStringLiteral("--script"), QStringLiteral("curve.py"), QStringLiteral("--env"),
                        QStringLiteral("sys"), QStringLiteral("--compute"), QStringLiteral("two"),
                        QStringLiteral("--json"), QStringLiteral("--")} +
            m_args);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        m_run = r.json()["id"].get<std::int64_t>();
        QVERIFY(waitCompleted(m_run));
        // The source folder changes afterwards: a clone must still run what the original ran.
        QVERIFY(QFile::remove(source + QStringLiteral("/curve.py")));
    }
    void cleanupTestCase() { m_ws.reset(); }

    void cloneAndEditPrefillsEveryField() {
        Ui::MainWindow window(m_ws->path());
        window.resize(1280, 800);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* page = window.openRun(m_run);
        QTRY_COMPARE_WITH_TIMEOUT(page->status(), QStringLiteral("Completed"), 20000);
        QTest::mouseClick(page->findChild<QPushButton*>(QStringLiteral("cloneRun")), Qt::LeftButton);
        Ui::SubmitDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = window.findChild<Ui::SubmitDialog*>()) && dialog->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(dialog->usesSnapshot(), 20000);
        QCOMPARE(dialog->experiment(), QStringLiteral("clone"));
        QCOMPARE(dialog->script(), QStringLiteral("curve.py"));
        QCOMPARE(dialog->arguments(), m_args);
        QCOMPARE(dialog->environment(), QStringLiteral("sys:1"));
        QCOMPARE(dialog->compute(), QStringLiteral("two"));
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            dialog->grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") +
                                QStringLiteral("/clone-dialog.png"));
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("submitButton")), Qt::LeftButton);
        // The new run opens, and runs the original snapshot with the same settings.
        QTRY_VERIFY_WITH_TIMEOUT(window.currentRunPage() && window.currentRunPage()->runId() != m_run, 20000);
        const auto clone = window.currentRunPage()->runId();
        QVERIFY(waitCompleted(clone));
        const auto original = m_ws->client().run(m_run), copy = m_ws->client().run(clone);
        for (const char* field : {"snapshot", "script", "args", "compute", "experiment", "environment"})
            QVERIFY2(copy[field] == original[field], field);
    }

    void runAgainSubmitsTheSameRun() {
        Ui::MainWindow window(m_ws->path());
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* page = window.openRun(m_run);
        QTRY_COMPARE_WITH_TIMEOUT(page->status(), QStringLiteral("Completed"), 20000);
        QTest::mouseClick(page->findChild<QPushButton*>(QStringLiteral("runAgain")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(window.currentRunPage() && window.currentRunPage()->runId() != m_run, 20000);
        const auto again = window.currentRunPage()->runId();
        QVERIFY(waitCompleted(again));
        const auto original = m_ws->client().run(m_run), copy = m_ws->client().run(again);
        for (const char* field : {"snapshot", "script", "args", "compute", "experiment", "environment"})
            QVERIFY2(copy[field] == original[field], field);
        auto h = m_ws->client().get("/api/v1/runs/" + std::to_string(again) + "/metrics/history?key=loss");
        QCOMPARE(h["series"]["values"].size(), std::size_t(20));
    }
};

int main(int argc, char** argv) {
    return Test::runGuiTest<TestCloneGui>(argc, argv);
}
#include "test_clone_gui.moc"
