// The Datasets panel and dialogs, offscreen on the real main window: drop a folder on the register
// dialog, register, find the version and its files in the panel, then submit a run that uses it by
// picking it in the submission dialog.
#include "app/EmptyState.h"
#include "app/MainWindow.h"
#include "datasets/DatasetsPage.h"
#include "datasets/RegisterDatasetDialog.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "runs/SubmitDialog.h"
#include "TestSupport.h"
#include "workspace/WorkspaceConnection.h"

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMimeData>
#include <QPushButton>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTest>
#include <QToolBar>
#include <QTreeView>

using namespace Kiln;

class TestDatasetsGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
    }
    void cleanupTestCase() { m_ws.reset(); }

    void registerByDropAndUseInARun() {
        Ui::MainWindow window(m_ws->path());
        window.resize(1280, 800);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);

        Test::clickToolbar(window, "actionDatasets");
        Ui::DatasetsPage* page = nullptr;
        QTRY_VERIFY(page = window.findChild<Ui::DatasetsPage*>());
        // No dataset yet: the panel says what one is, and its button registers one.
        QTRY_VERIFY_WITH_TIMEOUT(page->emptyState()->isVisible(), 20000);
        QVERIFY(page->emptyState()->text()->text().contains(QStringLiteral("{dataset:name}")));
        Test::shot(&window, "datasets-empty");
        QTest::mouseClick(page->findChild<QPushButton*>(QStringLiteral("emptyRegisterDataset")),
                          Qt::LeftButton);
        Ui::RegisterDatasetDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = window.findChild<Ui::RegisterDatasetDialog*>()) && dialog->isVisible());

        // Drop the Fashion-MNIST folder onto the dialog, as a file manager would.
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(QStringLiteral("/usr/share/datasets/fashion-mnist"))});
        const QPoint at = dialog->rect().center();
        QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(dialog, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(dialog, &drop);
        QCOMPARE(dialog->sources(), QStringList{QStringLiteral("/usr/share/datasets/fashion-mnist")});
        auto* name = dialog->findChild<QLineEdit*>(QStringLiteral("datasetName"));
        QCOMPARE(name->text(), QStringLiteral("fashion-mnist")); // suggested from the folder
        name->selectAll();
        QTest::keyClicks(name, QStringLiteral("clothes"));
        QCOMPARE(name->text(), QStringLiteral("clothes"));
        Test::shot(dialog, "register-dialog");
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("registerButton")), Qt::LeftButton);

        // The panel shows the new version and its files with sizes and hashes.
        QTRY_VERIFY_WITH_TIMEOUT(!window.findChild<Ui::RegisterDatasetDialog*>() ||
                                     !window.findChild<Ui::RegisterDatasetDialog*>()->isVisible(),
                                 30000);
        QTRY_COMPARE_WITH_TIMEOUT(page->files()->rowCount(), 4, 10000);
        QVERIFY(!page->emptyState()->isVisible());
        QCOMPARE(page->tree()->model()->index(0, 0).data().toString(), QStringLiteral("clothes"));
        QCOMPARE(page->tree()->currentIndex().data().toString(), QStringLiteral("version 1"));
        QCOMPARE(page->files()->item(0, 0)->text(), QStringLiteral("t10k-images-idx3-ubyte.gz"));
        QCOMPARE(page->files()->item(0, 2)->text().size(), 64);
        QVERIFY(page->findChild<QLabel*>(QStringLiteral("datasetHeader"))
                    ->text()
                    .contains(QStringLiteral("version 1")));
        Test::shot(&window, "datasets-page");

        // Submit a run that uses it: pick the dataset, insert it into --data-folder.
        Test::clickToolbar(window, "actionNewRun");
        Ui::SubmitDialog* submit = nullptr;
        QTRY_VERIFY((submit = window.findChild<Ui::SubmitDialog*>()) && submit->isVisible());
        auto* choice = submit->findChild<QComboBox*>(QStringLiteral("datasetChoice"));
        QTRY_VERIFY(choice->isEnabled());
        QCOMPARE(choice->currentText(), QStringLiteral("clothes"));
        auto* table = submit->findChild<QTableWidget*>(QStringLiteral("arguments"));
        int dataRow = -1;
        for (int r = 0; r < table->rowCount(); ++r)
            if (table->item(r, 0)->text() == QLatin1String("--data-folder"))
                dataRow = r;
        QVERIFY(dataRow >= 0);
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                          table->visualItemRect(table->item(dataRow, 1)).center());
        QTest::mouseClick(submit->findChild<QPushButton*>(QStringLiteral("insertDataset")), Qt::LeftButton);
        QCOMPARE(table->item(dataRow, 1)->text(), QStringLiteral("{dataset:clothes}"));
        QVERIFY(QTest::qWaitForWindowActive(submit));
        Test::editCell(table, Test::rowOf(table, QStringLiteral("--epochs")), 1, QStringLiteral("1"));
        QTest::mouseClick(submit->findChild<QPushButton*>(QStringLiteral("addArgument")), Qt::LeftButton);
        Test::editCell(table, table->rowCount() - 1, 0, QStringLiteral("--limit"));
        Test::editCell(table, table->rowCount() - 1, 1, QStringLiteral("1000"));
        QVERIFY(submit->arguments().contains(QStringLiteral("{dataset:clothes}")));
        QVERIFY2(submit->arguments().contains(QStringLiteral("--limit")),
                 qPrintable(submit->arguments().join(u' ')));
        QTest::mouseClick(submit->findChild<QPushButton*>(QStringLiteral("submitButton")), Qt::LeftButton);

        QTRY_VERIFY_WITH_TIMEOUT(window.currentRunPage(), 20000);
        auto* run = window.currentRunPage();
        QTRY_COMPARE_WITH_TIMEOUT(run->findChild<QLabel*>(QStringLiteral("runStatus"))->text(),
                                  QStringLiteral("Completed"), 90000);
        QTRY_VERIFY(run->findChild<QLabel*>(QStringLiteral("runDetails"))
                        ->text()
                        .contains(QStringLiteral("clothes:1 (mount)")));

        // The panel lists the run under the version it used.
        auto* datasets = window.showDatasets();
        datasets->select(QStringLiteral("clothes"), 1);
        QTRY_COMPARE_WITH_TIMEOUT(datasets->findChild<QListWidget*>(QStringLiteral("datasetRuns"))->count(),
                                  1, 10000);
    }
};

int main(int argc, char** argv) {
    return Kiln::Test::runGuiTest<TestDatasetsGui>(argc, argv);
}
#include "test_datasets_gui.moc"
