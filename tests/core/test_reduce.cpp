// The per-pixel-column reduction behind every chart: whatever the series, each column keeps its first,
// minimum, maximum and last point, so no spike disappears at any zoom.
#include "metrics/Reduce.h"

#include <QTest>
#include <random>

using Kiln::Metrics::reduceMinMax;

class TestReduce : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void keepsEveryBucketsExtremes_data() {
        QTest::addColumn<int>("points");
        QTest::addColumn<int>("columns");
        QTest::addColumn<bool>("irregular");
        QTest::newRow("100k into 300") << 100000 << 300 << false;
        QTest::newRow("1M into 900") << 1000000 << 900 << false;
        QTest::newRow("irregular steps") << 50000 << 257 << true;
        QTest::newRow("fewer points than columns") << 120 << 500 << false;
    }

    void keepsEveryBucketsExtremes() {
        QFETCH(int, points);
        QFETCH(int, columns);
        QFETCH(bool, irregular);
        for (unsigned seed = 1; seed <= 5; ++seed) {
            std::mt19937_64 rng(seed);
            std::normal_distribution<double> noise(0, 1);
            std::uniform_real_distribution<double> gap(0.01, 3.0);
            std::vector<double> xs(static_cast<std::size_t>(points)), ys(xs.size());
            double x = 0, y = 0;
            for (std::size_t i = 0; i < xs.size(); ++i) {
                x += irregular ? (rng() % 3 == 0 ? 0.0 : gap(rng)) : 1.0; // irregular: gaps and repeated x
                y += noise(rng);
                if (rng() % 1000 == 0)
                    y += (rng() % 2 ? 1 : -1) * 500; // spikes
                xs[i] = x;
                ys[i] = y;
            }
            // Zoom into a random window too.
            const double lo = xs.front() + (xs.back() - xs.front()) * (seed == 1 ? 0.0 : 0.2);
            const double hi = xs.back() - (xs.back() - xs.front()) * (seed == 1 ? 0.0 : 0.3);
            // With and without the block index (cached ranges), the same answer.
            Kiln::Metrics::BlockIndex index;
            index.extend(std::span<const double>(ys).first(ys.size() / 2)); // built in two appends, as live
            index.extend(ys);
            const auto out = reduceMinMax(xs, ys, lo, hi, columns);
            const auto indexed = reduceMinMax(xs, ys, lo, hi, columns, &index);
            QCOMPARE(indexed.size(), out.size());
            for (std::size_t i = 0; i < out.size(); ++i)
                QVERIFY(indexed[i].x == out[i].x &&
                        (indexed[i].y == out[i].y || (std::isnan(indexed[i].y) && std::isnan(out[i].y))));
            QVERIFY(!out.empty());
            QVERIFY(out.size() <= static_cast<std::size_t>(columns) * 4 + 2 || out.size() <= xs.size());
            for (std::size_t i = 1; i < out.size(); ++i)
                QVERIFY2(out[i - 1].x <= out[i].x, "output must stay in x order");

            // Bucket by bucket, the output holds the bucket's min, max, first and last.
            const double width = (hi - lo) / columns;
            std::vector<double> mins(columns, INFINITY), maxs(columns, -INFINITY), firsts(columns, NAN),
                lasts(columns, NAN);
            std::vector<double> omins(columns, INFINITY), omaxs(columns, -INFINITY);
            std::vector<int> firstSeen(columns, 0);
            auto bucket = [&](double px) {
                return std::min(columns - 1, static_cast<int>((px - lo) / width));
            };
            for (std::size_t i = 0; i < xs.size(); ++i) {
                if (xs[i] < lo || xs[i] > hi)
                    continue;
                int b = bucket(xs[i]);
                mins[b] = std::min(mins[b], ys[i]);
                maxs[b] = std::max(maxs[b], ys[i]);
                if (!firstSeen[b]++)
                    firsts[b] = ys[i];
                lasts[b] = ys[i];
            }
            std::vector<std::vector<double>> seen(columns);
            for (const auto& p : out) {
                if (p.x < lo || p.x > hi)
                    continue;
                int b = bucket(p.x);
                omins[b] = std::min(omins[b], p.y);
                omaxs[b] = std::max(omaxs[b], p.y);
                seen[b].push_back(p.y);
            }
            for (int b = 0; b < columns; ++b) {
                if (!firstSeen[b])
                    continue;
                QCOMPARE(omins[b], mins[b]);
                QCOMPARE(omaxs[b], maxs[b]);
                QCOMPARE(seen[b].front(), firsts[b]);
                QCOMPARE(seen[b].back(), lasts[b]);
            }
            // And the reduction really reduces.
            if (points > columns * 4)
                QVERIFY(out.size() <= static_cast<std::size_t>(columns) * 4 + 2);
        }
    }

    void keepsNeighboursOutsideTheRange() {
        std::vector<double> xs = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        std::vector<double> ys = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90};
        auto out = reduceMinMax(xs, ys, 3.5, 6.5, 100);
        QCOMPARE(out.front().x, 3.0);
        QCOMPARE(out.back().x, 7.0);
    }

    void emptyAndDegenerate() {
        std::vector<double> none;
        QVERIFY(reduceMinMax(none, none, 0, 1, 100).empty());
        std::vector<double> one = {5};
        QCOMPARE(reduceMinMax(one, one, 5, 5, 100).size(), std::size_t(1));
        QVERIFY(reduceMinMax(one, one, 0, 1, 0).empty());
    }
};

QTEST_GUILESS_MAIN(TestReduce)
#include "test_reduce.moc"
