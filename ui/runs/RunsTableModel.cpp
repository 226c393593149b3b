#include "RunsTableModel.h"

#include "api/Client.h"
#include "api/Http.h"
#include "app/StatusIcons.h"
#include "runs/RunFormat.h"
#include "workspace/WorkspaceConnection.h"

#include <QDateTime>
#include <QFont>
#include <QRegularExpression>

namespace Kiln::Ui {

using Json = nlohmann::json;

namespace {

constexpr int kMaxPages = 40; // pages kept (8,000 runs); older ones are fetched again when shown

bool terminal(const std::string& status) {
    return status == "Completed" || status == "Failed" || status == "Canceled";
}

// A metric column: "metrics.K" (last), "min(metrics.K)", "max(metrics.K)" -> (K, "last"|"min"|"max").
bool metricField(const QString& field, QString& key, QString& which) {
    static const QRegularExpression aggregate(QStringLiteral("^(min|max|last)\\(metrics\\.(.+)\\)$"));
    if (const auto m = aggregate.match(field); m.hasMatch()) {
        which = m.captured(1);
        key = m.captured(2);
        return true;
    }
    if (field.startsWith(QLatin1String("metrics."))) {
        which = QStringLiteral("last");
        key = field.mid(8);
        return true;
    }
    return false;
}

QString stripBackticks(QString s) {
    return s.remove(QLatin1Char('`'));
}

QString formatNumber(double v) {
    return QString::number(v, 'g', 5);
}

QVariant jsonValue(const Json& v, bool display) {
    if (v.is_number())
        return display ? QVariant(formatNumber(v.get<double>())) : QVariant(v.get<double>());
    if (v.is_string())
        return QString::fromStdString(v.get<std::string>());
    if (v.is_boolean())
        return v.get<bool>() ? QStringLiteral("true") : QStringLiteral("false");
    return {};
}

QString formatTime(const Json& v) {
    if (!v.is_number())
        return {};
    return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(v.get<double>() * 1000))
        .toString(QStringLiteral("yyyy-MM-dd hh:mm"));
}

} // namespace

RunsTableModel::RunsTableModel(WorkspaceConnection& connection, QObject* parent)
    : QAbstractTableModel(parent)
    , m_connection(connection)
    , m_columns(defaultColumns()) {
    // A running run's duration grows every second.
    m_clock.setInterval(1000);
    connect(&m_clock, &QTimer::timeout, this, [this] {
        const int column = static_cast<int>(m_columns.indexOf(QStringLiteral("duration")));
        if (column < 0)
            return;
        for (auto it = m_pages.cbegin(); it != m_pages.cend(); ++it)
            for (int i = 0; i < it.value().size(); ++i)
                if (!terminal(it.value()[i].value("status", std::string())) &&
                    !it.value()[i]["started"].is_null()) {
                    const int r = it.key() * kPageSize + i;
                    Q_EMIT dataChanged(index(r, column), index(r, column), {Qt::DisplayRole});
                }
    });
    m_clock.start();
}

RunsTableModel::~RunsTableModel() = default;

QStringList RunsTableModel::defaultColumns() {
    return {QStringLiteral("status"),  QStringLiteral("name"),     QStringLiteral("experiment"),
            QStringLiteral("created"), QStringLiteral("duration"), QStringLiteral("tags")};
}

QString RunsTableModel::titleOf(const QString& field) {
    if (field == QLatin1String("metrics.sys/peak_rss_mb"))
        return tr("Peak memory (MiB)");
    if (field == QLatin1String("metrics.sys/mean_cpu"))
        return tr("Mean CPU (cores)");
    QString key, which;
    if (metricField(field, key, which))
        return which == QLatin1String("last") ? stripBackticks(key)
                                              : QStringLiteral("%1 (%2)").arg(stripBackticks(key), which);
    if (field.startsWith(QLatin1String("params.")))
        return stripBackticks(field.mid(7));
    static const QHash<QString, QString> titles = {
        {QStringLiteral("id"), tr("Run")},          {QStringLiteral("status"), tr("Status")},
        {QStringLiteral("name"), tr("Name")},       {QStringLiteral("experiment"), tr("Experiment")},
        {QStringLiteral("created"), tr("Created")}, {QStringLiteral("started"), tr("Started")},
        {QStringLiteral("ended"), tr("Ended")},     {QStringLiteral("duration"), tr("Duration")},
        {QStringLiteral("compute"), tr("Compute")}, {QStringLiteral("node"), tr("Node")},
        {QStringLiteral("script"), tr("Script")},   {QStringLiteral("tags"), tr("Tags")},
        {QStringLiteral("starred"), tr("Starred")}, {QStringLiteral("sweep"), tr("Sweep")}};
    return titles.value(field, field);
}

