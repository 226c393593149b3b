// The panels' item models, checked by QAbstractItemModelTester while they are filled, refilled and emptied:
// AssetVersionsModel (names -> versions, for Datasets, Models and Environments) and ComputeTargetsModel.
#include "compute/ComputeTargetsModel.h"
#include "GuiHelpers.h"
#include "workspace/AssetVersionsModel.h"

#include <nlohmann/json.hpp>
#include <QAbstractItemModelTester>
#include <QMimeData>
#include <QSignalSpy>
#include <QTest>

using namespace Kiln;
using Json = nlohmann::json;

class TestPanelModels : public QObject {
    Q_OBJECT

    static Ui::AssetVersionsModel* datasetsLike(QObject* parent) {
        return new Ui::AssetVersionsModel(
            {{QStringLiteral("Dataset"),
              [](const Json& d, const Json* v) {
                  return v ? QStringLiteral("version %1").arg((*v)["version"].get<int>())
                           : QString::fromStdString(d["name"].get<std::string>());
              }},
             {QStringLiteral("Files"),
              [](const Json&, const Json* v) {
                  return v ? QString::number((*v)["file_count"].get<int>()) : QString();
              },
              Qt::AlignRight | Qt::AlignVCenter}},
            parent);
    }
    static Json version(int n, int files, bool archived = false, const char* description = "") {
        return {{"version", n}, {"file_count", files}, {"archived", archived}, {"description", description}};
    }

private Q_SLOTS:
    void assetVersionsModel() {
        auto* model = datasetsLike(this);
        QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model->rowCount(), 0);
        QCOMPARE(model->headerData(1, Qt::Horizontal).toString(), QStringLiteral("Files"));

        model->setAssets(
            Json::array({{{"name", "clothes"},
                          {"versions", {version(1, 4), version(2, 5, false, "with the test split")}}},
                         {{"name", "iris"}, {"versions", {version(1, 1)}}},
                         {{"name", "no-versions-yet"}},
                         "not an asset"}));
        QCOMPARE(model->rowCount(), 3); // (the malformed entry is left out)
        const auto clothes = model->index(0, 0);
        QCOMPARE(clothes.data().toString(), QStringLiteral("clothes"));
        QCOMPARE(model->rowCount(clothes), 2);
        QCOMPARE(model->rowCount(model->index(2, 0)), 0);
        const auto v2 = model->indexOf(QStringLiteral("clothes"), 2);
        QCOMPARE(v2.parent(), clothes);
        QCOMPARE(v2.data().toString(), QStringLiteral("version 2"));
        QCOMPARE(v2.siblingAtColumn(1).data().toString(), QStringLiteral("5"));
        QCOMPARE(v2.siblingAtColumn(1).data(Qt::TextAlignmentRole).value<Qt::Alignment>(),
                 Qt::AlignRight | Qt::AlignVCenter);
        QCOMPARE(v2.data(Qt::ToolTipRole).toString(), QStringLiteral("with the test split"));
        QCOMPARE(v2.data(Ui::AssetVersionsModel::NameRole).toString(), QStringLiteral("clothes"));
        QCOMPARE(v2.data(Ui::AssetVersionsModel::VersionRole).toInt(), 2);
        QCOMPARE(clothes.data(Ui::AssetVersionsModel::VersionRole).toInt(), 0);
        const auto underlying =
            Json::parse(v2.data(Ui::AssetVersionsModel::UnderlyingDataRole).toString().toStdString());
        QCOMPARE(underlying["file_count"].get<int>(), 5);
        QCOMPARE(model->indexOf(QStringLiteral("iris"), 0), model->index(1, 0));
        QVERIFY(!model->indexOf(QStringLiteral("iris"), 7).isValid());
        QVERIFY(!model->indexOf(QStringLiteral("nothing"), 0).isValid());
        QCOMPARE(model->versionAt(clothes), nullptr);
        QCOMPARE((*model->versionAt(v2))["version"].get<int>(), 2);

