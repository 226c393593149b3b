#include "RunTreeModel.h"

#include "app/StatusIcons.h"
#include "runs/RunFormat.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <QHash>
#include <QMap>

namespace Kiln::Ui {

// Internal ids: 0 for experiment rows; for run rows, the experiment's row + 1.
RunTreeModel::RunTreeModel(QObject* parent)
    : QAbstractItemModel(parent) {}
RunTreeModel::~RunTreeModel() = default;

static RunTreeModel::RunRow rowFrom(const nlohmann::json& r) {
    RunTreeModel::RunRow row;
    row.id = r["id"].get<qint64>();
    row.name = QString::fromStdString(r["name"].get<std::string>());
    row.status = QString::fromStdString(r["status"].get<std::string>());
    row.created = r["created"].get<double>();
    row.started = r["started"].is_null() ? 0 : r["started"].get<double>();
    row.ended = r["ended"].is_null() ? 0 : r["ended"].get<double>();
    return row;
}

int RunTreeModel::experimentRow(const QString& name) const {
    for (int i = 0; i < m_experiments.size(); ++i)
        if (m_experiments[i].name == name)
            return i;
    return -1;
}

int RunTreeModel::insertExperiment(const QString& name) {
    if (const int row = experimentRow(name); row >= 0)
        return row;
    const auto at = std::lower_bound(m_experiments.begin(), m_experiments.end(), name,
                                     [](const Experiment& e, const QString& n) { return e.name < n; });
    const int row = static_cast<int>(at - m_experiments.begin());
    beginInsertRows({}, row, row);
    m_experiments.insert(row, Experiment{name, {}});
    endInsertRows();
    return row;
}

void RunTreeModel::setRuns(const nlohmann::json& runs, bool complete) {
    QMap<QString, QVector<RunRow>> incoming;
    qint64 oldestListed = std::numeric_limits<qint64>::max();
    for (const auto& r : runs) {
        auto row = rowFrom(r);
        oldestListed = std::min(oldestListed, row.id);
        incoming[QString::fromStdString(r["experiment"].get<std::string>())].append(row);
    }
    for (auto it = incoming.cbegin(); it != incoming.cend(); ++it)
        insertExperiment(it.key()); // (before GET /experiments names it)
    for (int e = 0; e < m_experiments.size(); ++e) {
        auto wanted = incoming.value(m_experiments[e].name);
        // Older than the listing reaches: what was fetched stays.
        if (!complete)
            for (const auto& r : std::as_const(m_experiments[e].runs))
                if (r.id < oldestListed)
                    wanted.append(r);
        std::sort(wanted.begin(), wanted.end(), [](auto& a, auto& b) { return a.id > b.id; });
        syncRuns(e, wanted);
    }
}

void RunTreeModel::syncRuns(int e, const QVector<RunRow>& wanted) {
    auto& current = m_experiments[e].runs;
    const QModelIndex parentIndex = index(e, 0);
    for (int i = current.size() - 1; i >= 0; --i) {
        const bool keep =
            std::any_of(wanted.begin(), wanted.end(), [&](auto& w) { return w.id == current[i].id; });
        if (!keep) {
            beginRemoveRows(parentIndex, i, i);
            current.removeAt(i);
            endRemoveRows();
        }
    }
    for (int i = 0; i < wanted.size(); ++i) {
        if (i < current.size() && current[i].id == wanted[i].id) {
            const auto& w = wanted[i];
            auto& c = current[i];
            if (c.status != w.status || c.name != w.name || c.started != w.started || c.ended != w.ended) {
                c = w;
                Q_EMIT dataChanged(index(i, 0, parentIndex), index(i, ColumnCount - 1, parentIndex));
            }
        } else {
            beginInsertRows(parentIndex, i, i);
            current.insert(i, wanted[i]);
            endInsertRows();
        }
    }
    Q_EMIT dataChanged(index(e, 0), index(e, ColumnCount - 1));
}

void RunTreeModel::setCounts(const nlohmann::json& experiments) {
    QHash<QString, qint64> counts;
    for (const auto& e : experiments)
        counts.insert(QString::fromStdString(e["name"].get<std::string>()), e["run_count"].get<qint64>());
    for (int i = m_experiments.size() - 1; i >= 0; --i) {
        if (!counts.contains(m_experiments[i].name)) { // archived, renamed or gone
            beginRemoveRows({}, i, i);
            m_experiments.removeAt(i);
            endRemoveRows();
        }
    }
    for (auto it = counts.cbegin(); it != counts.cend(); ++it) {
        const int i = insertExperiment(it.key());
        if (it.value() != m_experiments[i].total) {
            m_experiments[i].total = it.value();
            Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
        }
    }
}

void RunTreeModel::appendRuns(const QString& experiment, const nlohmann::json& page) {
    const int e = experimentRow(experiment);
    if (e < 0)
        return;
    auto& x = m_experiments[e];
    x.fetching = false;
    QVector<RunRow> older;
    const qint64 oldest = x.runs.isEmpty() ? std::numeric_limits<qint64>::max() : x.runs.last().id;
    for (const auto& r : page)
        if (r["id"].get<qint64>() < oldest)
            older.append(rowFrom(r));
    std::sort(older.begin(), older.end(), [](auto& a, auto& b) { return a.id > b.id; });
    if (older.isEmpty()) {
        // Nothing older after all (runs were deleted since the count): stop asking.
        x.total = x.runs.size();
        Q_EMIT dataChanged(index(e, 0), index(e, ColumnCount - 1));
        return;
    }
    const int first = x.runs.size();
    beginInsertRows(index(e, 0), first, first + older.size() - 1);
    x.runs.append(older);
    endInsertRows();
    Q_EMIT dataChanged(index(e, 0), index(e, ColumnCount - 1));
}

void RunTreeModel::fetchFailed(const QString& experiment) {
    if (const int e = experimentRow(experiment); e >= 0)
        m_experiments[e].fetching = false;
}

bool RunTreeModel::hasChildren(const QModelIndex& parent) const {
    if (!parent.isValid())
        return !m_experiments.isEmpty();
    if (parent.internalId() != 0 || parent.column() != 0)
        return false;
    const auto& e = m_experiments[parent.row()];
    return !e.runs.isEmpty() || e.total > 0;
}

bool RunTreeModel::canFetchMore(const QModelIndex& parent) const {
    if (!m_fetcher || !parent.isValid() || parent.internalId() != 0)
        return false;
    const auto& e = m_experiments[parent.row()];
    return !e.fetching && e.total > e.runs.size();
}

void RunTreeModel::fetchMore(const QModelIndex& parent) {
    if (!canFetchMore(parent))
        return;
    auto& e = m_experiments[parent.row()];
    e.fetching = true;
    m_fetcher(e.name, e.runs.isEmpty() ? 0 : e.runs.last().id);
}

QModelIndex RunTreeModel::indexOfRun(qint64 id) const {
    for (int e = 0; e < m_experiments.size(); ++e)
        for (int r = 0; r < m_experiments[e].runs.size(); ++r)
            if (m_experiments[e].runs[r].id == id)
                return index(r, 0, index(e, 0));
    return {};
}

int RunTreeModel::runCount() const {
    int n = 0;
    for (const auto& e : m_experiments)
        n += e.runs.size();
    return n;
}

QModelIndex RunTreeModel::index(int row, int column, const QModelIndex& parent) const {
    if (column < 0 || column >= ColumnCount || row < 0)
        return {};
    if (!parent.isValid())
        return row < m_experiments.size() ? createIndex(row, column, quintptr(0)) : QModelIndex();
    if (parent.internalId() != 0 || parent.row() >= m_experiments.size())
        return {};
    if (row >= m_experiments[parent.row()].runs.size())
        return {};
    return createIndex(row, column, quintptr(parent.row() + 1));
}

QModelIndex RunTreeModel::parent(const QModelIndex& child) const {
    if (!child.isValid() || child.internalId() == 0)
        return {};
    return createIndex(static_cast<int>(child.internalId() - 1), 0, quintptr(0));
}

int RunTreeModel::rowCount(const QModelIndex& parent) const {
    if (!parent.isValid())
        return m_experiments.size();
    if (parent.column() != 0 || parent.internalId() != 0)
        return 0;
    return m_experiments[parent.row()].runs.size();
}

int RunTreeModel::columnCount(const QModelIndex&) const {
    return ColumnCount;
}

QVariant RunTreeModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid())
        return {};
    if (index.internalId() == 0) {
        const auto& e = m_experiments[index.row()];
        if (role == Qt::DisplayRole && index.column() == NameColumn)
            return e.name;
        if (role == Qt::DisplayRole && index.column() == StatusColumn) {
            if (e.total > e.runs.size())
                return tr("%1 of %n run(s)", nullptr, static_cast<int>(e.total)).arg(e.runs.size());
            return tr("%n run(s)", nullptr, static_cast<int>(e.runs.size()));
        }
        if (role == Qt::ToolTipRole && e.total > e.runs.size())
            return tr("The newest %1 runs of %2: scroll down to load more (the runs table lists them all)")
                .arg(e.runs.size())
                .arg(e.total);
        if (role == Qt::DecorationRole && index.column() == NameColumn)
            return StatusIcons::experiment();
        return {};
    }
    const auto& r = m_experiments[static_cast<int>(index.internalId() - 1)].runs[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case NameColumn:
            return r.name;
        case StatusColumn:
            return r.status;
        case CreatedColumn:
            return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(r.created * 1000))
                .toString(QStringLiteral("yyyy-MM-dd hh:mm"));
        case DurationColumn:
            if (r.started <= 0)
                return QString();
            return formatDuration((r.ended > 0 ? r.ended : QDateTime::currentMSecsSinceEpoch() / 1000.0) -
                                  r.started);
        }
        return {};
    case Qt::DecorationRole:
        return index.column() == NameColumn ? StatusIcons::forStatus(r.status) : QVariant();
    case Qt::ToolTipRole:
        return tr("Run %1: %2").arg(r.id).arg(r.status);
    case RunIdRole:
        return r.id;
    case StatusRole:
    case UnderlyingDataRole:
        return index.column() == CreatedColumn ? QVariant(r.created) : QVariant(r.status);
    }
    return {};
}

QVariant RunTreeModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return tr("Name");
    case StatusColumn:
        return tr("Status");
    case CreatedColumn:
        return tr("Created");
    case DurationColumn:
        return tr("Duration");
    }
    return {};
}

} // namespace Kiln::Ui
