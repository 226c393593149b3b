#include "SweepTrialsModel.h"

#include "sweeps/SearchSpace.h"

#include <QColor>
#include <QLocale>
#include <QPalette>

namespace Kiln::Ui {

using Json = nlohmann::json;

namespace {

QString text(const Json& v) {
    if (v.is_null())
        return QString();
    if (v.is_string())
        return QString::fromStdString(v.get<std::string>());
    if (v.is_number_integer())
        return QString::number(v.get<qint64>());
    if (v.is_number())
        return QString::number(v.get<double>(), 'g', 6);
    return QString::fromStdString(v.dump());
}

QVariant underlying(const Json& v) {
    if (v.is_number())
        return v.get<double>();
    return text(v);
}

} // namespace

SweepTrialsModel::SweepTrialsModel(QObject* parent)
    : QAbstractTableModel(parent) {}

void SweepTrialsModel::setSweep(const Json& sweep) {
    QStringList parameters;
    // Params are stored under argparse's names ("--learning-rate" -> "learning_rate").
    for (const auto& [name, expr] : sweep["spec"]["parameters"].items())
        parameters << QString::fromStdString(Sweeps::paramKey(name));
    const auto id = sweep["id"].get<qint64>();
    const auto& trials = sweep.contains("trials") ? sweep["trials"] : Json::array();
    if (id != m_sweep || parameters != m_parameters || trials.size() < m_trials.size()) {
        beginResetModel();
        m_sweep = id;
        m_parameters = parameters;
        m_metric = QString::fromStdString(sweep["spec"]["primary_metric"]["name"].get<std::string>());
        m_maximize = sweep["spec"]["primary_metric"]["goal"] == "maximize";
        m_trials.assign(trials.begin(), trials.end());
        endResetModel();
        return;
    }
    const auto old = m_trials.size();
    for (std::size_t i = 0; i < old; ++i) {
        if (m_trials[i] != trials[i]) {
            m_trials[i] = trials[i];
            Q_EMIT dataChanged(index(static_cast<int>(i), 0), index(static_cast<int>(i), columnCount() - 1));
        }
    }
    if (trials.size() > old) {
        beginInsertRows({}, static_cast<int>(old), static_cast<int>(trials.size()) - 1);
        for (std::size_t i = old; i < trials.size(); ++i)
            m_trials.push_back(trials[i]);
        endInsertRows();
    }
}

int SweepTrialsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_trials.size());
}

int SweepTrialsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : stopReasonColumn() + 1;
}

QVariant SweepTrialsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const auto& t = m_trials[static_cast<std::size_t>(index.row())];
    const int c = index.column();
    const bool stopped = t["status"] == "Canceled" && !t["stop_reason"].get<std::string>().empty() &&
                         t["stop_reason"] != "the user";
    if (role == RunIdRole)
        return t["run"].get<qint64>();
    if (role == StoppedRole)
        return stopped;
    if (role == Qt::ForegroundRole && stopped)
        return QPalette().color(QPalette::Disabled, QPalette::Text);
    if (role == Qt::TextAlignmentRole && c != StatusColumn && c != stopReasonColumn())
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && c == stopReasonColumn())
        return data(index, Qt::DisplayRole);
    if (role != Qt::DisplayRole && role != UnderlyingDataRole)
        return {};
    auto param = [&](int i) {
        const auto key = m_parameters[i].toStdString();
        return t["params"].contains(key) ? t["params"][key] : Json();
    };
    if (c == RunColumn)
        return role == UnderlyingDataRole ? QVariant(t["run"].get<qint64>()) : QVariant(text(t["run"]));
    if (c == StatusColumn)
        return text(t["status"]);
    if (c < metricColumn()) {
        const auto v = param(c - FirstParameterColumn);
        return role == UnderlyingDataRole ? underlying(v) : QVariant(text(v));
    }
    if (c == metricColumn())
        return role == UnderlyingDataRole ? underlying(t["metric"]) : QVariant(text(t["metric"]));
    if (c == reportsColumn())
        return role == UnderlyingDataRole ? QVariant(t["reports"].get<qint64>())
                                          : QVariant(text(t["reports"]));
    const auto reason = text(t["stop_reason"]);
    if (!reason.isEmpty())
        return reason;
    const auto status = t["status"].get<std::string>();
    const bool ended = status == "Completed" || status == "Failed" || status == "Canceled";
    if (ended && t["reports"].get<qint64>() == 0) // a "-" in the metric column would say nothing of why
        return t["error"].get<std::string>().empty()
                   ? tr("never logged %1").arg(m_metric)
                   : tr("%1; never logged %2").arg(text(t["error"]), m_metric);
    return text(t["error"]);
}

QVariant SweepTrialsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    if (section == RunColumn)
        return tr("Run");
    if (section == StatusColumn)
        return tr("Status");
    if (section < metricColumn())
        return m_parameters.value(section - FirstParameterColumn);
    if (section == metricColumn())
        return m_metric + (m_maximize ? QStringLiteral(" ↑") : QStringLiteral(" ↓"));
    if (section == reportsColumn())
        return tr("Reports");
    return tr("Stopped because");
}

} // namespace Kiln::Ui
