// The model registry in the studio, offscreen on the real main window: "Register model…" on a finished
// run's page, version 1 in the Models panel with its lineage, a verified download to a folder, one-click
// registration (proposed names, Enter, More…), a run folder from the Files tab, a drag's data, a lineage link
// and archiving.
#include "api/Client.h"
#include "app/EmptyState.h"
#include "app/MainWindow.h"
#include "GuiHelpers.h"
#include "models/ModelsPage.h"
#include "models/QuickRegister.h"
#include "models/RegisterModelDialog.h"
#include "runs/RunFilesView.h"
#include "runs/RunPage.h"
#include "TestSupport.h"
#include "transfer/DownloadDialog.h"
#include "workspace/WorkspaceConnection.h"

#include <QAction>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMimeData>
#include <QPushButton>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTabWidget>
#include <QTest>
#include <QToolButton>
#include <QTreeView>
#include <QTreeWidget>

using namespace Kiln;

class TestModelsGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    std::int64_t m_run = 0;
    std::map<QString, QByteArray> m_modelHashes; // outputs/model/<path> -> sha256, as kilnd recorded them

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
        const auto source = Test::sourceWith(m_tmp, QStringLiteral("src"), {QStringLiteral("model.py")});
        auto r = m_ws->kiln(
            {QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
             QStringLiteral("gui"), QStringLiteral("--source"), source, QStringLiteral("--script"),
             QStringLiteral("model.py"), QStringLiteral("--system-interval"), QStringLiteral("0.2"),
             QStringLiteral("--json")}); // a short run, sampled early enough to have system metrics
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        m_run = r.json()["id"].get<std::int64_t>();
        QCOMPARE(m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(m_run)}).exitCode,
                 0);
        for (const auto& f : m_ws->client().get("/api/v1/runs/" + std::to_string(m_run) + "/files")) {
            const auto path = QString::fromStdString(f["path"].get<std::string>());
            if (path.startsWith(QStringLiteral("outputs/model/")))
                m_modelHashes[path.mid(14)] = QByteArray::fromStdString(f["sha256"].get<std::string>());
        }
        QCOMPARE(m_modelHashes.size(), std::size_t(2));
    }
    void cleanupTestCase() { m_ws.reset(); }

    void registerFromTheRunPageThenDownload() {
        Ui::MainWindow window(m_ws->path());
        window.resize(1280, 800);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        // No model yet: the Models panel says what one is and offers the newest completed run.
        auto* emptyModels = window.showModels();
        QTRY_VERIFY_WITH_TIMEOUT(emptyModels->emptyState()->isVisible(), 20000);
        auto* offer = emptyModels->findChild<QPushButton*>(QStringLiteral("modelsEmptyAction"));
        QTRY_VERIFY_WITH_TIMEOUT(offer->text().contains(QStringLiteral("run %1").arg(m_run)), 20000);
        Test::shot(&window, "models-empty");
        QTest::mouseClick(offer, Qt::LeftButton);
        Ui::RunPage* runPage = nullptr;
        QTRY_VERIFY((runPage = window.currentRunPage()) && runPage->runId() == m_run);
        QTRY_COMPARE_WITH_TIMEOUT(runPage->status(), QStringLiteral("Completed"), 20000);
        QTRY_VERIFY(runPage->registerModelButton()->isEnabled());

        // "Register model…", from the button's menu: the dialog.
        auto* withDialog = runPage->registerModelButton()->menu()->findChild<QAction*>(
            QStringLiteral("registerModelDialogAction"));
        QVERIFY(withDialog);
        withDialog->trigger();
        Ui::RegisterModelDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = window.findChild<Ui::RegisterModelDialog*>()) && dialog->isVisible());
        QTRY_COMPARE(dialog->pathBox()->currentText(), QStringLiteral("outputs/model")); // pre-filled
        QCOMPARE(dialog->nameBox()->currentText(),
                 QStringLiteral("gui")); // no model yet: the experiment's name
        dialog->nameBox()->setFocus();
        dialog->nameBox()->lineEdit()->selectAll();
        QTest::keyClicks(dialog->nameBox(), QStringLiteral("fashion-gui"));
        QTest::keyClicks(dialog->findChild<QLineEdit*>(QStringLiteral("modelTags")),
                         QStringLiteral("stage=dev"));
        Test::shot(dialog, "register-model-dialog");
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("registerModelOk")), Qt::LeftButton);

        // The Models panel opens on version 1, with its files and lineage.
        Ui::ModelsPage* models = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((models = window.findChild<Ui::ModelsPage*>()) && models->isVisible(),
                                 20000);
        QTRY_VERIFY_WITH_TIMEOUT(!models->shown().is_null() && models->shown()["name"] == "fashion-gui",
                                 20000);
        QCOMPARE(models->shown()["version"].get<int>(), 1);
        QCOMPARE(models->tree()->currentIndex().data().toString(), QStringLiteral("version 1"));
        QCOMPARE(models->shown()["tags"]["stage"].get<std::string>(), std::string("dev"));
        QCOMPARE(models->files()->rowCount(), 2);
        QVERIFY(models->lineage()->text().contains(QStringLiteral("run:%1").arg(m_run)));
        QVERIFY(models->lineage()->text().contains(QStringLiteral("loss")));
        // The script's final metrics are listed; the supervisor's sys/... ones are one line after them.
        const auto& finals = models->shown()["lineage"]["metrics"];
        QVERIFY2(finals.contains("sys/peak_rss_mb") && finals.contains("loss"), finals.dump().c_str());
        const auto lineage = models->lineage()->text();
        QVERIFY2(!lineage.contains(QStringLiteral("sys/")) &&
                     lineage.indexOf(QStringLiteral("Final metrics: accuracy")) <
                         lineage.indexOf(QStringLiteral("System: peak memory ")) &&
                     lineage.contains(QStringLiteral("Final metrics: accuracy")),
                 qPrintable(lineage));
        Test::shot(&window, "models-panel");

        // Download it into a folder, through the dialog.
        QTemporaryDir out;
        QTest::mouseClick(models->findChild<QPushButton*>(QStringLiteral("modelDownload")), Qt::LeftButton);
        Ui::DownloadDialog* download = nullptr;
        QTRY_VERIFY((download = models->findChild<Ui::DownloadDialog*>()) && download->isVisible());
        auto* dest = download->findChild<QLineEdit*>(QStringLiteral("downloadDest"));
        dest->selectAll();
        QTest::keyClicks(dest, out.path());
        QTest::mouseClick(download->findChild<QPushButton*>(QStringLiteral("downloadStart")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(download->succeeded(), 30000);
        Test::shot(download, "download-dialog");
        QCOMPARE(Test::fileHashes(out.path()), m_modelHashes);
        download->close();

        // A drag carries the version's folder, fetched and verified when dropped.
        std::unique_ptr<QMimeData> drag(models->dragData(QStringLiteral("fashion-gui"), 1));
        QVERIFY(drag);
        const auto urls = drag->urls();
        QCOMPARE(urls.size(), 1);
        QCOMPARE(Test::fileHashes(urls[0].toLocalFile()), m_modelHashes);
        QVERIFY(urls[0].toLocalFile().endsWith(QStringLiteral("/fashion-gui-1")));

        // Archive it: the panel says so.
        QTest::mouseClick(models->findChild<QPushButton*>(QStringLiteral("modelArchive")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(models->shown()["archived"].get<bool>(), 20000);
        QVERIFY(models->findChild<QLabel*>(QStringLiteral("modelHeader"))
                    ->text()
                    .contains(QStringLiteral("archived")));

        // The lineage link opens the run again; its page now names the model.
        Q_EMIT models->lineage()->linkActivated(QStringLiteral("run:%1").arg(m_run));
        auto* tabs = window.findChild<QTabWidget*>();
        QTRY_COMPARE(tabs->currentWidget(), static_cast<QWidget*>(runPage));
        QTRY_VERIFY_WITH_TIMEOUT(runPage->findChild<QLabel*>(QStringLiteral("runDetails"))
                                     ->text()
                                     .contains(QStringLiteral("fashion-gui:1")),
                                 20000);
    }

    // One click: the popup proposes the model this experiment already registers to, Enter registers its next
    // version; a run of a new experiment gets the experiment's name; "More…" hands over to the dialog.
    void registerInOneClick() {
        Ui::MainWindow window(m_ws->path());
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* runPage = window.openRun(m_run);
        QTRY_VERIFY_WITH_TIMEOUT(runPage->registerModelButton()->isEnabled(), 20000);
        QTest::mouseClick(runPage->registerModelButton(), Qt::LeftButton, {}, QPoint(8, 8));
        Ui::QuickRegister* popup = nullptr;
        QTRY_VERIFY((popup = runPage->findChild<Ui::QuickRegister*>()) && popup->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(popup->loaded(), 20000);
        // The first test registered fashion-gui from this experiment: its version 2 is proposed, selected.
        QCOMPARE(popup->nameEdit()->text(), QStringLiteral("fashion-gui"));
        QCOMPARE(popup->nameEdit()->selectedText(), QStringLiteral("fashion-gui"));
        QVERIFY2(popup->summary()->text().contains(QStringLiteral("version 2 of fashion-gui")),
                 qPrintable(popup->summary()->text()));
        QVERIFY(popup->summary()->text().contains(QStringLiteral("outputs/model")));
        Test::shot(popup, "register-model-quick");
        QTest::keyClick(popup->nameEdit(), Qt::Key_Return);
        Ui::ModelsPage* models = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((models = window.findChild<Ui::ModelsPage*>()) && models->isVisible(),
                                 20000);
        QTRY_VERIFY_WITH_TIMEOUT(!models->shown().is_null() && models->shown()["name"] == "fashion-gui" &&
                                     models->shown()["version"] == 2,
                                 20000);
        QCOMPARE(m_ws->client().get("/api/v1/models/fashion-gui")["versions"].size(), std::size_t(2));
        QCOMPARE(models->files()->rowCount(), 2);

        // A run of an experiment with no model: the experiment's name, made a valid model name.
        const auto source = Test::sourceWith(m_tmp, QStringLiteral("src2"), {QStringLiteral("model.py")});
        auto r =
            m_ws->kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                        QStringLiteral("shirts v2"), QStringLiteral("--source"), source,
                        QStringLiteral("--script"), QStringLiteral("model.py"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto other = r.json()["id"].get<qint64>();
        QCOMPARE(m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(other)}).exitCode,
                 0);
        runPage = window.openRun(other);
        QTRY_VERIFY_WITH_TIMEOUT(runPage->registerModelButton()->isEnabled(), 20000);
        QTest::mouseClick(runPage->registerModelButton(), Qt::LeftButton, {}, QPoint(8, 8));
        QTRY_VERIFY((popup = runPage->findChild<Ui::QuickRegister*>()) && popup->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(popup->loaded(), 20000);
        QCOMPARE(popup->nameEdit()->text(), QStringLiteral("shirts-v2"));
        QVERIFY2(popup->summary()->text().contains(QStringLiteral("new model shirts-v2, version 1")),
                 qPrintable(popup->summary()->text()));
        // Typing another name says which version it would be; "More…" carries it to the dialog.
        QTest::keyClicks(popup->nameEdit(), QStringLiteral("fashion-gui"));
        QVERIFY(popup->summary()->text().contains(QStringLiteral("version 3 of fashion-gui")));
        QTest::keyClicks(popup->nameEdit(), QStringLiteral("-best"));
        QTest::mouseClick(popup->findChild<QPushButton*>(QStringLiteral("quickModelMore")), Qt::LeftButton);
        Ui::RegisterModelDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = runPage->findChild<Ui::RegisterModelDialog*>()) && dialog->isVisible());
        QTRY_COMPARE(dialog->pathBox()->currentText(), QStringLiteral("outputs/model"));
        QCOMPARE(dialog->nameBox()->currentText(), QStringLiteral("fashion-gui-best"));
        dialog->reject();

        // A bad name is refused in place and the popup stays to fix it; Esc closes it without registering.
        QTest::mouseClick(runPage->registerModelButton(), Qt::LeftButton, {}, QPoint(8, 8));
        QTRY_VERIFY((popup = runPage->findChild<Ui::QuickRegister*>()) && popup->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(popup->loaded(), 20000);
        QTest::keyClicks(popup->nameEdit(), QStringLiteral("../etc"));
        QTest::keyClick(popup->nameEdit(), Qt::Key_Return);
        auto* error = popup->findChild<QLabel*>(QStringLiteral("quickModelError"));
        QTRY_VERIFY_WITH_TIMEOUT(error->isVisible(), 20000);
        QVERIFY2(error->text().contains(QStringLiteral("model name")), qPrintable(error->text()));
        QVERIFY(popup->isVisible());
        QTest::keyClick(popup, Qt::Key_Escape);
        QTRY_VERIFY(!runPage->findChild<Ui::QuickRegister*>());
        QCOMPARE(m_ws->client().get("/api/v1/models").size(), std::size_t(1)); // still only fashion-gui
    }

    void downloadARunFolderFromTheFilesTab() {
        Ui::MainWindow window(m_ws->path());
        window.resize(1280, 800);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* runPage = window.openRun(m_run);
        auto* files = runPage->files();
        QTRY_VERIFY_WITH_TIMEOUT(files->tree()->topLevelItemCount() >= 2, 20000);
        auto* lower = runPage->findChild<QTabWidget*>(QStringLiteral("runLowerTabs"));
        lower->setCurrentWidget(files);
        const auto found =
            files->tree()->findItems(QStringLiteral("model/"), Qt::MatchRecursive | Qt::MatchExactly);
        QCOMPARE(found.size(), 1);
        files->tree()->setCurrentItem(found[0]);
        Test::shot(runPage, "run-files");
        QTest::mouseClick(files->findChild<QPushButton*>(QStringLiteral("runFilesDownload")), Qt::LeftButton);
        Ui::DownloadDialog* download = nullptr;
        QTRY_VERIFY((download = files->findChild<Ui::DownloadDialog*>()) && download->isVisible());
        QTemporaryDir out;
        download->setDestination(out.path());
        download->setFormat(Ui::DownloadDialog::TarGz);
        download->start();
        QTRY_VERIFY_WITH_TIMEOUT(download->succeeded(), 30000);
        QCOMPARE(download->written(), out.filePath(QStringLiteral("run-%1-model.tar.gz").arg(m_run)));
        QVERIFY(QFileInfo(download->written()).size() > 3'000'000);
    }
};

int main(int argc, char** argv) {
    return Test::runGuiTest<TestModelsGui>(argc, argv);
}
#include "test_models_gui.moc"
