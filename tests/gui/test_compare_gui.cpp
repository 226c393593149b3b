// Comparing runs in the studio, offscreen on the real main window: select two finished runs in the
// workspace browser, Compare; both curves overlay in each metric's chart with a legend; toggling one off
// leaves one drawn; switching the x-axis to time since start redraws against seconds, not steps; the table
// shows the differing argument and sorts by the final loss.
#include "api/Client.h"
#include "app/MainWindow.h"
#include "charts/ChartPanel.h"
#include "charts/MetricChart.h"
#include "charts/SeriesBuffer.h"
#include "compare/ComparePage.h"
#include "compare/RunComparisonModel.h"
#include "GuiHelpers.h"
#include "metrics/Columns.h"
#include "runs/RunFollower.h"
#include "TestSupport.h"
#include "workspace/WorkspaceBrowser.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QComboBox>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTest>
#include <QTreeView>

#include <cmath>

using namespace Kiln;

class TestCompareGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    QList<qint64> m_runs;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
        const auto source = Test::sourceWith(m_tmp, QStringLiteral("src"), {QStringLiteral("curve.py")});
        for (const auto& [scale, optimizer] : {std::pair{QStringLiteral("2"), QStringLiteral("adam")},
                                               std::pair{QStringLiteral("1"), QStringLiteral("sgd")}}) {
            auto r = m_ws->kiln({QStringLiteral("run"), QStringLiteral("submit"),
                                 QStringLiteral("--experiment"), QStringLiteral("sweep"),
                                 QStringLiteral("--source"), source, QStringLiteral("--script"),
                                 QStringLiteral("curve.py"), QStringLiteral("--json"), QStringLiteral("--"),
                                 QStringLiteral("--scale"), scale, QStringLiteral("--points"),
                                 QStringLiteral("60"), QStringLiteral("--optimizer"), optimizer});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err));
            m_runs << r.json()["id"].get<qint64>();
        }
        for (auto id : m_runs)
            QCOMPARE(
                m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)}).exitCode, 0);
    }
    void cleanupTestCase() { m_ws.reset(); }

    void twoRunsOverlaidToggledAndAgainstTime() {
        Ui::MainWindow window(m_ws->path());
        window.resize(1400, 900);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* browser = window.findChild<Ui::WorkspaceBrowser*>();
        auto* compare = window.findChild<QAction*>(QStringLiteral("actionCompare"));
        QVERIFY(!compare->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(browser->view()->model()->rowCount() > 0, 20000);
        // Click the first run, Ctrl-click the second, as a user selects in the browser.
        browser->view()->expandAll();
        auto* view = browser->view();
        const auto experiment = view->model()->index(0, 0);
        QTRY_COMPARE(view->model()->rowCount(experiment), 2);
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {},
                          view->visualRect(view->model()->index(0, 0, experiment)).center());
        QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ControlModifier,
                          view->visualRect(view->model()->index(1, 0, experiment)).center());
        QCOMPARE(browser->selectedRuns(), m_runs);
        QVERIFY(compare->isEnabled());
        Test::clickToolbar(window, "actionCompare");

        Ui::ComparePage* page = nullptr;
        QTRY_VERIFY((page = window.findChild<Ui::ComparePage*>()) && page->isVisible());
        Ui::MetricChart* loss = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((loss = page->chart(QStringLiteral("loss"))) && loss->curveCount() == 2,
                                 20000);
        QTRY_VERIFY_WITH_TIMEOUT(loss->pointCount(loss->curve(0).label) == 60 &&
                                     loss->pointCount(loss->curve(1).label) == 60,
                                 20000);
        loss->redrawNow();
        // Curves come in the order the runs' feeds answered: find each run's.
        const int a = loss->curve(0).run == m_runs[0] ? 0 : 1, b = 1 - a;
        QCOMPARE(loss->curve(b).run, m_runs[1]);
        QCOMPARE(loss->drawn(0).size(), std::size_t(60));
        QCOMPARE(loss->drawn(1).size(), std::size_t(60));
        // Each run has its own colour, and its own curve: scale 2 then scale 1.
        QVERIFY(loss->curve(0).color != loss->curve(1).color);
        QCOMPARE(loss->drawn(a).front().y, 2.0);
        QCOMPARE(loss->drawn(b).front().y, 1.0);

        // The table: one row per run, the differing arguments highlighted, sortable by final loss.
        auto* model = page->model();
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 20000);
        QTRY_VERIFY(model->columnOf(QStringLiteral("loss (final)")) > 0);
        QVERIFY(model->differs(model->columnOf(QStringLiteral("--scale"))));
        QVERIFY(!model->differs(model->columnOf(QStringLiteral("--points"))));
        QVERIFY(model->columnOf(QStringLiteral("param optimizer")) > 0);
        auto* table = page->table();
        table->sortByColumn(model->columnOf(QStringLiteral("loss (final)")), Qt::AscendingOrder);
        QCOMPARE(model->runAt(page->proxy()->mapToSource(page->proxy()->index(0, 0)).row()),
                 m_runs[1]); // scale 1
        Test::shot(&window, "compare");

        // Toggle the first run off by clicking its legend entry.
        QTest::mouseClick(loss, Qt::LeftButton, {}, loss->legendRect(a).center());
        QVERIFY(!loss->curveVisible(a));
        loss->redrawNow();
        QVERIFY(loss->drawn(a).empty());
        QCOMPARE(loss->drawn(b).size(), std::size_t(60));

        // x = time since start: the curve is redrawn in seconds, starting after the run began.
        auto* panel = qobject_cast<Ui::ChartPanel*>(loss->parentWidget());
        QVERIFY(panel);
        auto* xAxis = panel->xAxisBox();
        xAxis->setFocus();
        xAxis->setCurrentIndex(xAxis->findText(QStringLiteral("time since start")));
        QCOMPARE(loss->xAxis(), Ui::MetricChart::XAxis::RelativeTime);
        loss->redrawNow();
        const auto& pts = loss->drawn(b);
        QCOMPARE(pts.size(), std::size_t(60));
        QVERIFY(pts.front().x >= 0 && pts.front().x < 30);
        QVERIFY(pts.back().x > pts.front().x);
        QVERIFY(pts.back().x < 59); // seconds, not steps (the run took well under a minute)
        // x = epoch, another metric of the run: 0..5.
        xAxis->setCurrentIndex(xAxis->findText(QStringLiteral("epoch")));
        loss->redrawNow();
        QCOMPARE(loss->drawn(b).back().x, 5.0);
        Test::shot(page, "compare-page");
    }

    void aLongRunOpensAsItsOverviewThenEveryPoint() {
        // 300,000 points with spikes: the follower hands over kilnd's level of detail first, then every
        // point.
        auto& client = m_ws->client();
        const auto id = m_runs[0];
        Metrics::Columns batch;
        for (int i = 0; i < 300'000; ++i)
            batch.add("big/loss", 1000 + i, 1.7e9 + i, std::cos(i * 1e-4) + (i % 7919 == 0 ? 5 : 0));
        QVERIFY(client.logMetrics(id, batch));
        Ui::RunFollower follower(QString::fromStdString(m_ws->url()), QString::fromStdString(m_ws->token()),
                                 id);
        Ui::SeriesBuffers overview, points;
        QStringList order;
        connect(&follower, &Ui::RunFollower::overview, this, [&](const auto& batch) {
            order << QStringLiteral("overview");
            Ui::receive(overview, *batch, true);
        });
        connect(&follower, &Ui::RunFollower::points, this, [&](const auto& batch) {
            order << QStringLiteral("points");
            Ui::receive(points, *batch);
        });
        follower.start();
        QTRY_VERIFY_WITH_TIMEOUT(points.contains(QStringLiteral("big/loss")) &&
                                     points[QStringLiteral("big/loss")]->size() == 300'000,
                                 30000);
        QCOMPARE(order.first(), QStringLiteral("overview"));
        QCOMPARE(order.count(QStringLiteral("overview")), 1);
        const auto preview = overview[QStringLiteral("big/loss")];
        QVERIFY(preview && preview->preview);
        QVERIFY(preview->size() <= 4 * Ui::RunFollower::kOverviewBuckets + 2);
        const auto lod =
            client.history(id, "big/loss", std::nullopt, std::nullopt, Ui::RunFollower::kOverviewBuckets);
        QVERIFY(preview->values == lod.values);
        QVERIFY(!points[QStringLiteral("big/loss")]->preview);

        // Zoomed in on the preview, the chart asks for that range at its width and draws exactly what it
        // draws from every point there.
        Ui::WorkspaceConnection connection(m_ws->path());
        connection.connectToServer();
        QTRY_COMPARE_WITH_TIMEOUT(connection.state(), Ui::WorkspaceConnection::State::Connected, 20000);
        Ui::MetricChart fromPreview(QStringLiteral("big/loss")), fromPoints(QStringLiteral("big/loss"));
        for (auto* chart : {&fromPreview, &fromPoints})
            chart->resize(700, 300);
        fromPreview.addCurve({id, QStringLiteral("big/loss"), Qt::blue, preview, 0});
        fromPoints.addCurve(
            {id, QStringLiteral("big/loss"), Qt::blue, points[QStringLiteral("big/loss")], 0});
        Ui::refineWhenZoomed(&fromPreview, connection, [](int) { return QStringLiteral("big/loss"); });
        fromPreview.redrawNow();
        Test::shot(&fromPreview, "chart-overview");
        QSignalSpy asked(&fromPreview, &Ui::MetricChart::detailWanted);
        const auto generation = preview->generation;
        for (auto* chart : {&fromPreview, &fromPoints}) {
            chart->setXRange(151'234.5, 163'000);
            chart->redrawNow();
        }
        QCOMPARE(asked.count(), 1);
        const auto coarse = fromPreview.drawn(0);
        QTRY_VERIFY_WITH_TIMEOUT(preview->generation != generation, 20000);
        QVERIFY(preview->preview);
        fromPreview.redrawNow();
        QVERIFY(fromPoints.drawn(0).size() > 100);
        QVERIFY(coarse.size() < fromPoints.drawn(0).size()); // the overview alone had fewer points there
        QCOMPARE(fromPreview.drawn(0).size(), fromPoints.drawn(0).size());
        for (std::size_t i = 0; i < fromPoints.drawn(0).size(); ++i) {
            QCOMPARE(fromPreview.drawn(0)[i].x, fromPoints.drawn(0)[i].x);
            QCOMPARE(fromPreview.drawn(0)[i].y, fromPoints.drawn(0)[i].y);
        }
        // The same view again asks nothing more; once every point is there, zooming asks nothing at all.
        fromPreview.redrawNow();
        QCOMPARE(asked.count(), 1);
        Ui::receive(overview, batch);
        QVERIFY(!preview->preview);
        fromPreview.setXRange(200'000, 201'000);
        fromPreview.redrawNow();
        QCOMPARE(asked.count(), 1);
        QVERIFY(fromPreview.drawn(0).size() > 900); // every point of that range (1,000 at 700 columns)
    }
};

int main(int argc, char** argv) {
    return Test::runGuiTest<TestCompareGui>(argc, argv);
}
#include "test_compare_gui.moc"