        // Muted versions are greyed; only version rows drag, one at a time, when a provider is set.
        QVERIFY(!v2.data(Qt::ForegroundRole).isValid());
        model->setMuted([](const Json& v) { return v.value("archived", false); });
        model->setAssets(Json::array({{{"name", "m"}, {"versions", {version(1, 1, true), version(2, 1)}}}}));
        QVERIFY(model->index(0, 0, model->index(0, 0)).data(Qt::ForegroundRole).isValid());
        QVERIFY(!model->index(1, 0, model->index(0, 0)).data(Qt::ForegroundRole).isValid());
        QVERIFY(!(model->flags(model->index(0, 0, model->index(0, 0))) & Qt::ItemIsDragEnabled));
        QString dragged;
        model->setDragProvider([&](const QString& name, int v) {
            dragged = QStringLiteral("%1:%2").arg(name).arg(v);
            return new QMimeData;
        });
        const auto m2 = model->index(1, 0, model->index(0, 0));
        QVERIFY(model->flags(m2) & Qt::ItemIsDragEnabled);
        QVERIFY(!(model->flags(model->index(0, 0)) & Qt::ItemIsDragEnabled));
        std::unique_ptr<QMimeData> mime(model->mimeData({m2, m2.siblingAtColumn(1)}));
        QVERIFY(mime);
        QCOMPARE(dragged, QStringLiteral("m:2"));
        QVERIFY(!model->mimeData({m2, model->index(0, 0, model->index(0, 0))})); // two versions: no drag
        QVERIFY(!model->mimeData({model->index(0, 0)}));                         // a name: no drag

        // Refilled with other names, then emptied: resets the tester follows.
        QSignalSpy resets(model, &QAbstractItemModel::modelReset);
        model->setAssets(Json::array({{{"name", "b"}, {"versions", {version(1, 2)}}}}));
        model->setAssets(Json::array());
        QCOMPARE(resets.count(), 2);
        QCOMPARE(model->rowCount(), 0);
    }

    void computeTargetsModel() {
        Ui::ComputeTargetsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto target = [](const char* name, const char* state, int inUse, int queued) {
            return Json{{"name", name},
                        {"type", "local"},
                        {"state", state},
                        {"error", ""},
                        {"queued", queued},
                        {"nodes_in_use", inUse},
                        {"config", {{"max_nodes", 4}}}};
        };
        model.setTargets(Json::array({target("local", "ready", 0, 0), target("pool", "ready", 1, 2)}));
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(1, Ui::ComputeTargetsModel::NodesColumn).data().toString(),
                 QStringLiteral("1 / 4"));
        QCOMPARE(model.index(1, Ui::ComputeTargetsModel::QueuedColumn).data().toInt(), 2);
        QCOMPARE(model.headerData(Ui::ComputeTargetsModel::StateColumn, Qt::Horizontal).toString(),
                 QStringLiteral("State"));
        QCOMPARE(model.rowOf(QStringLiteral("pool")), 1);
        QCOMPARE(model.rowOf(QStringLiteral("gone")), -1);

        // The same targets with new figures: cells change, no reset (a selection survives the 2 s refresh).
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changes(&model, &QAbstractItemModel::dataChanged);
        auto failed = target("pool", "failed", 4, 0);
        failed["error"] = "slurmctld is not answering";
        model.setTargets(Json::array({target("local", "ready", 0, 0), failed}));
        QCOMPARE(resets.count(), 0);
        QCOMPARE(changes.count(), 1);
        QCOMPARE(model.index(1, Ui::ComputeTargetsModel::StateColumn).data().toString(),
                 QStringLiteral("failed"));
        QCOMPARE(model.index(1, Ui::ComputeTargetsModel::StateColumn).data(Qt::ToolTipRole).toString(),
                 QStringLiteral("slurmctld is not answering"));
        model.setTargets(Json::array({target("local", "ready", 0, 0), failed})); // nothing new: no signal
        QCOMPARE(changes.count(), 1);
        // Another set of names: a reset.
        model.setTargets(Json::array({target("local", "ready", 0, 0)}));
        QCOMPARE(resets.count(), 1);
        QCOMPARE(model.rowCount(), 1);
        model.setTargets(Json::array({Json{{"no", "name"}}}));
        QCOMPARE(model.rowCount(), 0);
    }
};

int main(int argc, char** argv) {
    return Kiln::Test::runGuiTest<TestPanelModels>(argc, argv);
}

#include "test_panel_models.moc"
