#include "RunComparisonModel.h"

#include "app/StatusIcons.h"
#include "metrics/Smoothing.h"
#include "runs/Arguments.h"
#include "runs/SystemSection.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <QBrush>
#include <QColor>
#include <QMap>
#include <QSet>

#include <cmath>

namespace Kiln::Ui {

using Json = nlohmann::json;

struct RunComparisonModel::Row {
    qint64 id = 0;
    QString name, status;
    double duration = -1;
    QMap<QString, QString> args, params;
    QMap<QString, double> final, best;
};

RunComparisonModel::RunComparisonModel(QObject* parent)
    : QAbstractTableModel(parent) {}

RunComparisonModel::~RunComparisonModel() = default;

static QString text(const Json& j) {
    return j.is_string() ? QString::fromStdString(j.get<std::string>()) : QString::fromStdString(j.dump());
}

void RunComparisonModel::setRun(const Json& run, const Json& metrics) {
    auto row = std::make_unique<Row>();
    row->id = run["id"].get<qint64>();
    row->name = text(run["name"]);
    row->status = text(run["status"]);
    if (!run["started"].is_null())
        row->duration = (run["ended"].is_null() ? row->duration : run["ended"].get<double>()) -
                        run["started"].get<double>();
    if (run["ended"].is_null())
        row->duration = -1;
    for (const auto& [k, v] : Runs::parseArguments(run["args"].get<std::vector<std::string>>()))
        row->args[QString::fromStdString(k)] = QString::fromStdString(v);
    for (const auto& [k, v] : run["params"].items())
        row->params[QString::fromStdString(k)] = text(v);
    for (const auto& m : metrics) {
        const auto key = QString::fromStdString(m["key"].get<std::string>());
        if (m["last"].is_number())
            row->final[key] = m["last"].get<double>();
        const auto& best = Metrics::lowerIsBetter(m["key"].get<std::string>()) ? m["min"] : m["max"];
        if (best.is_number())
            row->best[key] = best.get<double>();
    }
    beginResetModel();
    const int existing = rowOf(row->id);
    if (existing >= 0)
        m_rows[static_cast<std::size_t>(existing)] = std::move(row);
    else
        m_rows.push_back(std::move(row));
    rebuildColumns();
    endResetModel();
}

void RunComparisonModel::rebuildColumns() {
    QStringList args, params, metrics;
    QSet<QString> seenArgs, seenParams, seenMetrics;
    for (const auto& r : m_rows) {
        for (auto it = r->args.cbegin(); it != r->args.cend(); ++it)
            if (!seenArgs.contains(it.key()))
                seenArgs.insert(it.key()), args << it.key();
        for (auto it = r->params.cbegin(); it != r->params.cend(); ++it)
            if (!seenParams.contains(it.key()))
                seenParams.insert(it.key()), params << it.key();
        for (auto it = r->final.cbegin(); it != r->final.cend(); ++it)
            if (!seenMetrics.contains(it.key()))
                seenMetrics.insert(it.key()), metrics << it.key();
    }
    params.sort();
    metrics.sort();
    std::stable_partition(metrics.begin(), metrics.end(), // system metrics (sys/...) last
                          [](const QString& k) { return !SystemSection::isSystemKey(k); });
    m_columns.clear();
    for (const auto& a : args)
        m_columns.emplace_back('a', a);
    for (const auto& p : params)
        m_columns.emplace_back('p', p);
    for (const auto& m : metrics) {
        m_columns.emplace_back('f', m);
        m_columns.emplace_back('b', m);
    }
}

int RunComparisonModel::rowOf(qint64 runId) const {
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i]->id == runId)
            return static_cast<int>(i);
    return -1;
}

qint64 RunComparisonModel::runAt(int row) const {
    return m_rows[static_cast<std::size_t>(row)]->id;
}

int RunComparisonModel::columnOf(const QString& header) const {
    for (int c = 0; c < columnCount(); ++c)
        if (headerData(c, Qt::Horizontal).toString() == header)
            return c;
    return -1;
}

int RunComparisonModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RunComparisonModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : FixedColumnCount + static_cast<int>(m_columns.size());
}

QVariant RunComparisonModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    switch (section) {
    case RunColumn:
        return tr("Run");
    case StatusColumn:
        return tr("Status");
    case DurationColumn:
        return tr("Duration");
    default:
        break;
    }
    if (section < 0 || section >= columnCount())
        return {};
    const auto& [kind, name] = m_columns[static_cast<std::size_t>(section - FixedColumnCount)];
    switch (kind) {
    case 'a':
        return name;
    case 'p':
        return tr("param %1").arg(name);
    case 'f':
        return tr("%1 (final)").arg(name);
    default:
        return tr("%1 (best)").arg(name);
    }
}

bool RunComparisonModel::differs(int column) const {
    if (column < FixedColumnCount || m_rows.size() < 2)
        return false;
    const auto first = data(index(0, column), UnderlyingDataRole);
    for (int r = 1; r < rowCount(); ++r)
        if (data(index(r, column), UnderlyingDataRole) != first)
            return true;
    return false;
}

QVariant RunComparisonModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const Row& r = *m_rows[static_cast<std::size_t>(index.row())];
    // The value itself, numbers as numbers.
    auto value = [&]() -> QVariant {
        switch (index.column()) {
        case RunColumn:
            return r.name;
        case StatusColumn:
            return r.status;
        case DurationColumn:
            return r.duration >= 0 ? QVariant(r.duration) : QVariant();
        default:
            break;
        }
        const auto& [kind, name] = m_columns[static_cast<std::size_t>(index.column() - FixedColumnCount)];
        auto asNumber = [](const QString& s) -> QVariant {
            bool ok = false;
            const double d = s.toDouble(&ok);
            return ok ? QVariant(d) : QVariant(s);
        };
        if (kind == 'a')
            return r.args.contains(name) ? asNumber(r.args[name]) : QVariant();
        if (kind == 'p')
            return r.params.contains(name) ? asNumber(r.params[name]) : QVariant();
        const auto& m = kind == 'f' ? r.final : r.best;
        return m.contains(name) ? QVariant(m[name]) : QVariant();
    };
    switch (role) {
    case UnderlyingDataRole:
        return value();
    case Qt::DisplayRole: {
        const auto v = value();
        if (index.column() == DurationColumn)
            return v.isValid() ? QStringLiteral("%1 s").arg(v.toDouble(), 0, 'f', 1) : QString();
        if (v.typeId() == QMetaType::Double)
            return QString::number(v.toDouble(), 'g', 6);
        return v.toString();
    }
    case Qt::DecorationRole:
        return index.column() == StatusColumn ? QVariant(StatusIcons::forStatus(r.status)) : QVariant();
    case DiffersRole:
        return differs(index.column());
    case Qt::BackgroundRole: {
        if (index.column() < FixedColumnCount ||
            m_columns[static_cast<std::size_t>(index.column() - FixedColumnCount)].first != 'a' ||
            !differs(index.column()))
            return {};
        return QBrush(QColor(255, 193, 7, 70)); // arguments that differ between the runs
    }
    case Qt::ToolTipRole:
        return index.column() >= FixedColumnCount && differs(index.column()) ? tr("Differs between the runs")
                                                                             : QVariant();
    case Qt::TextAlignmentRole:
        return value().typeId() == QMetaType::Double ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                                     : QVariant();
    default:
        return {};
    }
}

} // namespace Kiln::Ui
