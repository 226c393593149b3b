// The arithmetic behind the charts and the comparison table: EMA smoothing against a reference
// computation, x = another metric aligned by step, axis ticks, which metrics are better low, and how run
// arguments are read.
#include "metrics/Smoothing.h"
#include "metrics/Ticks.h"
#include "runs/Arguments.h"
#include "util/Fuzzy.h"

#include <cmath>
#include <QTest>
#include <random>

using namespace Kiln;

class TestChartMath : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void smoothingMatchesTheReference() {
        std::mt19937 rng(3);
        std::normal_distribution<double> noise(0, 1);
        std::vector<double> values(1000);
        for (auto& v : values)
            v = noise(rng);
        values[500] = NAN; // a gap passes through and does not disturb the average
        for (double w : {0.0, 0.3, 0.6, 0.9, 0.99}) {
            Metrics::Ema ema(w);
            std::vector<double> out;
            ema.extend(std::span<const double>(values).first(300), out); // in two parts, as data streams
            ema.extend(std::span<const double>(values).subspan(300), out);
            // Reference: TensorBoard's debiased EMA, written the obvious way.
            double last = 0;
            int n = 0;
            for (std::size_t i = 0; i < values.size(); ++i) {
                if (!std::isfinite(values[i])) {
                    QVERIFY(std::isnan(out[i]));
                    continue;
                }
                last = last * w + (1 - w) * values[i];
                ++n;
                const double expected = w == 0 ? values[i] : last / (1 - std::pow(w, n));
                QVERIFY2(std::abs(out[i] - expected) < 1e-9,
                         qPrintable(QStringLiteral("w=%1 i=%2").arg(w).arg(i)));
            }
        }
        // The first smoothed point is the first value (debiased), not a fraction of it.
        Metrics::Ema ema(0.9);
        QCOMPARE(ema.push(5.0), 5.0);
    }

    void otherMetricAsXIsAlignedByStep() {
        const std::vector<double> steps = {0, 1, 2, 5, 9};
        const std::vector<double> epochSteps = {1, 4, 9};
        const std::vector<double> epochs = {0, 1, 2};
        const auto x = Metrics::alignByStep(steps, epochSteps, epochs);
        QVERIFY(std::isnan(x[0])); // before the first epoch point
        QCOMPARE(x[1], 0.0);
        QCOMPARE(x[2], 0.0);
        QCOMPARE(x[3], 1.0);
        QCOMPARE(x[4], 2.0);
    }

    void ticksAreNiceAndCoverTheRange() {
        const auto t = Metrics::linearTicks(0.13, 9.7, 5);
        QVERIFY(t.size() >= 4 && t.size() <= 10);
        QCOMPARE(t.front(), 2.0);
        QCOMPARE(t[1] - t[0], 2.0);
        for (double v : t)
            QVERIFY(v >= 0.13 && v <= 9.7);
        QVERIFY(Metrics::linearTicks(1, 1, 5).empty());
        QVERIFY(Metrics::linearTicks(NAN, 1, 5).empty());
        const auto l = Metrics::logTicks(-3.2, 2.1, 6); // 10^-3.2 .. 10^2.1
        QCOMPARE(l.front(), -3.0);
        QCOMPARE(l.back(), 2.0);
    }

    void bestMeansLowForLossesAndHighOtherwise() {
        QVERIFY(Metrics::lowerIsBetter("loss"));
        QVERIFY(Metrics::lowerIsBetter("val_loss"));
        QVERIFY(Metrics::lowerIsBetter("test_MSE"));
        QVERIFY(!Metrics::lowerIsBetter("accuracy"));
        QVERIFY(!Metrics::lowerIsBetter("f1"));
    }

    void fuzzyMatchingRanksLikeAPalette() {
        using Util::fuzzyScore;
        QCOMPARE(fuzzyScore("xyz", "fashion-mnist #2"), -1); // every character, in order
        QCOMPARE(fuzzyScore("2#", "fashion-mnist #2"), -1);
        QVERIFY(fuzzyScore("fm2", "fashion-mnist #2") > 0);
        QVERIFY(fuzzyScore("FASH", "fashion-mnist #2") > 0); // case does not matter
        // Consecutive characters and word starts beat scattered ones.
        QVERIFY(fuzzyScore("mnist", "fashion-mnist #2") > fuzzyScore("mnist", "my new instance list"));
        QVERIFY(fuzzyScore("run", "Run again") > fuzzyScore("run", "Refresh the unknown"));
        // A shorter text wins a tie.
        QVERIFY(fuzzyScore("models", "Models") > fuzzyScore("models", "Models of the past year"));
        QCOMPARE(fuzzyScore("", "anything"), 0);
    }

    void argumentsAreReadAsNamesAndValues() {
        const auto args = Runs::parseArguments(
            {"--lr", "0.01", "--batch-size=64", "--verbose", "--shift", "-1", "data.csv", "--dry-run"});
        const std::vector<std::pair<std::string, std::string>> expected = {
            {"--lr", "0.01"},  {"--batch-size", "64"}, {"--verbose", "true"},
            {"--shift", "-1"}, {"#1", "data.csv"},     {"--dry-run", "true"}};
        QVERIFY(args == expected);
    }
};

QTEST_GUILESS_MAIN(TestChartMath)
#include "test_chart_math.moc"
