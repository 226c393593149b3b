// The real main window, offscreen, on a temporary workspace: submit the Fashion-MNIST sample through
// the dialog by clicking and typing, watch the chart fill and the status reach Completed, then close
// and reopen the studio and find the same run.
#include "app/MainWindow.h"
#include "charts/MetricChart.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "runs/RunTreeModel.h"
#include "runs/SubmitDialog.h"
#include "TestSupport.h"
#include "workspace/WorkspaceConnection.h"

#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableWidget>
#include <QTest>
#include <QToolBar>
#include <QTreeView>

using namespace Kiln;

class TestMainWindow : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
    }
    void cleanupTestCase() { m_ws.reset(); }

    void submitFromTheDialogAndWatchItTrain() {
        auto window = std::make_unique<Ui::MainWindow>(m_ws->path());
        window->show();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        QTRY_COMPARE_WITH_TIMEOUT(window->connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* serverState = window->findChild<QLabel*>(QStringLiteral("serverState"));
        QVERIFY(serverState->text().contains(QString::fromStdString(m_ws->url())));

        // New run (toolbar button) opens the dialog, pre-filled with the sample.
        auto* toolbar = window->findChild<QToolBar*>(QStringLiteral("mainToolbar"));
        auto* newRun = window->findChild<QAction*>(QStringLiteral("actionNewRun"));
        QTest::mouseClick(toolbar->widgetForAction(newRun), Qt::LeftButton);
        Ui::SubmitDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = window->findChild<Ui::SubmitDialog*>()) && dialog->isVisible());
        QVERIFY(QTest::qWaitForWindowActive(dialog));
        auto* source = dialog->findChild<QLineEdit*>(QStringLiteral("sourceFolder"));
        QVERIFY(source->text().endsWith(QStringLiteral("samples/fashion-mnist")));

        // Make it quick: one epoch on 2000 images. Type the values into the arguments table.
        auto* table = dialog->findChild<QTableWidget*>(QStringLiteral("arguments"));
        const int epochs = Test::rowOf(table, QStringLiteral("--epochs"));
        QVERIFY(epochs >= 0);
        Test::editCell(table, epochs, 1, QStringLiteral("1"));
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("addArgument")), Qt::LeftButton);
        const int limit = table->rowCount() - 1;
        Test::editCell(table, limit, 0, QStringLiteral("--limit"));
        Test::editCell(table, limit, 1, QStringLiteral("2000"));
        auto* experiment = dialog->findChild<QComboBox*>(QStringLiteral("experiment"));
        experiment->lineEdit()->selectAll();
        QTest::keyClicks(experiment->lineEdit(), QStringLiteral("gui-test"));
        QVERIFY(dialog->arguments().contains(QStringLiteral("--limit")));
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("submitButton")), Qt::LeftButton);

        // The run page opens and fills live.
        QTRY_VERIFY_WITH_TIMEOUT(window->currentRunPage(), 20000);
        auto* page = window->currentRunPage();
        QTRY_VERIFY_WITH_TIMEOUT(page->chart(QStringLiteral("loss")), 60000);
        auto* loss = page->chart(QStringLiteral("loss"));
        QTRY_VERIFY_WITH_TIMEOUT(loss->drawnPointCount(QStringLiteral("loss")) > 0, 10000);
        auto* status = page->findChild<QLabel*>(QStringLiteral("runStatus"));
        QTRY_COMPARE_WITH_TIMEOUT(status->text(), QStringLiteral("Completed"), 90000);
        QTRY_VERIFY(page->findChild<QPlainTextEdit*>(QStringLiteral("runLog"))
                        ->toPlainText()
                        .contains(QStringLiteral("Epoch 1/1")));
        QVERIFY(loss->pointCount(QStringLiteral("loss")) >= 2);
        QVERIFY(page->chart(QStringLiteral("test_accuracy")));
        Test::shot(window.get(), "run-page");

        // The browser lists it under its experiment with its status.
        auto& model = window->runModel();
        QTRY_COMPARE(model.runCount(), 1);
        const auto index = model.indexOfRun(page->runId());
        QCOMPARE(index.parent().data().toString(), QStringLiteral("gui-test"));
        QTRY_COMPARE(
            model.index(index.row(), Ui::RunTreeModel::StatusColumn, index.parent()).data().toString(),
            QStringLiteral("Completed"));

        const auto runId = page->runId();
        const auto lossPoints = loss->pointCount(QStringLiteral("loss"));
        window->close();
        window.reset();

        // Reopening the studio shows the same run again, with its curves.
        auto again = std::make_unique<Ui::MainWindow>(m_ws->path());
        again->show();
        QTRY_VERIFY_WITH_TIMEOUT(again->currentRunPage(), 20000);
        QCOMPARE(again->currentRunPage()->runId(), runId);
        QTRY_COMPARE_WITH_TIMEOUT(
            again->currentRunPage()->findChild<QLabel*>(QStringLiteral("runStatus"))->text(),
            QStringLiteral("Completed"), 20000);
        QTRY_VERIFY(again->currentRunPage()->chart(QStringLiteral("loss")));
        QTRY_COMPARE(
            again->currentRunPage()->chart(QStringLiteral("loss"))->pointCount(QStringLiteral("loss")),
            lossPoints);
    }

    void restartsALostServer() {
        Ui::MainWindow window(m_ws->path());
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* serverState = window.findChild<QLabel*>(QStringLiteral("serverState"));
        QList<Ui::WorkspaceConnection::State> states;
        QStringList texts;
        connect(&window.connection(), &Ui::WorkspaceConnection::stateChanged, this, [&] {
            states << window.connection().state();
            texts << serverState->text();
        });
        const auto before = m_ws->kilndPid();
        m_ws->killServer(); // kill -9
        // The status bar says so, then the studio starts kilnd again and carries on.
        QTRY_VERIFY_WITH_TIMEOUT(states.contains(Ui::WorkspaceConnection::State::Reconnecting), 20000);
        QVERIFY(texts.join(u'|').contains(QStringLiteral("reconnecting")));
        auto log = [this] {
            QFile f(m_ws->path() + QStringLiteral("/kilnd.log"));
            return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll().right(600)) : QString();
        };
        QTRY_VERIFY2_WITH_TIMEOUT(window.connection().state() == Ui::WorkspaceConnection::State::Connected,
                                  qPrintable(log()), 30000);
        QVERIFY(serverState->text().startsWith(QStringLiteral("kilnd: ")));
        QVERIFY(m_ws->kilndPid() != before);
        QTRY_COMPARE_WITH_TIMEOUT(window.runModel().runCount(), 1, 20000);
    }

    void aSubmitSaysWhatTheSnapshotLeftOut() {
        // A project with a link leading out of it: the run is submitted without it, and the status bar names
        // it.
        QTemporaryDir project;
        QFile script(project.path() + QStringLiteral("/train.py"));
        QVERIFY(script.open(QIODevice::WriteOnly));
        script.write("print('ok')\n");
        script.close();
        QVERIFY(QFile::link(QStringLiteral("/etc/hostname"), project.path() + QStringLiteral("/hostname")));
        Test::Workspace ws; // its own: the other tests count this workspace's runs
        Ui::MainWindow window(ws.path());
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        Test::clickToolbar(window, "actionNewRun");
        Ui::SubmitDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = window.findChild<Ui::SubmitDialog*>()) && dialog->isVisible());
        dialog->setSource(project.path(), QStringLiteral("train.py"));
        dialog->setArguments({});
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("submitButton")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(window.currentRunPage(), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(window.statusBar()->currentMessage().contains(QStringLiteral("hostname")),
                                 5000);
        QVERIFY(window.statusBar()->currentMessage().contains(QStringLiteral("lead outside")));
        Test::shot(&window, "submit-warning");
    }

    void aFullDiskShowsTheWorkspaceReadOnly() {
        // The studio opens a workspace whose disk is full: kilnd can only start read-only, and the status bar
        // says so; once there is room kilnd restarts read-write and the studio carries on without the note.
        KILN_SMALL_DISK(mnt, 8);
        const QString ws = mnt.path() + QStringLiteral("/ws");
        auto stop = qScopeGuard([&] {
            Test::runKiln(
                {QStringLiteral("server"), QStringLiteral("stop"), QStringLiteral("--workspace"), ws});
        });
        // A workspace that has been used (its server file exists), then the disk filled up.
        QCOMPARE(Test::runKiln({QStringLiteral("workspace"), QStringLiteral("init"), ws}).exitCode, 0);
        QFile offered(ws + QStringLiteral("/sample-dataset")); // no sample data (29 MB) on the small disk
        QVERIFY(offered.open(QIODevice::WriteOnly));
        offered.close();
        QCOMPARE(Test::runKiln(
                     {QStringLiteral("server"), QStringLiteral("start"), QStringLiteral("--workspace"), ws})
                     .exitCode,
                 0);
        QCOMPARE(Test::runKiln(
                     {QStringLiteral("server"), QStringLiteral("stop"), QStringLiteral("--workspace"), ws})
                     .exitCode,
                 0);
        mnt.fill();

        Ui::MainWindow window(ws);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* serverState = window.findChild<QLabel*>(QStringLiteral("serverState"));
        QTRY_VERIFY_WITH_TIMEOUT(serverState->text().contains(QStringLiteral("read-only")), 10000);
        QVERIFY(serverState->toolTip().contains(QStringLiteral("disk is full")));
        Test::shot(&window, "read-only");

        QVERIFY(mnt.free());
        QTRY_VERIFY_WITH_TIMEOUT(window.connection().state() == Ui::WorkspaceConnection::State::Connected &&
                                     serverState->text().startsWith(QStringLiteral("kilnd: ")) &&
                                     !serverState->text().contains(QStringLiteral("read-only")),
                                 30000);
    }

    void filterFindsRunsByName() {
        Ui::MainWindow window(m_ws->path());
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.runModel().runCount(), 1, 20000);
        auto* tree = window.findChild<QTreeView*>(QStringLiteral("runTree"));
        auto* filter = window.findChild<QLineEdit*>(QStringLiteral("runFilter"));
        QTest::keyClicks(filter, QStringLiteral("no-such-run"));
        QTRY_COMPARE(tree->model()->rowCount(), 0);
        filter->clear();
        QTest::keyClicks(filter, QStringLiteral("gui-test"));
        QTRY_COMPARE(tree->model()->rowCount(), 1);
        // Enter on a run opens it.
        const auto runIndex = tree->model()->index(0, 0, tree->model()->index(0, 0));
        tree->setCurrentIndex(runIndex);
        tree->setFocus();
        QTest::keyClick(tree, Qt::Key_Return);
        QTRY_VERIFY(window.currentRunPage());
    }
};

int main(int argc, char** argv) {
    return Kiln::Test::runGuiTest<TestMainWindow>(argc, argv);
}
#include "test_main_window.moc"