void RunsTableModel::setExperiment(const QString& experiment) {
    if (experiment == m_experiment)
        return;
    m_experiment = experiment;
    restart();
}

void RunsTableModel::setText(const QString& words) {
    if (words == m_text)
        return;
    m_text = words;
    restart();
}

void RunsTableModel::setFilter(const QString& expression) {
    if (expression == m_filter)
        return;
    m_filter = expression;
    restart();
}

void RunsTableModel::setShowArchived(bool show) {
    if (show == m_archived)
        return;
    m_archived = show;
    restart();
}

void RunsTableModel::setColumns(const QStringList& fields) {
    if (fields == m_columns)
        return;
    beginResetModel();
    m_columns = fields;
    // An order by a column no longer shown stays: the rows keep their order.
    endResetModel();
}

void RunsTableModel::setGroupBy(const QString& field) {
    if (field == m_groupBy)
        return;
    m_groupBy = field;
    restart();
}

void RunsTableModel::sort(int column, Qt::SortOrder order) {
    QString next;
    if (column >= 0 && column < m_columns.size()) {
        QString field = m_columns[column];
        if (field == QLatin1String("tags"))
            return; // a set of tags has no order
        next = field + (order == Qt::DescendingOrder ? QStringLiteral(" desc") : QString());
    }
    if (next == m_order)
        return;
    m_order = next;
    restart();
}

QString RunsTableModel::query(int page) const {
    auto enc = [](const QString& s) { return QString::fromStdString(Api::percentEncode(s.toStdString())); };
    QString q = QStringLiteral("limit=%1&offset=%2").arg(kPageSize).arg(qint64(page) * kPageSize);
    if (!m_experiment.isEmpty())
        q += QStringLiteral("&experiment=") + enc(m_experiment);
    if (!m_text.trimmed().isEmpty())
        q += QStringLiteral("&q=") + enc(m_text.trimmed());
    if (!m_filter.trimmed().isEmpty())
        q += QStringLiteral("&filter=") + enc(m_filter.trimmed());
    // Grouped: by the group first (its direction follows a sort by that same column), then the chosen sort.
    QString order = m_order;
    if (!m_groupBy.isEmpty() && m_order != m_groupBy && m_order != m_groupBy + QStringLiteral(" desc"))
        order = m_order.isEmpty() ? m_groupBy : m_groupBy + QStringLiteral(", ") + m_order;
    if (!order.isEmpty())
        q += QStringLiteral("&order_by=") + enc(order);
    if (m_archived)
        q += QStringLiteral("&archived=1");
    return q;
}

void RunsTableModel::restart() {
    ++m_generation;
    beginResetModel();
    m_pages.clear();
    m_pending.clear();
    m_again.clear();
    m_recent.clear();
    m_total = 0;
    endResetModel();
    request(0);
}

void RunsTableModel::refresh() {
    // The pages in use are asked for again (and shown as they are until the answer comes); the rest are
    // dropped, to be fetched when shown.
    const auto keep = m_recent.mid(std::max<qsizetype>(0, m_recent.size() - 3));
    for (auto it = m_pages.begin(); it != m_pages.end();) {
        if (keep.contains(it.key())) {
            ++it;
            continue;
        }
        // Said, so that a view showing these rows paints them again, which asks for them again (left
        // unsaid, rows in view stayed as they were, and unread, until something else repainted them).
        const qint64 first = qint64(it.key()) * kPageSize;
        const qint64 last = std::min<qint64>(m_total, first + kPageSize) - 1;
        it = m_pages.erase(it);
        if (last >= first && !m_columns.isEmpty())
            Q_EMIT dataChanged(index(static_cast<int>(first), 0),
                               index(static_cast<int>(last), static_cast<int>(m_columns.size()) - 1));
    }
    m_recent = keep;
    // A page already on its way may have been read before the change: it is asked for again when it comes.
    const auto ask = [this](int page) {
        if (m_pending.contains(page))
            m_again.insert(page);
        else
            request(page);
    };
    if (keep.isEmpty())
        ask(0);
    for (int page : keep)
        ask(page);
}

