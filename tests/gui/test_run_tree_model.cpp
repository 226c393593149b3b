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

        // Runs and experiments that vanish are removed.
        model.setRuns(Json::array({run(3, "b", "Running")}));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.rowCount(model.index(0, 0)), 1);
        QVERIFY(!model.indexOfRun(1).isValid());
        model.setRuns(Json::array());
        QCOMPARE(model.rowCount(), 0);
    }
};

QTEST_MAIN(TestRunTreeModel)
#include "test_run_tree_model.moc"
