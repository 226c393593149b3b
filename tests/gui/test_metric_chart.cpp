// The chart widget on its own, offscreen: every bucket's extremes reach the screen, zoom survives new
// points, follow keeps the newest in view, log axes leave out non-positive values (and say how many),
// smoothing draws the reference EMA over the faint raw curve, x can be another metric, the legend toggles
// curves, hover names the nearest points, and the exports write what is drawn.
#include "charts/ChartPanel.h"
#include "charts/MetricChart.h"
#include "charts/SeriesBuffer.h"
#include "GuiHelpers.h"
#include "metrics/Smoothing.h"

#include <cmath>
#include <QComboBox>
#include <QFile>
#include <QSettings>
#include <QSlider>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <random>

using namespace Kiln;
using Ui::MetricChart;

namespace {

std::shared_ptr<Ui::SeriesBuffer> series(std::size_t n, const std::function<double(std::size_t)>& f,
                                         double t0 = 1.7e9, std::size_t first = 0) {
    auto b = std::make_shared<Ui::SeriesBuffer>();
    std::vector<double> steps, times, values;
    for (std::size_t i = first; i < first + n; ++i) {
        steps.push_back(static_cast<double>(i));
        times.push_back(t0 + 0.5 * static_cast<double>(i));
        values.push_back(f(i));
    }
    b->append(steps.data(), times.data(), values.data(), n);
    return b;
}

void append(Ui::SeriesBuffer& b, std::size_t from, std::size_t n,
            const std::function<double(std::size_t)>& f) {
    for (std::size_t i = from; i < from + n; ++i) {
        const double s = static_cast<double>(i), t = 1.7e9 + 0.5 * s, v = f(i);
        b.append(&s, &t, &v, 1);
    }
}

} // namespace

