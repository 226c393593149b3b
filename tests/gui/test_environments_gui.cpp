// The Environments panel offscreen on the real main window: type a broken conda file and see the wrong
// line marked, fix it, save, build with the live log, then submit a run that picks the environment.
#include "api/Client.h"
#include "app/MainWindow.h"
#include "environments/EnvironmentsPage.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "runs/SubmitDialog.h"
#include "TestSupport.h"
#include "workspace/WorkspaceConnection.h"

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QStandardPaths>
#include <QTest>
#include <QToolBar>

using namespace Kiln;

class TestEnvironmentsGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;

    static void typeInto(QPlainTextEdit* editor, const QString& text) {
        editor->setFocus();
        QTest::keyClick(editor, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClick(editor, Qt::Key_Delete);
        for (const auto& line : text.split(u'\n')) {
            QTest::keyClicks(editor, line);
            QTest::keyClick(editor, Qt::Key_Return);
        }
    }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
    }
    void cleanupTestCase() { m_ws.reset(); }

    void editValidateBuildAndUse() {
        Ui::MainWindow window(m_ws->path());
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        Test::clickToolbar(window, "actionEnvironments");
        Ui::EnvironmentsPage* page = nullptr;
        QTRY_VERIFY(page = window.findChild<Ui::EnvironmentsPage*>());
        QTest::mouseClick(page->findChild<QPushButton*>(QStringLiteral("newEnvironment")), Qt::LeftButton);
        auto* name = page->findChild<QLineEdit*>(QStringLiteral("environmentName"));
        QTest::keyClicks(name, QStringLiteral("gui-env"));

        // A dash out of line on line 3: marked, and Save is off.
        typeInto(page->editor(), QStringLiteral("dependencies:\n  - python=3\n - pip"));
        QTRY_COMPARE(page->markedLine(), 3);
        QVERIFY(page->validation()->text().startsWith(QStringLiteral("Line 3")));
        QCOMPARE(page->editor()->extraSelections().size(), 1);
        QCOMPARE(page->editor()->extraSelections().first().cursor.blockNumber(), 2);
        auto* save = page->findChild<QPushButton*>(QStringLiteral("saveEnvironment"));
        QVERIFY(!save->isEnabled());
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            window.grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") +
                               QStringLiteral("/environments-error.png"));

        // Fixed: the mark goes away.
        typeInto(page->editor(), QStringLiteral("dependencies:\n  - python=3"));
        QTRY_COMPARE(page->markedLine(), 0);
        QVERIFY(page->editor()->extraSelections().isEmpty());
        QVERIFY(save->isEnabled());
        QTest::mouseClick(save, Qt::LeftButton);
        auto* status = page->findChild<QLabel*>(QStringLiteral("environmentStatus"));
        QTRY_COMPARE_WITH_TIMEOUT(status->text(), QStringLiteral("Saved as gui-env:1"), 10000);

        QTest::mouseClick(page->findChild<QPushButton*>(QStringLiteral("buildEnvironment")), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(status->text(), QStringLiteral("Built"), 120000);
        QVERIFY(page->findChild<QPlainTextEdit*>(QStringLiteral("buildLog"))
                    ->toPlainText()
                    .contains(QStringLiteral("environment built in")));
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            window.grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") +
                               QStringLiteral("/environments-built.png"));

        // Submit a run that picks it, and a dataset too.
        auto& client = m_ws->client();
        client.waitJob(client.post(
            "/api/v1/datasets",
            {{"name", "fm"}, {"sources", {{{"path", "/usr/share/datasets/fashion-mnist"}}}}})["job"]);
        Test::clickToolbar(window, "actionNewRun");
        Ui::SubmitDialog* submit = nullptr;
        QTRY_VERIFY((submit = window.findChild<Ui::SubmitDialog*>()) && submit->isVisible());
        auto* environment = submit->findChild<QComboBox*>(QStringLiteral("environment"));
        QTRY_COMPARE(environment->count(), 2);
        submit->setSource(QStringLiteral(KILN_TEST_DATA "/scripts"), QStringLiteral("prefix.py"));
        environment->setFocus();
        QTest::keyClick(environment, Qt::Key_Down);
        QCOMPARE(environment->currentText(), QStringLiteral("gui-env"));
        submit->setArguments({});
        QTRY_COMPARE(submit->findChild<QComboBox*>(QStringLiteral("datasetChoice"))->currentText(),
                     QStringLiteral("fm"));
        QTest::mouseClick(submit->findChild<QPushButton*>(QStringLiteral("insertDataset")), Qt::LeftButton);
        QCOMPARE(submit->arguments(),
                 (QStringList{QStringLiteral("--data-folder"), QStringLiteral("{dataset:fm}")}));
        QTest::mouseClick(submit->findChild<QPushButton*>(QStringLiteral("submitButton")), Qt::LeftButton);
        QPointer<Ui::SubmitDialog> alive(submit); // deleted once it submitted
        QTRY_VERIFY2_WITH_TIMEOUT(
            window.currentRunPage(),
            qPrintable(alive ? alive->findChild<QLabel*>(QStringLiteral("submitMessage"))->text()
                             : QString()),
            20000);
        auto* run = window.currentRunPage();
        QTRY_COMPARE_WITH_TIMEOUT(run->findChild<QLabel*>(QStringLiteral("runStatus"))->text(),
                                  QStringLiteral("Completed"), 60000);
        QTRY_VERIFY(run->findChild<QPlainTextEdit*>(QStringLiteral("runLog"))
                        ->toPlainText()
                        .contains(QStringLiteral("reusing the cached build")));
        QVERIFY(run->findChild<QPlainTextEdit*>(QStringLiteral("runLog"))
                    ->toPlainText()
                    .contains(m_ws->path() + QStringLiteral("/envs/")));
        QTRY_VERIFY(run->findChild<QLabel*>(QStringLiteral("runDetails"))
                        ->text()
                        .contains(QStringLiteral("gui-env:1")));
    }
};

int main(int argc, char** argv) {
    return Kiln::Test::runGuiTest<TestEnvironmentsGui>(argc, argv);
}
#include "test_environments_gui.moc"
