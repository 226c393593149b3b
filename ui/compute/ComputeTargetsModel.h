#pragma once
#include <QAbstractTableModel>

#include <memory>
#include <nlohmann/json_fwd.hpp>

namespace Kiln::Ui {

// The Compute panel's targets, as GET /api/v1/compute lists them: name, type, state (its error as the
// tooltip), nodes in use of the maximum, runs queued. Refreshed every few seconds: when the same targets come
// back only their cells change (selection and scrolling stay), otherwise the model resets.
class ComputeTargetsModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ComputeTargetsModel)
public:
    enum Column { NameColumn, TypeColumn, StateColumn, NodesColumn, QueuedColumn, ColumnCount };
    enum Role { NameRole = Qt::UserRole, UnderlyingDataRole };

    explicit ComputeTargetsModel(QObject* parent = nullptr);
    ~ComputeTargetsModel() override;

    void setTargets(const nlohmann::json& targets);
    int rowOf(const QString& name) const; // -1 when absent

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::unique_ptr<nlohmann::json> m_targets; // an array
};

} // namespace Kiln::Ui
