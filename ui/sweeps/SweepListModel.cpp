#include "SweepListModel.h"

namespace Kiln::Ui {

using Json = nlohmann::json;

SweepListModel::SweepListModel(QObject* parent)
    : QAbstractTableModel(parent) {}

void SweepListModel::setSweeps(const Json& sweeps) {
    bool sameRows = sweeps.size() == m_sweeps.size();
    for (std::size_t i = 0; sameRows && i < sweeps.size(); ++i)
        sameRows = sweeps[i]["id"] == m_sweeps[i]["id"];
    if (!sameRows) {
        beginResetModel();
        m_sweeps = sweeps;
        endResetModel();
        return;
    }
    for (std::size_t i = 0; i < sweeps.size(); ++i)
        if (sweeps[i] != m_sweeps[i]) {
            m_sweeps[i] = sweeps[i];
            Q_EMIT dataChanged(index(static_cast<int>(i), 0), index(static_cast<int>(i), ColumnCount - 1));
        }
}

int SweepListModel::rowOf(qint64 sweep) const {
    for (std::size_t i = 0; i < m_sweeps.size(); ++i)
        if (m_sweeps[i]["id"].get<qint64>() == sweep)
            return static_cast<int>(i);
    return -1;
}

int SweepListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_sweeps.size());
}

int SweepListModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SweepListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const auto& s = m_sweeps[static_cast<std::size_t>(index.row())];
    if (role == SweepIdRole)
        return s["id"].get<qint64>();
    if (role == Qt::ToolTipRole)
        return tr("Sweep %1 in %2: %3 %4")
            .arg(s["id"].get<qint64>())
            .arg(QString::fromStdString(s["experiment"].get<std::string>()),
                 QString::fromStdString(s["spec"]["primary_metric"]["goal"].get<std::string>()),
                 QString::fromStdString(s["spec"]["primary_metric"]["name"].get<std::string>()));
    if (role != Qt::DisplayRole)
        return {};
    const auto& c = s["counts"];
    switch (index.column()) {
    case IdColumn:
        return s["id"].get<qint64>();
    case ExperimentColumn:
        return QString::fromStdString(s["experiment"].get<std::string>());
    case StatusColumn:
        return QString::fromStdString(s["status"].get<std::string>());
    case TrialsColumn:
        return QStringLiteral("%1 / %2")
            .arg(c["completed"].get<int>() + c["failed"].get<int>() + c["stopped_early"].get<int>() +
                 c["canceled"].get<int>())
            .arg(s["spec"]["max_total_trials"].get<int>());
    case BestColumn:
        return s["best"].is_null() ? QString() : QString::number(s["best"]["metric"].get<double>(), 'g', 5);
    default:
        return {};
    }
}

QVariant SweepListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case IdColumn:
        return tr("Sweep");
    case ExperimentColumn:
        return tr("Experiment");
    case StatusColumn:
        return tr("Status");
    case TrialsColumn:
        return tr("Trials");
    case BestColumn:
        return tr("Best");
    default:
        return {};
    }
}

} // namespace Kiln::Ui
