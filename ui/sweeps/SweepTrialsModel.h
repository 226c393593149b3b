#pragma once
#include <QAbstractTableModel>
#include <QStringList>

#include <nlohmann/json.hpp>
#include <vector>

namespace Kiln::Ui {

// A sweep's trials (GET /api/v1/sweeps/{id}): run, status, one column per parameter, the primary metric (the
// best value the trial logged), how many times it logged it, and why it stopped. UnderlyingDataRole gives
// numbers as numbers for sorting; StoppedRole marks trials the policy stopped (drawn dimmed).
class SweepTrialsModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SweepTrialsModel)
public:
    enum Role { UnderlyingDataRole = Qt::UserRole + 1, RunIdRole, StoppedRole };
    enum FixedColumn { RunColumn, StatusColumn, FirstParameterColumn };

    explicit SweepTrialsModel(QObject* parent = nullptr);

    // Adds new trials as rows and updates the others; the columns change only with another sweep.
    void setSweep(const nlohmann::json& sweep);
    const QStringList& parameters() const { return m_parameters; } // the runs' param names
    QString metricName() const { return m_metric; }
    bool maximize() const { return m_maximize; }
    int metricColumn() const { return FirstParameterColumn + static_cast<int>(m_parameters.size()); }
    int reportsColumn() const { return metricColumn() + 1; }
    int stopReasonColumn() const { return metricColumn() + 2; }
    const nlohmann::json& trial(int row) const { return m_trials[static_cast<std::size_t>(row)]; }
    qint64 sweepId() const { return m_sweep; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    qint64 m_sweep = 0;
    QStringList m_parameters;
    QString m_metric;
    bool m_maximize = true;
    std::vector<nlohmann::json> m_trials;
};

} // namespace Kiln::Ui
