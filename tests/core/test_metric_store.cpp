// Metric storage: automatic steps, history order, and the feed cursor that must never skip a point.
#include "metrics/MetricStore.h"
#include "runs/RunStore.h"
#include "store/Database.h"

#include <limits>
#include <QTemporaryDir>
#include <QTest>

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
};

QTEST_GUILESS_MAIN(TestMetricStore)
#include "test_metric_store.moc"
