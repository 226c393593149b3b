#pragma once
#include <QAbstractTableModel>
#include <QHash>
#include <QSet>
#include <QStringList>
#include <QTimer>
#include <QVector>

#include <nlohmann/json.hpp>

namespace Kiln::Ui {

class WorkspaceConnection;

// The workspace's runs as one table over a server-side query (GET /api/v1/runs with filter, order and
// paging): rowCount() is the query's true total, and rows are fetched a page at a time as the view shows
// them, so a workspace of 100,000 runs lists its first page at once and scrolls to any run. Sorting asks
// the server (numbers sort as numbers). Columns are fields in the query language of core/runs/RunQuery.h
// ("name", "params.lr", "metrics.acc", "max(metrics.acc)", "tags"), so a column sorts by what it shows.
class RunsTableModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunsTableModel)
public:
    enum Role { RunIdRole = Qt::UserRole + 1, StatusRole, UnderlyingDataRole, FieldRole };
    static constexpr int kPageSize = 200;

    explicit RunsTableModel(WorkspaceConnection& connection, QObject* parent = nullptr);
    ~RunsTableModel() override;

    // The query; each change fetches the first page again.
    void setExperiment(const QString& experiment); // empty: every experiment
    void setText(const QString& words);
    void setFilter(const QString& expression);
    void setShowArchived(bool show);
    WorkspaceConnection& connection() const { return m_connection; }
    QString experiment() const { return m_experiment; }
    QString filter() const { return m_filter; }
    QString order() const { return m_order; }

    // Groups the rows by a field ("experiment", "status", "params.lr"; empty: no grouping): the server orders
    // by it first (then by the chosen sort), and when it is the first column, that column names each group
    // once, in bold, on its first row.
    void setGroupBy(const QString& field);
    QString groupBy() const { return m_groupBy; }
    // Columns, as fields; unknown fields show empty cells.
    void setColumns(const QStringList& fields);
    QStringList columns() const { return m_columns; }
    static QStringList defaultColumns();
    static QString titleOf(const QString& field);

    // Asks the server again for the pages on show (and the total), after runs changed.
    void refresh();
    qint64 total() const { return m_total; }
    bool loading() const { return !m_pending.isEmpty(); }
    // The row of a run, if its page is loaded; -1 otherwise.
    int rowOfRun(qint64 id) const;
    qint64 runAt(int row) const;           // 0 while its page loads
    nlohmann::json rowJson(int row) const; // the run as listed; null while its page loads

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    void sort(int column, Qt::SortOrder order) override;

Q_SIGNALS:
    void queryFailed(const QString& message); // the server refused the query (or could not be reached)
    void pageLoaded();                        // any page arrived (tests wait on it)

private:
    void restart();
    void request(int page) const;
    void received(int page, quint64 generation, const nlohmann::json& runs, qint64 total);
    void resize(qint64 total);
    const nlohmann::json* row(int r) const;
    QVariant value(const nlohmann::json& r, const QString& field, int role) const; // one cell
    bool startsGroup(int r) const; // row r's group value differs from row r-1's (or that row is not loaded)
    QString query(int page) const;

    WorkspaceConnection& m_connection;
    QString m_experiment, m_text, m_filter, m_order, m_groupBy;
    bool m_archived = false;
    QStringList m_columns;
    qint64 m_total = 0;
    quint64 m_generation = 0; // answers to an older query are dropped
    mutable QHash<int, QVector<nlohmann::json>> m_pages;
    mutable QSet<int> m_pending;
    QSet<int> m_again;             // pending pages a refresh asked for while their answer was on its way
    mutable QVector<int> m_recent; // pages by last use, to evict the oldest beyond a bound
    QTimer m_clock;                // live durations of running runs
};

} // namespace Kiln::Ui
