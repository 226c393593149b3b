#pragma once
#include <QAbstractTableModel>
#include <QStringList>

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace Kiln::Ui {

// Runs x (status, duration, arguments, parameters, final and best value of each metric), for the
// comparison view. Argument columns whose values differ between the runs are highlighted. UnderlyingDataRole
// gives numbers as numbers, so a QSortFilterProxyModel sorts 10 after 9.
class RunComparisonModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunComparisonModel)
public:
    enum Role { UnderlyingDataRole = Qt::UserRole + 1, DiffersRole };
    enum FixedColumn { RunColumn, StatusColumn, DurationColumn, FixedColumnCount };

    explicit RunComparisonModel(QObject* parent = nullptr);
    ~RunComparisonModel() override;

    // `run` as GET /runs/{id} answers, `metrics` as GET /runs/{id}/metrics. Adds the run or updates it.
    void setRun(const nlohmann::json& run, const nlohmann::json& metrics);
    int rowOf(qint64 runId) const;
    qint64 runAt(int row) const;
    int columnOf(const QString& header) const;
    bool differs(int column) const; // the column's values are not all equal

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row;
    void rebuildColumns();
    std::vector<std::unique_ptr<Row>> m_rows;
    // Dynamic columns after the fixed ones: kind ('a'rgument, 'p'arameter, 'f'inal, 'b'est) and name.
    std::vector<std::pair<char, QString>> m_columns;
};

} // namespace Kiln::Ui
