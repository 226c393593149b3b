// A run's images and tables on its page (the real main window, offscreen): a script logs a matplotlib
// figure twice under one name, an image file, a table row by row and one as columns (tests/data/media/
// media.py, through the kiln module); once the run ends the "Images & tables" tab shows one thumbnail per
// name, the series under a slider, and each table with its rows; the uploaded file is a run file.
#include "api/Client.h"
#include "app/MainWindow.h"
#include "compare/ComparePage.h"
#include "GuiHelpers.h"
#include "runs/RunMediaView.h"
#include "runs/RunPage.h"
#include "TestSupport.h"
#include "workspace/WorkspaceConnection.h"

#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QSignalSpy>
#include <QSlider>
#include <QTableWidget>
#include <QTabWidget>
#include <QTest>

#include <set>

using namespace Kiln;

class TestMediaGui : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void imagesAndTablesShowOnTheRunPage() {
        Test::Workspace ws;
        auto sub = ws.kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                            QStringLiteral("media"), QStringLiteral("--source"),
                            QStringLiteral(KILN_TEST_DATA "/media"), QStringLiteral("--script"),
                            QStringLiteral("media.py"), QStringLiteral("--json")});
        QCOMPARE(sub.exitCode, 0);
        const auto id = sub.json()["id"].get<qint64>();
        auto wait = ws.kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id),
                             QStringLiteral("--show-output")});
        QVERIFY2(wait.exitCode == 0, qPrintable(wait.out + wait.err));
        // The script's output came; the pictures and indexes under logs/ are not log streams.
        QVERIFY2(wait.out.contains(QStringLiteral("logged")) && !wait.out.contains(QStringLiteral("[logs/")),
                 qPrintable(wait.out));

        // What the script kept: the images, the tables' rows, the uploaded file, the list as a metric.
        std::set<std::string> files;
        for (const auto& f : ws.client().get("/api/v1/runs/" + std::to_string(id) + "/files"))
            files.insert(f["path"].get<std::string>());
        for (const char* path : {"logs/images/Accuracy-vs-Loss/0001.png",
                                 "logs/images/Accuracy-vs-Loss/0002.png", "logs/images/square/0001.png",
                                 "logs/images.jsonl", "logs/tables.jsonl", "outputs/reports/note.txt"})
            QVERIFY2(files.count(path), path);
        const auto list =
            ws.client().get("/api/v1/runs/" + std::to_string(id) + "/metrics/history?key=accuracies");
        QVERIFY2(list["series"]["values"] == Json({0.6, 0.7, 0.87}), list.dump().c_str());

        Ui::MainWindow window(ws.path());
        window.resize(1366, 740);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* page = window.openRun(id);
        QVERIFY(page);
        auto* tabs = page->findChild<QTabWidget*>(QStringLiteral("runLowerTabs"));
        tabs->setCurrentWidget(page->media());
        auto* media = page->media();
        QTRY_COMPARE_WITH_TIMEOUT(media->images()->count(), 2, Test::scaledMs(20000));
        // One thumbnail per name, the series' count in its label; the first is shown large, at its latest.
        QCOMPARE(media->images()->item(0)->text(), QStringLiteral("Accuracy vs Loss (2)"));
        QCOMPARE(media->images()->item(1)->text(), QStringLiteral("square"));
        QVERIFY(media->series()->isVisible());
        QCOMPARE(media->series()->value(), 2);
        QTRY_VERIFY(media->preview()->pixmap().width() > 50); // scaled to the room it gets, once laid out
        // The slider steps back through the series; a name logged once has none.
        media->series()->setFocus();
        QTest::keyClick(media->series(), Qt::Key_Left);
        QCOMPARE(media->series()->value(), 1);
        auto* caption = media->findChild<QLabel*>(QStringLiteral("runImageCaption"));
        QCOMPARE(caption->text(), QStringLiteral("Accuracy vs Loss, 1 of 2: after epoch 1"));
        media->images()->setCurrentRow(1);
        QVERIFY(!media->series()->isVisible());
        // Tables: each by name with its rows, columns in the order logged.
        QCOMPARE(media->tableChoice()->count(), 2);
        QCOMPARE(media->tableChoice()->itemText(0), QStringLiteral("Y over X (3 rows)"));
        QCOMPARE(media->table()->rowCount(), 3);
        QCOMPARE(media->table()->horizontalHeaderItem(1)->text(), QStringLiteral("y"));
        QCOMPARE(media->table()->item(2, 1)->data(Qt::DisplayRole).toLongLong(), 4);
        media->tableChoice()->setCurrentIndex(1);
        QCOMPARE(media->table()->rowCount(), 2);
        QCOMPARE(media->table()->item(1, 0)->text(), QStringLiteral("bag"));
        QCOMPARE(media->table()->item(1, 1)->data(Qt::DisplayRole).toDouble(), 0.75);
        Test::shot(&window, "run-media");

        // Compared with a second run of the script: a row per image name, a column per run.
        auto other = ws.kiln(
            {QStringLiteral("run"), QStringLiteral("again"), QString::number(id), QStringLiteral("--json")});
        QCOMPARE(other.exitCode, 0);
        const auto second = other.json()["id"].get<qint64>();
        QCOMPARE(ws.kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(second)}).exitCode,
                 0);
        auto* compare = window.compareRuns({id, second});
        QVERIFY(compare);
        // Each run's pictures arrive on their own (the grid is laid out again as they do): wait for all.
        auto shown = [&](const char* name, qint64 run) {
            const auto* cell = compare->findChild<QLabel*>(
                QStringLiteral("compareImage:%1:%2").arg(QLatin1String(name)).arg(run));
            return cell && cell->pixmap().width() > 50;
        };
        QTRY_VERIFY_WITH_TIMEOUT(shown("square", id) && shown("square", second) &&
                                     shown("Accuracy vs Loss", id) && shown("Accuracy vs Loss", second),
                                 Test::scaledMs(20000));
        QVERIFY(compare->images()->isVisibleTo(compare));
        QTRY_VERIFY(compare->images()->height() > 2 * 100); // two rows of pictures, above the charts
        Test::shot(&window, "compare-media");
        Test::shot(compare->images(), "compare-images");
    }

    void aRunWithoutThemSaysHowToAddThem() {
        Test::Workspace ws;
        auto sub = ws.kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                            QStringLiteral("media"), QStringLiteral("--source"),
                            QStringLiteral(KILN_TEST_DATA "/scripts"), QStringLiteral("--script"),
                            QStringLiteral("quick.sh"), QStringLiteral("--json")});
        QCOMPARE(sub.exitCode, 0);
        const auto id = sub.json()["id"].get<qint64>();
        QCOMPARE(ws.kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)}).exitCode, 0);
        Ui::MainWindow window(ws.path());
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* page = window.openRun(id);
        QVERIFY(page);
        QSignalSpy loaded(page->media(), &Ui::RunMediaView::loaded);
        QVERIFY(loaded.wait(Test::scaledMs(20000)) || loaded.count() == 1);
        QCOMPARE(loaded.at(0).at(0).toInt(), 0);
        QCOMPARE(loaded.at(0).at(1).toInt(), 0);
        auto* empty = page->media()->findChild<QLabel*>(QStringLiteral("runMediaEmpty"));
        QVERIFY(empty && empty->isVisibleTo(page->media()));
        QVERIFY2(empty->text().contains(QStringLiteral("run.log_image")), qPrintable(empty->text()));
    }
};

int main(int argc, char** argv) {
    return Test::runGuiTest<TestMediaGui>(argc, argv);
}
#include "test_media_gui.moc"
