#pragma once
#include <QAbstractItemModel>
#include <QDateTime>
#include <QString>
#include <QVector>

#include <memory>
#include <nlohmann/json_fwd.hpp>

namespace Kiln::Ui {

// Experiments -> runs, updated in place from the server's run list (rows are inserted, changed or removed
// individually, so selection and expansion survive every refresh).
class RunTreeModel final : public QAbstractItemModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunTreeModel)
public:
    enum Column { NameColumn, StatusColumn, CreatedColumn, DurationColumn, ColumnCount };
    enum Role { RunIdRole = Qt::UserRole + 1, StatusRole, UnderlyingDataRole };

    struct RunRow {
        qint64 id = 0;
        QString name;
        QString status;
        double created = 0;
        double started = 0;
        double ended = 0;
    };
    struct Experiment {
        QString name;
        QVector<RunRow> runs; // newest first
        qint64 total = -1;    // runs it has in all (GET /experiments), when known
    };

    explicit RunTreeModel(QObject* parent = nullptr);
    ~RunTreeModel() override;

    void setRuns(const nlohmann::json& runs);
    // The experiments' true run counts (GET /experiments): an experiment row says "N runs", or "n of N
    // runs" when it lists only the newest.
    void setCounts(const nlohmann::json& experiments);
    QModelIndex indexOfRun(qint64 id) const;
    int runCount() const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QVector<Experiment> m_experiments; // sorted by name
};

} // namespace Kiln::Ui
