#include "ComputeTargetsModel.h"

#include <nlohmann/json.hpp>

namespace Kiln::Ui {

using Json = nlohmann::json;

static QString str(const Json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
}

ComputeTargetsModel::ComputeTargetsModel(QObject* parent)
    : QAbstractTableModel(parent)
    , m_targets(std::make_unique<Json>(Json::array())) {}

ComputeTargetsModel::~ComputeTargetsModel() = default;

void ComputeTargetsModel::setTargets(const Json& targets) {
    Json next = Json::array();
    for (const auto& t : targets)
        if (t.is_object() && t.contains("name") && t["name"].is_string())
            next.push_back(t);
    bool sameNames = next.size() == m_targets->size();
    for (size_t i = 0; sameNames && i < next.size(); ++i)
        sameNames = next[i]["name"] == (*m_targets)[i]["name"];
    if (!sameNames) {
        beginResetModel();
        *m_targets = std::move(next);
        endResetModel();
        return;
    }
    if (next == *m_targets)
        return;
    *m_targets = std::move(next);
    Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

int ComputeTargetsModel::rowOf(const QString& name) const {
    for (size_t i = 0; i < m_targets->size(); ++i)
        if (str((*m_targets)[i], "name") == name)
            return static_cast<int>(i);
    return -1;
}

int ComputeTargetsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_targets->size());
}

int ComputeTargetsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ComputeTargetsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const auto& t = (*m_targets)[static_cast<size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case NameColumn:
            return str(t, "name");
        case TypeColumn:
            return str(t, "type");
        case StateColumn:
            return str(t, "state");
        case NodesColumn:
            return QStringLiteral("%1 / %2")
                .arg(t.value("nodes_in_use", 0))
                .arg(t.contains("config") ? t["config"].value("max_nodes", 0) : 0);
        case QueuedColumn:
            return t.value("queued", 0);
        }
        return {};
    case Qt::ToolTipRole:
        return index.column() == StateColumn ? str(t, "error") : QVariant();
    case Qt::TextAlignmentRole:
        return index.column() >= NodesColumn ? QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter)
                                             : QVariant();
    case NameRole:
        return str(t, "name");
    case UnderlyingDataRole:
        return QString::fromStdString(t.dump());
    default:
        return {};
    }
}

QVariant ComputeTargetsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return tr("Target");
    case TypeColumn:
        return tr("Type");
    case StateColumn:
        return tr("State");
    case NodesColumn:
        return tr("Nodes");
    case QueuedColumn:
        return tr("Queued");
    }
    return {};
}

} // namespace Kiln::Ui
