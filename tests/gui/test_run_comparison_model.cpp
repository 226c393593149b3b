// The comparison table's model under QAbstractItemModelTester: runs x arguments, parameters, final and best
// metrics; differing arguments flagged; numbers sort as numbers and the filter matches any column.
#include "compare/RunComparisonModel.h"

#include <nlohmann/json.hpp>
#include <QAbstractItemModelTester>
#include <QSortFilterProxyModel>
#include <QTest>

using namespace Kiln;
using Json = nlohmann::json;
using Ui::RunComparisonModel;

static Json run(qint64 id, const char* name, std::vector<std::string> args, double seconds,
                const char* status, Json params) {
    return {{"id", id},        {"name", name},      {"status", status},
            {"args", args},    {"started", 1000.0}, {"ended", 1000.0 + seconds},
            {"params", params}};
}

static Json metrics(double last, double min, double max) {
    return Json::array(
        {{{"key", "loss"}, {"count", 10}, {"last", last}, {"min", min}, {"max", max}},
         {{"key", "accuracy"}, {"count", 10}, {"last", 1 - last}, {"min", 0.1}, {"max", 1 - min}}});
}

class TestRunComparisonModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void comparesSortsAndFilters() {
        RunComparisonModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRun(
            run(1, "e #1", {"--lr", "0.1", "--epochs", "3"}, 12.5, "Completed", {{"optimizer", "adam"}}),
            metrics(0.30, 0.25, 2.0));
        model.setRun(
            run(2, "e #2", {"--lr", "0.01", "--epochs", "3"}, 9.0, "Failed", {{"optimizer", "adam"}}),
            metrics(0.45, 0.40, 2.1));
        model.setRun(
            run(10, "e #10", {"--lr", "0.001", "--epochs", "3"}, 100.0, "Completed", {{"optimizer", "sgd"}}),
            metrics(0.20, 0.18, 2.2));
        QCOMPARE(model.rowCount(), 3);
        const int lr = model.columnOf(QStringLiteral("--lr"));
        const int epochs = model.columnOf(QStringLiteral("--epochs"));
        const int lossFinal = model.columnOf(QStringLiteral("loss (final)"));
        const int lossBest = model.columnOf(QStringLiteral("loss (best)"));
        const int accBest = model.columnOf(QStringLiteral("accuracy (best)"));
        QVERIFY(lr > 0 && epochs > 0 && lossFinal > 0 && lossBest > 0 && accBest > 0);
        QVERIFY(model.columnOf(QStringLiteral("param optimizer")) > 0);
        // Arguments that differ are flagged and shaded; equal ones are not.
        QVERIFY(model.differs(lr));
        QVERIFY(!model.differs(epochs));
        QVERIFY(model.index(0, lr).data(Qt::BackgroundRole).isValid());
        QVERIFY(!model.index(0, epochs).data(Qt::BackgroundRole).isValid());
        // Best is the minimum for a loss and the maximum for an accuracy.
        QCOMPARE(
            model.index(model.rowOf(10), lossBest).data(RunComparisonModel::UnderlyingDataRole).toDouble(),
            0.18);
        QCOMPARE(
            model.index(model.rowOf(10), accBest).data(RunComparisonModel::UnderlyingDataRole).toDouble(),
            0.82);

        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(RunComparisonModel::UnderlyingDataRole);
        proxy.setFilterKeyColumn(-1);
        proxy.setFilterCaseSensitivity(Qt::CaseInsensitive);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        proxy.sort(lossFinal, Qt::AscendingOrder);
        QCOMPARE(proxy.index(0, RunComparisonModel::RunColumn).data().toString(), QStringLiteral("e #10"));
        QCOMPARE(proxy.index(2, RunComparisonModel::RunColumn).data().toString(), QStringLiteral("e #2"));
        // Durations sort as numbers (9 s before 12.5 s before 100 s), not as text.
        proxy.sort(RunComparisonModel::DurationColumn, Qt::AscendingOrder);
        QCOMPARE(proxy.index(0, RunComparisonModel::DurationColumn).data().toString(),
                 QStringLiteral("9.0 s"));
        QCOMPARE(proxy.index(2, RunComparisonModel::DurationColumn).data().toString(),
                 QStringLiteral("100.0 s"));
        proxy.setFilterFixedString(QStringLiteral("sgd"));
        QCOMPARE(proxy.rowCount(), 1);
        proxy.setFilterFixedString(QStringLiteral("FAILED"));
        QCOMPARE(proxy.rowCount(), 1);
        proxy.setFilterFixedString(QString());
        QCOMPARE(proxy.rowCount(), 3);

        // Updating a run replaces its row.
        model.setRun(
            run(2, "e #2", {"--lr", "0.1", "--epochs", "3"}, 9.0, "Completed", {{"optimizer", "adam"}}),
            metrics(0.45, 0.40, 2.1));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.index(model.rowOf(2), RunComparisonModel::StatusColumn).data().toString(),
                 QStringLiteral("Completed"));
    }
};

QTEST_MAIN(TestRunComparisonModel)
#include "test_run_comparison_model.moc"
