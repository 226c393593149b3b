#pragma once
#include <QAbstractTableModel>

#include <nlohmann/json.hpp>

namespace Kiln::Ui {

// The workspace's sweeps (GET /api/v1/sweeps), newest first: id, experiment, status, trials done of the
// limit, and the best primary metric so far.
class SweepListModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SweepListModel)
public:
    enum Column { IdColumn, ExperimentColumn, StatusColumn, TrialsColumn, BestColumn, ColumnCount };
    enum Role { SweepIdRole = Qt::UserRole + 1 };
    explicit SweepListModel(QObject* parent = nullptr);

    void setSweeps(const nlohmann::json& sweeps);
    int rowOf(qint64 sweep) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    nlohmann::json m_sweeps = nlohmann::json::array();
};

} // namespace Kiln::Ui