class TestMetricChart : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void aMillionPointsKeepTheirSpike() {
        MetricChart chart(QStringLiteral("loss"));
        chart.resize(900, 400);
        auto b = series(1'000'000, [](std::size_t i) { return i == 654'321 ? 1000.0 : std::sin(i * 1e-4); });
        chart.addCurve({1, QStringLiteral("loss"), Qt::blue, b, 0});
        chart.redrawNow();
        const auto& drawn = chart.drawn(0);
        QVERIFY(drawn.size() < 4 * 900 + 10);
        QVERIFY(std::any_of(drawn.begin(), drawn.end(), [](auto& p) { return p.y == 1000.0; }));
        QCOMPARE(chart.pointCount(QStringLiteral("loss")), 1'000'000);
    }

    void zoomSurvivesNewPointsAndFollowTracksThem() {
        MetricChart chart(QStringLiteral("loss"));
        chart.resize(600, 300);
        auto b = series(1000, [](std::size_t i) { return double(i); });
        chart.addCurve({1, QStringLiteral("loss"), Qt::blue, b, 0});
        chart.redrawNow();
        chart.setXRange(100, 200);
        chart.redrawNow();
        append(*b, 1000, 500, [](std::size_t i) { return double(i); });
        chart.dataAppended();
        chart.redrawNow();
        QCOMPARE(chart.xRange(), std::make_pair(100.0, 200.0)); // the user's zoom stays
        chart.setFollow(true);
        append(*b, 1500, 100, [](std::size_t i) { return double(i); });
        chart.dataAppended();
        chart.redrawNow();
        QCOMPARE(chart.xRange().second, 1599.0); // the newest point is at the right edge...
        QCOMPARE(chart.xRange().second - chart.xRange().first, 100.0); // ...with the same width
        chart.resetView();
        chart.redrawNow();
        const auto [lo, hi] = chart.xRange(); // everything, with 1% of air on each side
        QVERIFY(lo < 0 && lo > -1599 * 0.02 && hi > 1599 && hi < 1599 * 1.02);
    }

    void logAxesLeaveOutNonPositiveValues() {
        MetricChart chart(QStringLiteral("value"));
        chart.resize(600, 300);
        // Steps 0..99; values -5 .. 94: six are <= 0.
        auto b = series(100, [](std::size_t i) { return double(i) - 5; });
        chart.addCurve({1, QStringLiteral("value"), Qt::blue, b, 0});
        chart.setLogY(true);
        chart.redrawNow();
        QCOMPARE(chart.hiddenNonPositive(), 6);
        for (const auto& p : chart.drawn(0))
            QVERIFY(std::isfinite(p.y));
        QCOMPARE(chart.drawn(0).front().y, 0.0); // log10(1): the first positive value
        QCOMPARE(chart.drawn(0).back().y, std::log10(94.0));
        chart.setLogX(true); // step 0 is not on a log axis either
        chart.redrawNow();
        QCOMPARE(chart.drawn(0).front().x, std::log10(6.0)); // step 6 has the first positive value
        chart.setLogY(false);
        chart.setLogX(false);
        chart.redrawNow();
        QCOMPARE(chart.hiddenNonPositive(), 0);
        QCOMPARE(chart.drawn(0).size(), std::size_t(100));
    }

    void smoothingDrawsTheReferenceAverage() {
        // Values 1, 2, 3, 10 smoothed with weight 0.5, worked out by hand (TensorBoard's debiased EMA):
        // m = 0.5, 1.25, 2.125, 6.0625 over 1 - 0.5^n = 0.5, 0.75, 0.875, 0.9375.
        MetricChart chart(QStringLiteral("loss"));
        chart.resize(900, 300);
        const std::vector<double> raw = {1, 2, 3, 10};
        auto b = series(raw.size(), [&](std::size_t i) { return raw[i]; });
        chart.addCurve({1, QStringLiteral("loss"), Qt::blue, b, 0});
        chart.setSmoothing(0.5);
        chart.redrawNow();
        const std::vector<double> expected = {1.0, 5.0 / 3, 17.0 / 7, 97.0 / 15};
        const auto& drawn = chart.drawn(0); // 4 points < 4 x columns: every point drawn
        QCOMPARE(drawn.size(), expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i)
            QVERIFY2(
                std::abs(drawn[i].y - expected[i]) < 1e-12,
                qPrintable(QStringLiteral("%1: %2 instead of %3").arg(i).arg(drawn[i].y).arg(expected[i])));
        // Without smoothing, the raw values themselves.
        chart.setSmoothing(0);
        chart.redrawNow();
        for (std::size_t i = 0; i < raw.size(); ++i)
            QCOMPARE(chart.drawn(0)[i].y, raw[i]);
    }

    void xCanBeTimeOrAnotherMetric() {
        MetricChart chart(QStringLiteral("loss"));
        chart.resize(600, 300);
        auto loss = series(30, [](std::size_t i) { return 1.0 / double(i + 1); });
        auto epoch = series(30, [](std::size_t i) { return double(i / 10); });
        chart.addCurve({7, QStringLiteral("loss"), Qt::blue, loss, 1.7e9 - 10});
        chart.setLookup([&](qint64 run, const QString& key) {
            return run == 7 && key == QLatin1String("epoch") ? epoch : nullptr;
        });
        chart.setXAxis(MetricChart::XAxis::RelativeTime);
        chart.redrawNow();
        QCOMPARE(chart.drawn(0).front().x, 10.0); // the first point came 10 s after the run started
        QCOMPARE(chart.drawn(0).back().x, 10.0 + 0.5 * 29);
        chart.setXAxis(MetricChart::XAxis::Metric, QStringLiteral("epoch"));
        chart.redrawNow();
        QCOMPARE(chart.drawn(0).back().x, 2.0);
        QCOMPARE(chart.drawn(0).front().x, 0.0);
    }

    void legendTogglesAndHoverNamesTheNearestPoints() {
        MetricChart chart(QStringLiteral("loss"));
        chart.resize(800, 300);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.addCurve(
            {1, QStringLiteral("run A"), Qt::blue, series(100, [](std::size_t i) { return double(i); }), 0});
        chart.addCurve(
            {2, QStringLiteral("run B"), Qt::red, series(100, [](std::size_t i) { return 2.0 * i; }), 0});
        chart.redrawNow();
        QTest::mouseClick(&chart, Qt::LeftButton, {}, chart.legendRect(1).center());
        QVERIFY(!chart.curveVisible(1));
        chart.redrawNow();
        QVERIFY(chart.drawn(1).empty());
        QTest::mouseClick(&chart, Qt::LeftButton, {}, chart.legendRect(1).center());
        QVERIFY(chart.curveVisible(1));
        chart.redrawNow();
        // Hover in the middle of the plot: both runs' points at step ~50.
        const int plotWidth = 800 - 64 - 14;
        QTest::mouseMove(&chart, QPoint(64 + static_cast<int>(std::lround(50.0 / 99 * plotWidth)), 150));
        QTRY_VERIFY(chart.hoverText().contains(QStringLiteral("run A: 50")));
        QVERIFY(chart.hoverText().contains(QStringLiteral("run B: 100")));
        QVERIFY(chart.hoverText().contains(QStringLiteral("step 50")));
    }

    void chartSettingsPersistPerWorkspaceAndMetric() {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().remove(QStringLiteral("charts"));
        {
            Ui::ChartPanel panel(QStringLiteral("loss"));
            panel.setSettingsKey(QStringLiteral("ws1/loss"));
            panel.logYButton()->click();
            panel.smoothingSlider()->setValue(60);
            panel.xAxisBox()->setCurrentIndex(panel.xAxisBox()->findData(QStringLiteral("relative")));
        }
        Ui::ChartPanel again(QStringLiteral("loss"));
        again.setSettingsKey(QStringLiteral("ws1/loss"));
        QVERIFY(again.chart()->logY());
        QCOMPARE(again.chart()->smoothing(), 0.6);
        QCOMPARE(again.chart()->xAxis(), MetricChart::XAxis::RelativeTime);
        Ui::ChartPanel otherWorkspace(QStringLiteral("loss"));
        otherWorkspace.setSettingsKey(QStringLiteral("ws2/loss"));
        QVERIFY(!otherWorkspace.chart()->logY());
        QCOMPARE(otherWorkspace.chart()->xAxis(), MetricChart::XAxis::Step);
        // A metric x-axis chosen earlier comes back once that metric is offered.
        {
            Ui::ChartPanel panel(QStringLiteral("loss"));
            panel.setSettingsKey(QStringLiteral("ws1/acc"));
            panel.setMetricKeys({QStringLiteral("epoch")});
            panel.xAxisBox()->setCurrentIndex(panel.xAxisBox()->findText(QStringLiteral("epoch")));
        }
        Ui::ChartPanel later(QStringLiteral("acc"));
        later.setSettingsKey(QStringLiteral("ws1/acc"));
        QCOMPARE(later.chart()->xAxis(), MetricChart::XAxis::Step); // epoch not known yet
        later.setMetricKeys({QStringLiteral("epoch")});
        QCOMPARE(later.chart()->xAxis(), MetricChart::XAxis::Metric);
        QCOMPARE(later.chart()->xMetric(), QStringLiteral("epoch"));
    }

    void exportsWriteImagesAndData() {
        MetricChart chart(QStringLiteral("loss"));
        chart.resize(600, 300);
        chart.addCurve(
            {3, QStringLiteral("loss"), Qt::blue, series(10, [](std::size_t i) { return i * 0.5; }), 0});
        chart.redrawNow();
        QTemporaryDir dir;
        QVERIFY(chart.exportPng(dir.filePath(QStringLiteral("c.png"))));
        QImage png(dir.filePath(QStringLiteral("c.png")));
        QCOMPARE(png.size(), QSize(1200, 600)); // 2x for sharp slides
        QVERIFY(chart.exportSvg(dir.filePath(QStringLiteral("c.svg"))));
        QFile svg(dir.filePath(QStringLiteral("c.svg")));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        QVERIFY(svg.readAll().contains("<svg"));
        QVERIFY(chart.exportCsv(dir.filePath(QStringLiteral("c.csv"))));
        QFile csv(dir.filePath(QStringLiteral("c.csv")));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const auto lines = QString::fromUtf8(csv.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 11);
        QCOMPARE(lines[0], QStringLiteral("run,series,step,time,value"));
        QVERIFY(lines[10].startsWith(QStringLiteral("3,\"loss\",9,")));
        QVERIFY(lines[10].endsWith(QStringLiteral(",4.5")));
    }
};

int main(int argc, char** argv) {
    return Kiln::Test::runGuiTest<TestMetricChart>(argc, argv);
}

#include "test_metric_chart.moc"
