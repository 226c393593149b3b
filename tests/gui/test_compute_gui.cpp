// The Compute panel offscreen on the real main window: create a local target through the dialog, see it
// and its nodes in the panel, submit a run to it and see the run on one of its nodes.
#include "app/MainWindow.h"
#include "compute/ComputePage.h"
#include "compute/NewComputeDialog.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "runs/SubmitDialog.h"
#include "TestSupport.h"
#include "workspace/WorkspaceConnection.h"

#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QToolBar>
#include <QTreeView>

using namespace Kiln;

class TestComputeGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
    }
    void cleanupTestCase() { m_ws.reset(); }

    void createTargetAndSubmitToIt() {
        Ui::MainWindow window(m_ws->path());
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        Test::clickToolbar(window, "actionCompute");
        Ui::ComputePage* page = nullptr;
        QTRY_VERIFY(page = window.findChild<Ui::ComputePage*>());
        QTRY_COMPARE(page->targets()->model()->rowCount(), 1); // the workspace's "local"

        QTest::mouseClick(page->findChild<QPushButton*>(QStringLiteral("newCompute")), Qt::LeftButton);
        Ui::NewComputeDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = window.findChild<Ui::NewComputeDialog*>()) && dialog->isVisible());
        QVERIFY(QTest::qWaitForWindowActive(dialog));
        // Choosing Slurm swaps the local pool's fields for the cluster's.
        auto* type = dialog->findChild<QComboBox*>(QStringLiteral("computeType"));
        auto* slurmUrl = dialog->findChild<QLineEdit*>(QStringLiteral("slurmUrl"));
        QVERIFY(!slurmUrl->isVisible());
        type->setFocus();
        QTest::keyClick(type, Qt::Key_Down);
        QTRY_VERIFY(slurmUrl->isVisible());
        QVERIFY(!dialog->findChild<QSpinBox*>(QStringLiteral("cpusPerRun"))->isVisible());
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            dialog->grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") +
                                QStringLiteral("/new-compute-slurm.png"));
        QTest::keyClick(type, Qt::Key_Up);
        QTRY_VERIFY(!slurmUrl->isVisible());
        QTest::keyClicks(dialog->findChild<QLineEdit*>(QStringLiteral("computeName")),
                         QStringLiteral("trio"));
        auto* maxNodes = dialog->findChild<QSpinBox*>(QStringLiteral("maxNodes"));
        maxNodes->setFocus();
        QTest::keyClick(maxNodes, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClicks(maxNodes, QStringLiteral("3"));
        QCOMPARE(maxNodes->value(), 3);
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("createCompute")), Qt::LeftButton);

        QTRY_COMPARE_WITH_TIMEOUT(page->targets()->model()->rowCount(), 2, 10000);
        QTRY_COMPARE(page->selected(), QStringLiteral("trio"));
        QTRY_COMPARE(page->nodes()->rowCount(), 3);
        QCOMPARE(page->nodes()->item(0, 0)->text(), QStringLiteral("trio-0"));
        QCOMPARE(page->nodes()->item(0, 1)->text(), QStringLiteral("idle"));
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            window.grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") + QStringLiteral("/compute.png"));

        Test::clickToolbar(window, "actionNewRun");
        Ui::SubmitDialog* submit = nullptr;
        QTRY_VERIFY((submit = window.findChild<Ui::SubmitDialog*>()) && submit->isVisible());
        auto* compute = submit->findChild<QComboBox*>(QStringLiteral("compute"));
        QTRY_COMPARE(compute->count(), 2);
        compute->setCurrentIndex(compute->findText(QStringLiteral("trio")));
        submit->setSource(QStringLiteral(KILN_TEST_DATA "/scripts"), QStringLiteral("slow.py"));
        QTemporaryDir gate; // the run goes on until the test has seen it on its node
        const QString release = gate.path() + QStringLiteral("/release");
        submit->setArguments(
            {{QStringLiteral("--seconds"), QStringLiteral("1")}, {QStringLiteral("--until"), release}});
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            submit->grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") +
                                QStringLiteral("/submit-dialog.png"));
        QTest::mouseClick(submit->findChild<QPushButton*>(QStringLiteral("submitButton")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(window.currentRunPage(), 20000);
        auto* run = window.currentRunPage();
        QTRY_VERIFY_WITH_TIMEOUT(run->findChild<QLabel*>(QStringLiteral("runDetails"))
                                     ->text()
                                     .contains(QStringLiteral("compute trio (node trio-0)")),
                                 20000);
        // While it runs, its node shows the run and the load it puts on the node (its system metrics).
        window.showCompute();
        QTRY_COMPARE_WITH_TIMEOUT(page->nodes()->item(0, 4)->text(),
                                  QStringLiteral("run %1").arg(run->runId()), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(page->nodes()->item(0, 5)->text().contains(QStringLiteral(" cores · ")),
                                 20000);
        QCOMPARE(page->nodes()->item(1, 5)->text(), QString()); // an idle node has none
        Test::shot(page, "compute-load");
        QFile(release).open(QIODevice::WriteOnly);
        QTRY_COMPARE_WITH_TIMEOUT(run->findChild<QLabel*>(QStringLiteral("runStatus"))->text(),
                                  QStringLiteral("Completed"), 60000);

        // Back on the panel, the node that ran it is warm (idle) now.
        window.showCompute();
        QTRY_COMPARE_WITH_TIMEOUT(page->nodes()->item(0, 1)->text(), QStringLiteral("idle"), 10000);
    }
};

int main(int argc, char** argv) {
    return Kiln::Test::runGuiTest<TestComputeGui>(argc, argv);
}
#include "test_compute_gui.moc"
