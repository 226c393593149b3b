#pragma once
#include <QAbstractItemModel>
#include <QDateTime>
#include <QString>
#include <QVector>

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>

namespace Kiln::Ui {

// Experiments -> runs, updated in place from the server's run list (rows are inserted, changed or removed
// individually, so selection and expansion survive every refresh). The experiments come from
// GET /experiments with their true counts; the newest runs from the window's listing; an experiment's older
// runs are fetched page by page as it is expanded and scrolled (canFetchMore/fetchMore, through the fetcher
// the window sets), and kept across refreshes.
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
        QVector<RunRow> runs;  // newest first
        qint64 total = -1;     // runs it has in all (GET /experiments), when known
        bool fetching = false; // a page of older runs is on its way
    };
    // Asks for the runs of `experiment` older than run `before` (0: its newest); the answer goes to
    // appendRuns.
    using Fetcher = std::function<void(const QString& experiment, qint64 before)>;

    explicit RunTreeModel(QObject* parent = nullptr);
    ~RunTreeModel() override;

    // The newest runs of the workspace (newest first). `complete`: they are all its runs; otherwise the runs
    // older than the oldest listed stay as they were fetched.
    void setRuns(const nlohmann::json& runs, bool complete = true);
    // The experiments (GET /experiments) with their true run counts: experiments appear and vanish with this
    // list; a row says "N runs", or "n of N runs" while only the newest are loaded.
    void setCounts(const nlohmann::json& experiments);
    void setFetcher(Fetcher fetcher) { m_fetcher = std::move(fetcher); }
    // A page of `experiment`'s older runs (newest first), as the fetcher asked; empty when there are no more.
    void appendRuns(const QString& experiment, const nlohmann::json& page);
    void fetchFailed(const QString& experiment); // lets the next scroll ask again
    QModelIndex indexOfRun(qint64 id) const;
    int runCount() const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool hasChildren(const QModelIndex& parent = {}) const override;
    bool canFetchMore(const QModelIndex& parent) const override;
    void fetchMore(const QModelIndex& parent) override;

private:
    int experimentRow(const QString& name) const; // -1 when absent
    int insertExperiment(const QString& name);    // its row (sorted by name), inserted if needed
    void syncRuns(int row, const QVector<RunRow>& wanted);

    QVector<Experiment> m_experiments; // sorted by name
    Fetcher m_fetcher;
};

} // namespace Kiln::Ui
