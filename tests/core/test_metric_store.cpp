// Metric storage: automatic steps, history order, the feed cursor that must never skip a point, level of
// detail equal to the chart's own reduction, and points of older workspaces moved into blocks.
#include "metrics/MetricStore.h"
#include "metrics/Reduce.h"
#include "runs/RunStore.h"
#include "store/Database.h"

#include <atomic>
#include <chrono>
#include <limits>
#include <QTemporaryDir>
#include <QTest>
#include <random>
#include <thread>

using namespace Kiln;

class TestMetricStore : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::unique_ptr<Store::Database> m_db;
    std::int64_t m_run = 0;

private Q_SLOTS:
    void init() {
        m_db = std::make_unique<Store::Database>(m_dir.path().toStdString() + "/" +
                                                 QTest::currentTestFunction() + ".db");
        Runs::RunStore runs(*m_db);
        Runs::NewRun n;
        n.experiment = "e";
        n.script = "s.py";
        n.snapshot = std::string(64, 'b');
        m_run = runs.createRun(n);
    }

    void stepsDefaultToTheNextStepPerKey() {
        Metrics::MetricStore store(*m_db);
        constexpr auto none = Metrics::kNextStep;
        Metrics::Columns batch;
        batch.add("loss", none, 0, 1.0);
        batch.add("loss", none, 0, 0.5);
        batch.add("acc", 10, 0, 0.1);
        batch.add("acc", none, 0, 0.2);
        store.ingest(m_run, batch);
        auto loss = store.history(m_run, "loss");
        QCOMPARE(loss.steps, (std::vector<std::int64_t>{0, 1}));
        QCOMPARE(loss.values, (std::vector<double>{1.0, 0.5}));
        auto acc = store.history(m_run, "acc");
        QCOMPARE(acc.steps, (std::vector<std::int64_t>{10, 11}));
        Metrics::Columns more;
        more.add("loss", none, 0, 0.25);
        store.ingest(m_run, more);
        QCOMPARE(store.history(m_run, "loss").steps.back(), std::int64_t(2));
        auto keys = store.keys(m_run);
        QCOMPARE(keys.size(), std::size_t(2));
        QCOMPARE(keys[1]["key"].get<std::string>(), std::string("loss"));
        QCOMPARE(keys[1]["count"].get<int>(), 3);
        QCOMPARE(keys[1]["last"].get<double>(), 0.25);
        QCOMPARE(keys[1]["min"].get<double>(), 0.25);
        QCOMPARE(keys[1]["max"].get<double>(), 1.0);
    }

    void concurrentBatchesShareACommitAndFailAlone() {
        // While the database is busy, eight batches arrive at once: the first waits for the database alone,
        // the seven that queue meanwhile share the next commit. Batches 4-6 repeat 0-2 (same client and
        // sequence: stored once), batch 7 names a run that does not exist (refused, the others unharmed).
        Metrics::MetricStore store(*m_db);
        std::atomic<int> stored = 0, repeated = 0, refused = 0;
        std::vector<std::thread> threads;
        {
            auto busy = m_db->lock();
            for (int t = 0; t < 8; ++t)
                threads.emplace_back([&, t] {
                    Metrics::Columns batch;
                    batch.add("k" + std::to_string(t % 4), Metrics::kNextStep, 0, t % 4);
                    const Metrics::BatchId id{"client", t % 4};
                    try {
                        (store.ingest(t == 7 ? m_run + 1000 : m_run, batch, &id) ? stored : repeated)++;
                    } catch (const std::exception&) {
                        refused++;
                    }
                });
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        }
        for (auto& t : threads)
            t.join();
        QCOMPARE(stored.load(), 4);
        QCOMPARE(repeated.load(), 3);
        QCOMPARE(refused.load(), 1);
        QCOMPARE(store.commits(), std::int64_t(2));
        for (int k = 0; k < 4; ++k)
            QCOMPARE(store.history(m_run, "k" + std::to_string(k)).values, std::vector<double>{double(k)});
        // Alone again: one commit per batch.
        Metrics::Columns more;
        more.add("k0", Metrics::kNextStep, 0, 9);
        QVERIFY(store.ingest(m_run, more));
        QCOMPARE(store.commits(), std::int64_t(3));
    }

    void singlePointsGoIntoSmallBlocksThatMergeWhenFull() {
        // A point at a time (the SDK flushing often): each append rewrites a small block, not the key's
        // 512-point one; once the small ones hold a block's worth they become one full block.
        Metrics::MetricStore store(*m_db);
        for (int i = 0; i < 1300; ++i) {
            Metrics::Columns one;
            one.add("one", Metrics::kNextStep, 0, i * 0.5);
            store.ingest(m_run, one);
        }
        const auto h = store.history(m_run, "one");
        QCOMPARE(h.values.size(), std::size_t(1300));
        for (int i = 0; i < 1300; ++i)
            QCOMPARE(h.values[i], i * 0.5);
        std::vector<std::int64_t> sizes;
        {
            auto lock = m_db->lock();
            auto st = m_db->prepare("SELECT n FROM metric_blocks WHERE key_id = (SELECT id FROM metric_keys "
                                    "WHERE name = 'one') ORDER BY id");
            while (st.step())
                sizes.push_back(st.int64(0));
        }
        QCOMPARE(sizes[0], std::int64_t(512));
        QCOMPARE(sizes[1], std::int64_t(512));
        QVERIFY(sizes.size() > 3 && sizes.size() <= 2 + 16); // 276 points in small blocks
        for (std::size_t i = 2; i < sizes.size(); ++i)
            QVERIFY(sizes[i] < 512 && (sizes[i] >= 32 || i + 1 == sizes.size()));
        // A follower reads only what is new: from any point on, inside a block or at its edge, past the end.
        for (std::size_t from :
             {std::size_t(0), std::size_t(1), std::size_t(511), std::size_t(512), std::size_t(1000),
              std::size_t(1299), std::size_t(1300), std::size_t(5000)}) {
            const auto tail = store.history(m_run, "one", from);
            QCOMPARE(tail.values.size(), from >= 1300 ? std::size_t(0) : 1300 - from);
            for (std::size_t i = 0; i < tail.values.size(); ++i) {
                QCOMPARE(tail.values[i], h.values[from + i]);
                QCOMPARE(tail.steps[i], h.steps[from + i]);
                QCOMPARE(tail.timestamps[i], h.timestamps[from + i]);
            }
        }
        // Level of detail and the feed read them as any blocks.
        std::vector<double> xs(h.steps.begin(), h.steps.end());
        const auto lod = store.lod(m_run, "one", std::nullopt, std::nullopt, 37);
        const auto expected = Metrics::reduceMinMax(xs, h.values, 0, 1299, 37);
        QCOMPARE(lod.values.size(), expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i)
            QCOMPARE(lod.values[i], expected[i].y);
    }

    void feedCursorNeverSkipsPoints() {
        Metrics::MetricStore store(*m_db);
        // Interleave two keys unevenly, then read through the cursor with a small page.
        Metrics::Columns batch;
        for (int i = 0; i < 1000; ++i) {
            batch.add("a", i, 1.0, double(i));
            if (i % 3 == 0)
                batch.add("b", i, 1.0, double(-i));
        }
        store.ingest(m_run, batch);
        std::int64_t cursor = 0;
        std::size_t seenA = 0, seenB = 0;
        for (int pages = 0; pages < 1000; ++pages) {
            auto page = store.after(m_run, cursor, 97);
            if (page.empty())
                break;
            for (auto& [key, s] : page) {
                (key == "a" ? seenA : seenB) += s.ids.size();
                cursor = std::max(cursor, s.ids.back());
            }
        }
        QCOMPARE(seenA, std::size_t(1000));
        QCOMPARE(seenB, std::size_t(334));
    }

    void feedCursorSeesEveryPointOnceInOrder() {
        // Many keys in batches of every size (blocks fill, split and interleave): every point comes through
        // the cursor once, in the order it was logged, whatever the page size.
        Metrics::MetricStore store(*m_db);
        std::mt19937 rng(7);
        std::map<std::string, std::vector<double>> logged;
        double v = 0;
        for (int b = 0; b < 200; ++b) {
            Metrics::Columns batch;
            const int size = std::uniform_int_distribution<int>(1, 700)(rng);
            for (int i = 0; i < size; ++i) {
                const auto key = "k" + std::to_string(std::uniform_int_distribution<int>(0, b % 7)(rng));
                batch.add(key, Metrics::kNextStep, 1.0, ++v);
                logged[key].push_back(v);
            }
            store.ingest(m_run, batch);
        }
        for (const std::int64_t page : {1, 97, 5000, 100000}) {
            std::map<std::string, std::vector<double>> seen;
            std::int64_t cursor = 0;
            for (int pages = 0; pages < 100000; ++pages) {
                auto got = store.after(m_run, cursor, page);
                if (got.empty())
                    break;
                for (auto& [key, s] : got) {
                    seen[key].insert(seen[key].end(), s.values.begin(), s.values.end());
                    cursor = std::max(cursor, s.ids.back());
                }
            }
            QVERIFY2(seen == logged, ("page " + std::to_string(page)).c_str());
        }
        // The latest points are answered from memory: the same, and without waiting for a busy database.
        // (A store opened afresh, as after a restart, has none in memory: it reads them all from the file.)
        Metrics::MetricStore reopened(*m_db);
        std::int64_t last = 0;
        for (const auto& [key, s] : reopened.after(m_run, 0, 1'000'000))
            last = std::max(last, s.ids.back());
        const std::int64_t from = last - 300;
        const auto expected = reopened.after(m_run, from, 1'000'000);
        std::atomic<bool> answered = false;
        std::map<std::string, Metrics::Series> got;
        std::thread reader;
        bool whileBusy = false;
        {
            auto busy = m_db->lock();
            reader = std::thread([&] {
                got = store.after(m_run, from, 1'000'000);
                answered = true;
            });
            for (int i = 0; i < 500 && !answered; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            whileBusy = answered; // (else the reader waits for this lock, released here)
        }
        reader.join();
        QVERIFY(whileBusy);
        QCOMPARE(got.size(), expected.size());
        for (const auto& [key, s] : expected) {
            QCOMPARE(got[key].ids, s.ids);
            QCOMPARE(got[key].steps, s.steps);
            QCOMPARE(got[key].values, s.values);
            QCOMPARE(got[key].timestamps, s.timestamps);
        }
    }

    void levelOfDetailEqualsTheChartsReduction() {
        // A series with gaps and repeated steps, values with ties, stored through batches of random sizes;
        // then random ranges and widths: the server's answer is exactly what the chart's reduction picks
        // from the whole series (a picture drawn from it is the same).
        Metrics::MetricStore store(*m_db);
        std::mt19937 rng(42);
        std::int64_t step = 0;
        std::int64_t stored = 0;
        while (stored < 60000) {
            Metrics::Columns batch;
            const int size = std::uniform_int_distribution<int>(1, 3000)(rng);
            for (int i = 0; i < size; ++i) {
                step += std::uniform_int_distribution<int>(0, 3)(rng); // 0: the same step again
                const double value = std::round(std::normal_distribution<double>(0, 10)(rng)) / 4;
                batch.add("loss", step, 1000.0 + double(stored + i), value);
            }
            stored += size;
            store.ingest(m_run, batch);
        }
        const auto whole = store.history(m_run, "loss");
        QCOMPARE(static_cast<std::int64_t>(whole.values.size()), stored);
        std::vector<double> xs(whole.steps.begin(), whole.steps.end());
        const double last = xs.back();
        int compared = 0;
        for (int q = 0; q < 400; ++q) {
            double from = std::uniform_real_distribution<double>(-50, last + 50)(rng);
            double to = std::uniform_real_distribution<double>(from, last + 100)(rng);
            if (q % 10 == 0)
                from = to = std::round(from); // one step
            if (q % 10 == 1)
                from = -10, to = last + 10; // everything
            const int buckets = std::vector<int>{1, 3, 100, 640, 1000, 1920, 5000}[q % 7];
            const auto expected = Metrics::reduceMinMax(xs, whole.values, from, to, buckets);
            std::int64_t total = 0;
            const auto got = store.lod(m_run, "loss", from, to, buckets, &total);
            QCOMPARE(total, stored);
            QCOMPARE(got.values.size(), expected.size());
            for (std::size_t i = 0; i < expected.size(); ++i) {
                QCOMPARE(double(got.steps[i]), expected[i].x);
                QCOMPARE(got.values[i], expected[i].y);
                const auto at = static_cast<std::size_t>(got.ids[i]); // its index in the series
                QCOMPARE(got.timestamps[i], whole.timestamps[at]);
            }
            compared += static_cast<int>(expected.size());
        }
        QVERIFY(compared > 100000); // the ranges were not all empty
        // Without a range: the key's first to last step.
        const auto all = Metrics::reduceMinMax(xs, whole.values, xs.front(), xs.back(), 640);
        QCOMPARE(store.lod(m_run, "loss", std::nullopt, std::nullopt, 640).values.size(), all.size());
        QCOMPARE(store.lod(m_run, "loss", 10, 5, 100).values.size(), std::size_t(0)); // to < from
        QCOMPARE(store.lod(m_run, "nothing", 0, 10, 100).values.size(), std::size_t(0));
    }

    void keysWhoseStepsWentDownAreGivenWhole() {
        Metrics::MetricStore store(*m_db);
        Metrics::Columns batch;
        for (int i = 0; i < 3000; ++i)
            batch.add("wobbly", i % 1000, 0, double(i));
        store.ingest(m_run, batch);
        QCOMPARE(store.lod(m_run, "wobbly", 0, 1000, 10).values.size(), std::size_t(3000));
    }

    void pointsOfOlderWorkspacesMoveIntoBlocks() {
        // A workspace from before blocks kept a row per point in `metrics` (schema 1 made it; the first
        // MetricStore on a database drops it): opening it moves them, in order.
        {
            auto lock = m_db->lock();
            m_db->exec("CREATE TABLE IF NOT EXISTS metrics(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, "
                       "key_id INTEGER NOT "
                       "NULL, step INTEGER NOT NULL, ts REAL NOT NULL, value REAL)");
            m_db->prepare("INSERT INTO metric_keys(id, run_id, name, next_step, count) VALUES(1, ?, 'old', "
                          "1200, 1200)")
                .bind(1, m_run)
                .exec();
            m_db->prepare(
                    "INSERT INTO metric_keys(id, run_id, name, next_step, count) VALUES(2, ?, 'back', 3, 3)")
                .bind(1, m_run)
                .exec();
            auto ins =
                m_db->prepare("INSERT INTO metrics(run_id, key_id, step, ts, value) VALUES(?, ?, ?, ?, ?)");
            for (int i = 0; i < 1200; ++i) {
                ins.bind(1, m_run).bind(2, 1).bind(3, i).bind(4, 5.0).bind(5, i * 0.5).exec();
                ins.reset();
                if (i < 3) {
                    ins.bind(1, m_run).bind(2, 2).bind(3, 2 - i).bind(4, 5.0).bind(5, double(i)).exec();
                    ins.reset();
                }
            }
        }
        Metrics::MetricStore store(*m_db);
        const auto old = store.history(m_run, "old");
        QCOMPARE(old.values.size(), std::size_t(1200));
        QCOMPARE(old.values[1199], 599.5);
        QCOMPARE(old.steps[700], std::int64_t(700));
        QCOMPARE(store.history(m_run, "back").steps, (std::vector<std::int64_t>{2, 1, 0}));
        QCOMPARE(store.lod(m_run, "back", 0, 2, 1).values.size(), std::size_t(3)); // not in order: whole
        auto page = store.after(m_run, 0, 100000);
        QCOMPARE(page["old"].ids.size(), std::size_t(1200));
        // New points follow the moved ones, on the same cursor.
        Metrics::Columns more;
        more.add("old", Metrics::kNextStep, 0, 7.0);
        store.ingest(m_run, more);
        QCOMPARE(store.history(m_run, "old").steps.back(), std::int64_t(1200));
        QCOMPARE(store.after(m_run, page["old"].ids.back(), 10)["old"].values, std::vector<double>{7.0});
        auto lock = m_db->lock();
        QVERIFY(!m_db->prepare("SELECT 1 FROM sqlite_master WHERE name = 'metrics'").step()); // dropped
    }
};

QTEST_GUILESS_MAIN(TestMetricStore)
#include "test_metric_store.moc"