void RunsTableModel::request(int page) const {
    if (m_pending.contains(page) || m_connection.state() != WorkspaceConnection::State::Connected)
        return;
    m_pending.insert(page);
    auto* self = const_cast<RunsTableModel*>(this);
    const auto q = query(page).toStdString();
    const auto generation = m_generation;
    m_connection.call(
        self,
        [q](Api::Client& c) {
            auto [runs, total] = c.queryRuns(q);
            return Json{{"runs", std::move(runs)}, {"total", total}};
        },
        [self, page, generation](const Json& answer) {
            self->received(page, generation, answer["runs"], answer["total"].get<qint64>());
        },
        [self, page, generation](const QString& error) {
            if (generation != self->m_generation)
                return;
            self->m_pending.remove(page);
            self->m_again.remove(page);
            Q_EMIT self->queryFailed(error);
        });
}

void RunsTableModel::received(int page, quint64 generation, const Json& runs, qint64 total) {
    if (generation != m_generation)
        return;
    m_pending.remove(page);
    if (m_again.remove(page))
        request(page);
    resize(total);
    QVector<Json> rows;
    rows.reserve(static_cast<qsizetype>(runs.size()));
    for (const auto& r : runs)
        rows.push_back(r);
    const bool changed = m_pages.value(page) != rows;
    m_pages.insert(page, std::move(rows));
    m_recent.removeAll(page);
    m_recent.push_back(page);
    while (m_recent.size() > kMaxPages)
        m_pages.remove(m_recent.takeFirst());
    const qint64 first = qint64(page) * kPageSize;
    const qint64 last = std::min<qint64>(m_total, first + kPageSize) - 1;
    if (changed && last >= first)
        Q_EMIT dataChanged(index(static_cast<int>(first), 0),
                           index(static_cast<int>(last), static_cast<int>(m_columns.size()) - 1));
    Q_EMIT pageLoaded();
}

void RunsTableModel::resize(qint64 total) {
    total = std::min<qint64>(total, std::numeric_limits<int>::max() / 2);
    if (total == m_total)
        return;
    if (total > m_total) {
        // Newest first (no other order asked for): new runs come in at the top, and the pages shift.
        const bool atTop = m_order.isEmpty() && m_total > 0;
        const int first = atTop ? 0 : static_cast<int>(m_total);
        beginInsertRows({}, first, first + static_cast<int>(total - m_total) - 1);
        m_total = total;
        endInsertRows();
        if (atTop)
            m_pages.clear();
    } else {
        beginRemoveRows({}, static_cast<int>(total), static_cast<int>(m_total) - 1);
        m_total = total;
        endRemoveRows();
        m_pages.clear();
    }
    for (auto it = m_recent.begin(); it != m_recent.end();)
        it = m_pages.contains(*it) ? std::next(it) : m_recent.erase(it);
}

const Json* RunsTableModel::row(int r) const {
    const int page = r / kPageSize;
    const auto it = m_pages.constFind(page);
    if (it == m_pages.cend()) {
        request(page);
        return nullptr;
    }
    const int i = r % kPageSize;
    return i < it->size() ? &(*it)[i] : nullptr;
}

int RunsTableModel::rowOfRun(qint64 id) const {
    for (auto it = m_pages.cbegin(); it != m_pages.cend(); ++it)
        for (int i = 0; i < it->size(); ++i)
            if ((*it)[i]["id"].get<qint64>() == id)
                return it.key() * kPageSize + i;
    return -1;
}

qint64 RunsTableModel::runAt(int r) const {
    const auto it = m_pages.constFind(r / kPageSize);
    if (it == m_pages.cend() || r % kPageSize >= it->size())
        return 0;
    return (*it)[r % kPageSize]["id"].get<qint64>();
}

Json RunsTableModel::rowJson(int r) const {
    const auto it = m_pages.constFind(r / kPageSize);
    if (it == m_pages.cend() || r % kPageSize >= it->size())
        return nullptr;
    return (*it)[r % kPageSize];
}

int RunsTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_total);
}

int RunsTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_columns.size());
}

