// The Sweeps panel offscreen on the real main window: a sweep submitted through the CLI fills the trial
// table live (trials held running, then released), sorts by its metric, and brushing an axis of the
// parallel-coordinates chart filters the table; double-clicking a trial opens its run.
#include "api/Client.h"
#include "app/MainWindow.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "sweeps/NewSweepDialog.h"
#include "sweeps/ParallelCoordinates.h"
#include "sweeps/ParameterScatter.h"
#include "sweeps/SweepListModel.h"
#include "sweeps/SweepsPage.h"
#include "sweeps/SweepTrialsModel.h"
#include "TestSupport.h"
#include "workspace/WorkspaceConnection.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabBar>
#include <QTableView>
#include <QTableWidget>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

using namespace Kiln;

class TestSweepsGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>(
            QStringList{QStringLiteral("--max-concurrent"), QStringLiteral("4")});
    }
    void cleanupTestCase() { m_ws.reset(); }

    void trialsFillLiveAndBrushingFilters() {
        const QString release = m_tmp.filePath(QStringLiteral("release"));
        const QString file = m_tmp.filePath(QStringLiteral("sweep.yml"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral("experiment: gui-sweep\nsource: " KILN_TEST_DATA
                               "/sweep\nscript: objective.py\n"
                               "arguments: [--epochs, 3, --then-until, %1]\nseed: 5\n"
                               "parameters:\n  --x: uniform(-2, 2)\n  --y: choice(-1, 0, 1)\n"
                               "primary_metric: {name: score, goal: maximize}\n"
                               "max_total_trials: 6\nmax_concurrent_trials: 2\n")
                    .arg(release)
                    .toUtf8());
        f.close();
        auto submitted = m_ws->kiln({QStringLiteral("sweep"), QStringLiteral("submit"),
                                     QStringLiteral("--config"), file, QStringLiteral("--json")});
        QVERIFY2(submitted.exitCode == 0, qPrintable(submitted.err));
        const auto id = submitted.json()["id"].get<qint64>();

        Ui::MainWindow window(m_ws->path());
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        Test::clickToolbar(window, "actionSweeps");
        Ui::SweepsPage* page = nullptr;
        QTRY_VERIFY(page = window.findChild<Ui::SweepsPage*>());
        QAbstractItemModelTester trialsTester(page->trialsModel());
        QAbstractItemModelTester listTester(page->list()->model());
        QTRY_COMPARE_WITH_TIMEOUT(page->selected(), id, 10000); // the newest sweep, selected by itself

        // Held trials: two rows, running, while the sweep runs, each with the one point it logged before it
        // was held (that point changes no run's status: the sweep's own change feed brings it).
        const auto held = [&](int row) {
            auto* m = page->trialsModel();
            return m->index(row, 1).data().toString() == QLatin1String("Running") &&
                   m->index(row, m->reportsColumn()).data().toString() == QLatin1String("1") &&
                   !m->index(row, m->metricColumn()).data().toString().isEmpty();
        };
        QTRY_VERIFY_WITH_TIMEOUT(page->trialsModel()->rowCount() == 2 && held(0) && held(1), 30000);
        QVERIFY2(page->header()->text().contains(QLatin1String("Running")),
                 qPrintable(page->header()->text()));
        // Released: the table grows to all six, as they run.
        QFile(release).open(QIODevice::WriteOnly);
        QTRY_VERIFY_WITH_TIMEOUT(page->header()->text().contains(QLatin1String("Completed")), 90000);
        QTRY_COMPARE(page->trialsModel()->rowCount(), 6);
        auto* model = page->trialsModel();
        const int metric = model->metricColumn();
        QCOMPARE(model->headerData(metric, Qt::Horizontal).toString(), QStringLiteral("score ↑"));

        // Sort by the metric: a click on its header, then the other way.
        auto* table = page->trials();
        auto* proxy = page->trialsProxy();
        auto clickHeader = [&](int column) {
            auto* header = table->horizontalHeader();
            QTest::mouseClick(
                header->viewport(), Qt::LeftButton, {},
                QPoint(header->sectionViewportPosition(column) + header->sectionSize(column) / 2,
                       header->height() / 2));
        };
        clickHeader(metric);
        auto metricAt = [&](int row) {
            return proxy->index(row, metric).data(Ui::SweepTrialsModel::UnderlyingDataRole).toDouble();
        };
        QTRY_COMPARE(table->horizontalHeader()->sortIndicatorSection(), metric);
        const bool ascending = table->horizontalHeader()->sortIndicatorOrder() == Qt::AscendingOrder;
        for (int r = 1; r < 6; ++r)
            QVERIFY(ascending ? metricAt(r - 1) <= metricAt(r) : metricAt(r - 1) >= metricAt(r));

        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            window.grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") + QStringLiteral("/sweeps.png"));

        // Brush the upper half of the metric axis: only trials scoring above its middle stay.
        auto* chart = page->parallel();
        const int axis = chart->axisCount() - 1;
        const QRect a = chart->axisRect(axis);
        QTest::mousePress(chart, Qt::LeftButton, {}, QPoint(a.center().x(), a.top() + 1));
        QTest::mouseMove(chart, QPoint(a.center().x(), a.center().y()));
        QTest::mouseRelease(chart, Qt::LeftButton, {}, QPoint(a.center().x(), a.center().y()));
        double lo = 1e300, hi = -1e300;
        for (int r = 0; r < 6; ++r) {
            const double v =
                model->index(r, metric).data(Ui::SweepTrialsModel::UnderlyingDataRole).toDouble();
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        QTRY_VERIFY(proxy->rowCount() < 6);
        bool bestKept = false; // the best trial is at the very top of the axis
        for (int r = 0; r < proxy->rowCount(); ++r)
            bestKept = bestKept || metricAt(r) == hi;
        QVERIFY2(bestKept, qPrintable(QStringLiteral("%1 rows kept, first %2, best %3, chart %4x%5")
                                          .arg(proxy->rowCount())
                                          .arg(metricAt(0))
                                          .arg(hi)
                                          .arg(chart->width())
                                          .arg(chart->height())));
        for (int r = 0; r < proxy->rowCount(); ++r)
            QVERIFY2(metricAt(r) >= (lo + hi) / 2 - (hi - lo) * 0.02,
                     qPrintable(QString::number(metricAt(r))));
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            page->grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") +
                              QStringLiteral("/sweeps-brushed.png"));
        // Double-clicking the axis clears its brush.
        QTest::mouseClick(chart, Qt::LeftButton, {}, a.center());
        QTest::mouseDClick(chart, Qt::LeftButton, {}, a.center());
        QTRY_COMPARE(proxy->rowCount(), 6);

        // The scatter tab: the metric against each parameter, a point per trial.
        auto* views = page->findChild<QTabWidget*>(QStringLiteral("sweepViews"));
        QTest::mouseClick(views->tabBar(), Qt::LeftButton, {}, views->tabBar()->tabRect(1).center());
        QTRY_VERIFY(page->scatter()->isVisible());
        QCOMPARE(page->scatter()->pointCount(), 6);
        auto* parameter = page->scatter()->parameterBox();
        QCOMPARE(parameter->currentText(), QStringLiteral("score against x"));
        parameter->setFocus();
        QTest::keyClick(parameter, Qt::Key_Down);
        QTRY_COMPARE(parameter->currentText(), QStringLiteral("score against y"));
        QCOMPARE(page->scatter()->pointCount(), 6);
        QCOMPARE(page->scatter()->xTitle(), QStringLiteral("y"));
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS")) {
            QTest::qWait(200); // the chart's scene repaints on the next events
            page->grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") +
                              QStringLiteral("/sweeps-scatter.png"));
        }

        // A trial opens as a run.
        const auto run = proxy->index(0, 0).data(Ui::SweepTrialsModel::RunIdRole).toLongLong();
        const QRect cell = table->visualRect(proxy->index(0, 0));
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
        QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, cell.center());
        Ui::RunPage* runPage = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT(runPage = window.findChild<Ui::RunPage*>(), 10000);
        QCOMPARE(runPage->runId(), run);
    }

    void sweepThisRunFromItsPage() {
        // A run of the objective; its page offers to sweep it with its numeric arguments as parameters.
        auto submitted = m_ws->kiln(
            {QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
             QStringLiteral("to-sweep"), QStringLiteral("--source"), QStringLiteral(KILN_TEST_DATA "/sweep"),
             QStringLiteral("--script"), QStringLiteral("objective.py"), QStringLiteral("--json"),
             QStringLiteral("--"), QStringLiteral("--x"), QStringLiteral("0.5"), QStringLiteral("--y"),
             QStringLiteral("0"), QStringLiteral("--epochs"), QStringLiteral("3"), QStringLiteral("--pause"),
             QStringLiteral("0.01")});
        QVERIFY2(submitted.exitCode == 0, qPrintable(submitted.err));
        const auto run = submitted.json()["id"].get<qint64>();
        QCOMPARE(m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(run)}).exitCode,
                 0);

        Ui::MainWindow window(m_ws->path());
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        window.openRun(run);
        Ui::RunPage* page = nullptr;
        QTRY_VERIFY(page = window.findChild<Ui::RunPage*>());
        QTest::mouseClick(page->findChild<QPushButton*>(QStringLiteral("sweepRun")), Qt::LeftButton);
        Ui::NewSweepDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = window.findChild<Ui::NewSweepDialog*>()) && dialog->isVisible());
        auto* table = dialog->parameters();
        // --x 0.5, --epochs 3 and --pause 0.01 are proposed around their values; --y 0 stays fixed.
        QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 3, 10000);
        QCOMPARE(table->item(0, 0)->text(), QStringLiteral("--x"));
        QCOMPARE(table->item(0, 1)->text(), QStringLiteral("loguniform(-3, 1.61)")); // ln(0.05), ln(5)
        QCOMPARE(table->item(1, 0)->text(), QStringLiteral("--epochs"));
        QCOMPARE(table->item(1, 1)->text(), QStringLiteral("choice(1, 3, 6)"));
        auto* start = dialog->findChild<QPushButton*>(QStringLiteral("startSweep"));
        QTRY_VERIFY(start->isEnabled());
        // A typo is caught as it is typed, with its column, and blocks the start.
        Test::editCell(table, 1, 1, QStringLiteral("choice(1, 2,, 3)"));
        QTRY_VERIFY(!start->isEnabled());
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            dialog->grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") + QStringLiteral("/new-sweep.png"));
        QVERIFY2(
            dialog->message()->text().contains(QStringLiteral("--epochs: expected a value at column 13")),
            qPrintable(dialog->message()->text()));
        Test::editCell(table, 1, 1, QStringLiteral("choice(1, 2)"));
        QTRY_VERIFY(start->isEnabled());
        auto* total = dialog->findChild<QSpinBox*>(QStringLiteral("sweepTotal"));
        total->setFocus();
        QTest::keyClick(total, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClicks(total, QStringLiteral("3"));
        QCOMPARE(total->value(), 3);
        QTest::mouseClick(start, Qt::LeftButton);

        // The Sweeps panel opens on the new sweep, which runs its three trials of the run's script.
        Ui::SweepsPage* sweeps = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT(sweeps = window.findChild<Ui::SweepsPage*>(), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(sweeps->header()->text().contains(QLatin1String("Completed")), 60000);
        QTRY_COMPARE(sweeps->trialsModel()->rowCount(), 3);
        const auto shown = m_ws->client().get("/api/v1/sweeps/" + std::to_string(sweeps->selected()));
        for (const auto& t : shown["trials"]) {
            QCOMPARE(t["status"].get<std::string>(), std::string("Completed"));
            const auto args = m_ws->client().run(t["run"].get<std::int64_t>())["args"];
            QVERIFY2(args[0] == "--y" && args[1] == "0", args.dump().c_str()); // the fixed argument kept
        }
    }

    void browserListsSweeps() {
        // Two ended sweeps of its own (6 and 3 trials), in a workspace of its own: this test needs nothing
        // the others left.
        Test::Workspace ws;
        QList<qint64> sweeps;
        for (int trials : {6, 3}) {
            const QString file = m_tmp.filePath(QStringLiteral("listed%1.yml").arg(trials));
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QStringLiteral("experiment: gui-sweep\nsource: " KILN_TEST_DATA
                                   "/sweep\nscript: objective.py\n"
                                   "arguments: [--epochs, 2, --pause, 0.01]\nseed: 5\n"
                                   "parameters:\n  --x: uniform(-2, 2)\n"
                                   "primary_metric: {name: score, goal: maximize}\n"
                                   "max_total_trials: %1\nmax_concurrent_trials: 3\n")
                        .arg(trials)
                        .toUtf8());
            f.close();
            auto submitted = ws.kiln({QStringLiteral("sweep"), QStringLiteral("submit"),
                                      QStringLiteral("--config"), file, QStringLiteral("--json")});
            QVERIFY2(submitted.exitCode == 0, qPrintable(submitted.err));
            sweeps << submitted.json()["id"].get<qint64>();
            QCOMPARE(
                ws.kiln({QStringLiteral("sweep"), QStringLiteral("wait"), QString::number(sweeps.back())})
                    .exitCode,
                0);
        }
        const qint64 firstSweep = sweeps[0];
        Ui::MainWindow window(ws.path());
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        // The workspace browser's Sweeps section lists both sweeps, newest first, with their trials.
        auto* list = window.findChild<QTreeView*>(QStringLiteral("sweepList"));
        QVERIFY(list);
        QAbstractItemModelTester tester(list->model());
        QTRY_COMPARE_WITH_TIMEOUT(list->model()->rowCount(), 2, 20000);
        QTRY_VERIFY(list->isVisible());
        const QModelIndex first = list->model()->index(1, 0);
        QCOMPARE(first.data(Ui::SweepListModel::SweepIdRole).toLongLong(), firstSweep);
        QCOMPARE(list->model()->index(1, Ui::SweepListModel::TrialsColumn).data().toString(),
                 QStringLiteral("6 / 6"));
        QVERIFY2(first.data(Qt::ToolTipRole).toString().contains(QLatin1String("gui-sweep: maximize score")),
                 qPrintable(first.data(Qt::ToolTipRole).toString()));
        // Activating the older one opens the Sweeps panel on it (once its row is laid out and in view: the
        // section is small in a window with default sizes, and a busy machine lays it out late).
        list->scrollTo(first);
        QTRY_VERIFY(list->viewport()->rect().contains(list->visualRect(first).center()));
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualRect(first).center());
        QTest::mouseDClick(list->viewport(), Qt::LeftButton, {}, list->visualRect(first).center());
        Ui::SweepsPage* page = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT(page = window.findChild<Ui::SweepsPage*>(), 10000);
        QTRY_COMPARE(page->selected(), firstSweep);
        QTRY_COMPARE_WITH_TIMEOUT(page->trialsModel()->rowCount(), 6, 10000);
        // From the keyboard too: the newest, with Enter.
        list->setFocus();
        list->setCurrentIndex(list->model()->index(0, 0));
        QTest::keyClick(list, Qt::Key_Return);
        QTRY_VERIFY(page->selected() != firstSweep);
        QTRY_COMPARE_WITH_TIMEOUT(page->trialsModel()->rowCount(), 3, 10000);
    }
};

int main(int argc, char** argv) {
    return Kiln::Test::runGuiTest<TestSweepsGui>(argc, argv);
}

#include "test_sweeps_gui.moc"
