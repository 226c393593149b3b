// The first-run experience, offscreen on the real main window: an empty workspace shows the welcome page,
// whose one button runs the Fashion-MNIST sample; the workspace joins the recent list; "Open workspace"
// connects another window to a server given by URL and token.
#include "api/Client.h"
#include "app/MainWindow.h"
#include "app/WelcomePage.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "TestSupport.h"
#include "workspace/WorkspaceConnection.h"

#include <QDialogButtonBox>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTest>

using namespace Kiln;

class TestWelcomeGui : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void anEmptyWorkspaceWelcomesAndRunsTheSample() {
        Test::Workspace ws;
        Ui::MainWindow window(ws.path());
        window.resize(1200, 800);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        QVERIFY(window.welcome()->isVisible());
        // The workspace is remembered for the welcome page's recent list.
        QTRY_COMPARE(QSettings().value(QStringLiteral("workspaces/recent")).toStringList().value(0),
                     ws.path());

        QTest::mouseClick(window.welcome()->findChild<QPushButton*>(QStringLiteral("welcomeRunSample")),
                          Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(window.currentRunPage(), 30000);
        QVERIFY(!window.welcome()->isVisible());
        const auto id = window.currentRunPage()->runId();
        auto run = ws.client().run(id);
        QCOMPARE(run["experiment"].get<std::string>(), std::string("fashion-mnist"));
        QCOMPARE(run["script"].get<std::string>(), std::string("train.py"));
        const auto args = run["args"].get<std::vector<std::string>>();
        QVERIFY(std::find(args.begin(), args.end(), "--epochs") != args.end());
        if (QFile::exists(QStringLiteral("/usr/share/datasets/fashion-mnist")))
            QVERIFY(std::find(args.begin(), args.end(), "{dataset:fashion-mnist}") != args.end());
        ws.client().post("/api/v1/runs/" + std::to_string(id) + "/cancel",
                         Json::object()); // no need to train
    }

    void openWorkspaceConnectsToAServerByUrlAndToken() {
        Test::Workspace local, remote;
        Ui::MainWindow window(local.path());
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        QTest::mouseClick(window.welcome()->findChild<QPushButton*>(QStringLiteral("welcomeOpenWorkspace")),
                          Qt::LeftButton);
        Ui::OpenWorkspaceDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = window.findChild<Ui::OpenWorkspaceDialog*>()) && dialog->isVisible());
        QTest::keyClicks(dialog->urlEdit(), QString::fromStdString(remote.url()));
        QTest::keyClicks(dialog->tokenEdit(), QString::fromStdString(remote.token()));
        QTest::mouseClick(dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Open),
                          Qt::LeftButton);
        // A second window, connected to that server.
        Ui::MainWindow* other = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (auto* w : QApplication::topLevelWidgets())
                    if (auto* mw = qobject_cast<Ui::MainWindow*>(w); mw && mw != &window && mw->isVisible())
                        other = mw;
                return other != nullptr;
            }(),
            10000);
        QTRY_COMPARE_WITH_TIMEOUT(other->connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        QCOMPARE(other->connection().url(), QString::fromStdString(remote.url()));
        other->close();
        // A bad entry is refused in the dialog, with a reason.
        QTest::mouseClick(window.welcome()->findChild<QPushButton*>(QStringLiteral("welcomeOpenWorkspace")),
                          Qt::LeftButton);
        QTRY_VERIFY((dialog = window.findChild<Ui::OpenWorkspaceDialog*>()) && dialog->isVisible());
        QTest::keyClicks(dialog->urlEdit(), QStringLiteral("not a url"));
        QTest::mouseClick(dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Open),
                          Qt::LeftButton);
        QVERIFY(dialog->isVisible());
        dialog->reject();
    }
};

int main(int argc, char** argv) {
    return Test::runGuiTest<TestWelcomeGui>(argc, argv);
}
#include "test_welcome_gui.moc"