QVariant RunsTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_total || index.column() >= m_columns.size())
        return {};
    const Json* r = row(index.row());
    const QString& field = m_columns[index.column()];
    if (!r)
        return role == Qt::DisplayRole && index.column() == 0 ? QVariant(QStringLiteral("…")) : QVariant();
    switch (role) {
    case RunIdRole:
        return (*r)["id"].get<qint64>();
    case StatusRole:
        return QString::fromStdString((*r)["status"].get<std::string>());
    case FieldRole:
        return field;
    case Qt::DecorationRole:
        return field == QLatin1String("status")
                   ? QVariant(
                         StatusIcons::forStatus(QString::fromStdString((*r)["status"].get<std::string>())))
                   : QVariant();
    case Qt::TextAlignmentRole:
        if (field.startsWith(QLatin1String("metrics.")) || field.contains(QLatin1String("(metrics.")) ||
            field == QLatin1String("duration") || field == QLatin1String("id"))
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::FontRole:
        if (index.column() == 0 && !m_groupBy.isEmpty() && field == m_groupBy && startsGroup(index.row())) {
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        return {};
    case Qt::DisplayRole:
        // Grouped by the first column: the group's value on its first row only.
        if (index.column() == 0 && !m_groupBy.isEmpty() && field == m_groupBy && !startsGroup(index.row()))
            return QString();
        return value(*r, field, role);
    case Qt::ToolTipRole:
    case UnderlyingDataRole:
        return value(*r, field, role);
    default:
        return {};
    }
}

bool RunsTableModel::startsGroup(int r) const {
    if (r == 0)
        return true;
    const auto previous = m_pages.constFind((r - 1) / kPageSize);
    if (previous == m_pages.cend() || (r - 1) % kPageSize >= previous->size())
        return true;
    const Json* current = row(r);
    return !current || value((*previous)[(r - 1) % kPageSize], m_groupBy, UnderlyingDataRole) !=
                           value(*current, m_groupBy, UnderlyingDataRole);
}

QVariant RunsTableModel::value(const Json& run, const QString& field, int role) const {
    const Json* r = &run;
    const bool display = role == Qt::DisplayRole || role == Qt::ToolTipRole;
    QString key, which;
    if (metricField(field, key, which)) {
        const auto& metrics = (*r).contains("metrics") ? (*r)["metrics"] : Json::object();
        const auto m = metrics.find(stripBackticks(key).toStdString());
        if (m == metrics.end() || !(*m)[which.toStdString()].is_number())
            return {};
        const double v = (*m)[which.toStdString()].get<double>();
        if (role == Qt::ToolTipRole)
            return tr("%1: last %2, min %3, max %4 (%5 points)")
                .arg(stripBackticks(key), formatNumber((*m)["last"].get<double>()),
                     formatNumber((*m)["min"].get<double>()), formatNumber((*m)["max"].get<double>()))
                .arg((*m)["count"].get<qint64>());
        return display ? QVariant(formatNumber(v)) : QVariant(v);
    }
    if (field.startsWith(QLatin1String("params."))) {
        const auto& params = (*r)["params"];
        const auto p = params.find(stripBackticks(field.mid(7)).toStdString());
        return p == params.end() ? QVariant() : jsonValue(*p, display);
    }
    if (field == QLatin1String("tags")) {
        QStringList tags;
        for (const auto& [k, v] : (*r)["tags"].items())
            tags << (v.is_string() && v.get<std::string>().empty()
                         ? QString::fromStdString(k)
                         : QStringLiteral("%1=%2").arg(QString::fromStdString(k),
                                                       jsonValue(v, true).toString()));
        return tags.join(QStringLiteral(", "));
    }
    if (field == QLatin1String("created") || field == QLatin1String("started") ||
        field == QLatin1String("ended")) {
        const auto& v = (*r)[field.toStdString()];
        return display ? QVariant(formatTime(v)) : jsonValue(v, false);
    }
    if (field == QLatin1String("duration")) {
        const auto& started = (*r)["started"];
        if (!started.is_number())
            return {};
        const auto& ended = (*r)["ended"];
        const double end =
            ended.is_number() ? ended.get<double>() : QDateTime::currentMSecsSinceEpoch() / 1000.0;
        const double seconds = end - started.get<double>();
        return display ? QVariant(formatDuration(seconds)) : QVariant(seconds);
    }
    if (field == QLatin1String("id") || field == QLatin1String("sweep"))
        return jsonValue((*r)[field.toStdString()], false);
    if (field == QLatin1String("starred"))
        return (*r).value("starred", false) ? (display ? QVariant(QStringLiteral("★")) : QVariant(1))
                                            : QVariant();
    const auto it = r->find(field.toStdString());
    return it == r->end() ? QVariant() : jsonValue(*it, display);
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= m_columns.size())
        return {};
    if (role == Qt::DisplayRole)
        return titleOf(m_columns[section]);
    if (role == Qt::ToolTipRole || role == FieldRole)
        return m_columns[section];
    return {};
}

} // namespace Kiln::Ui
