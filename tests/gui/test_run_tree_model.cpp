// The workspace browser's model: experiments -> runs, updated in place as runs appear, change and vanish.
#include "runs/RunTreeModel.h"

#include <nlohmann/json.hpp>
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using Kiln::Ui::RunTreeModel;
using Json = nlohmann::json;

static Json run(int id, const std::string& experiment, const std::string& status) {
    return {
        {"id", id},         {"experiment", experiment},     {"name", experiment + " #" + std::to_string(id)},
        {"status", status}, {"created", 1700000000.0 + id}, {"started", nullptr},
        {"ended", nullptr}};
}

class TestRunTreeModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void updatesInPlace() {
        RunTreeModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRuns(Json::array({run(1, "b", "Running"), run(2, "a", "Queued")}));
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(0, 0).data().toString(), QStringLiteral("a"));
        QCOMPARE(model.runCount(), 2);

        // A status change is a dataChanged of that row, not a reset.
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setRuns(Json::array({run(1, "b", "Completed"), run(2, "a", "Queued"), run(3, "b", "Queued")}));
        QCOMPARE(resets.count(), 0);
        QVERIFY(changed.count() > 0);
        const auto b = model.index(1, 0);
        QCOMPARE(model.rowCount(b), 2);
        QCOMPARE(model.index(0, 0, b).data(RunTreeModel::RunIdRole).toLongLong(), 3); // newest first
        QCOMPARE(model.index(1, RunTreeModel::StatusColumn, b).data().toString(),
                 QStringLiteral("Completed"));
        QCOMPARE(model.indexOfRun(1), model.index(1, 0, b));

        // True counts: an experiment listing only its newest runs says so.
        model.setCounts(
            Json::array({{{"name", "a"}, {"run_count", 1}}, {{"name", "b"}, {"run_count", 7000}}}));
        QCOMPARE(model.index(0, RunTreeModel::StatusColumn).data().toString(), QStringLiteral("1 run(s)"));
        QCOMPARE(model.index(1, RunTreeModel::StatusColumn).data().toString(),
                 QStringLiteral("2 of 7000 run(s)"));
        QVERIFY(model.index(1, 0).data(Qt::ToolTipRole).toString().contains(QLatin1String("runs table")));

        // Runs that vanish are removed; experiments go when GET /experiments stops naming them.
        model.setRuns(Json::array({run(3, "b", "Running")}));
        QCOMPARE(model.rowCount(model.index(1, 0)), 1);
        QCOMPARE(model.rowCount(model.index(0, 0)), 0);
        QVERIFY(!model.indexOfRun(1).isValid());
        model.setCounts(Json::array({{{"name", "b"}, {"run_count", 1}}}));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, 0).data().toString(), QStringLiteral("b"));
        model.setRuns(Json::array());
        model.setCounts(Json::array());
        QCOMPARE(model.rowCount(), 0);
    }

    // A workspace larger than the listing: experiments show their true counts and load older runs a page at a
    // time as they are asked to (the view asks when an experiment is expanded and scrolled to its end).
    void fetchesOlderRunsPageByPage() {
        RunTreeModel model;
        QList<std::pair<QString, qint64>> asked;
        model.setFetcher([&](const QString& experiment, qint64 before) {
            asked.append({experiment, before});
        });
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        // The listing holds the newest 3 runs of 10 (runs 1..8 are "a", 9 and 10 "b").
        model.setRuns(
            Json::array({run(10, "b", "Running"), run(9, "b", "Completed"), run(8, "a", "Completed")}),
            false);
        model.setCounts(Json::array({{{"name", "a"}, {"run_count", 8}},
                                     {{"name", "b"}, {"run_count", 2}},
                                     {{"name", "empty"}, {"run_count", 0}}}));
        const auto a = model.index(0, 0);
        QCOMPARE(model.index(0, RunTreeModel::StatusColumn).data().toString(),
                 QStringLiteral("1 of 8 run(s)"));
        QVERIFY(!model.canFetchMore(model.index(1, 0))); // b has all its runs
        QVERIFY(!model.hasChildren(model.index(2, 0)));  // an experiment with none
        // Asked for a's runs older than its oldest loaded (the tester, like a view, fetches what it can),
        // once: one page at a time.
        if (asked.isEmpty())
            model.fetchMore(a);
        QCOMPARE(asked.size(), 1);
        QCOMPARE(asked[0].first, QStringLiteral("a"));
        QCOMPARE(asked[0].second, 8);
        QVERIFY(!model.canFetchMore(a));
        model.fetchMore(a);
        QCOMPARE(asked.size(), 1);
        model.appendRuns(QStringLiteral("a"), Json::array({run(7, "a", "Failed"), run(6, "a", "Completed")}));
        QCOMPARE(model.rowCount(a), 3);
        QCOMPARE(model.index(2, 0, a).data(RunTreeModel::RunIdRole).toLongLong(), 6);
        QCOMPARE(model.index(0, RunTreeModel::StatusColumn).data().toString(),
                 QStringLiteral("3 of 8 run(s)"));

        // A refresh of the newest runs keeps what was fetched (and updates what it lists).
        model.setRuns(
            Json::array({run(11, "a", "Queued"), run(10, "b", "Completed"), run(9, "b", "Completed")}),
            false);
        QCOMPARE(model.rowCount(a), 4);
        QCOMPARE(model.index(0, 0, a).data(RunTreeModel::RunIdRole).toLongLong(), 11);
        QCOMPARE(model.index(3, 0, a).data(RunTreeModel::RunIdRole).toLongLong(), 6);
        // Run 8 is older than the listing reaches: kept as fetched.
        QVERIFY(model.indexOfRun(8).isValid());

        // A page answering runs already there adds nothing and stops the asking (the count was stale).
        model.fetchMore(a);
        model.appendRuns(QStringLiteral("a"), Json::array({run(7, "a", "Failed")}));
        QCOMPARE(model.rowCount(a), 4);
        QVERIFY(!model.canFetchMore(a));
        // A failed fetch lets the next scroll ask again.
        const auto before = asked.size();
        model.setCounts(Json::array({{{"name", "a"}, {"run_count", 9}}, {{"name", "b"}, {"run_count", 2}}}));
        const auto experimentA = model.indexOfRun(11).parent();
        if (asked.size() == before)
            model.fetchMore(experimentA);
        QCOMPARE(asked.size(), before + 1);
        QVERIFY(!model.canFetchMore(experimentA));
        model.fetchFailed(QStringLiteral("a"));
        QVERIFY(model.canFetchMore(experimentA));
    }
};

QTEST_MAIN(TestRunTreeModel)
#include "test_run_tree_model.moc"
