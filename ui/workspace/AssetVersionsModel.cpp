#include "AssetVersionsModel.h"

#include "api/Client.h"
#include "api/Http.h"

#include <nlohmann/json.hpp>
#include <QGuiApplication>
#include <QMimeData>
#include <QPalette>

namespace Kiln::Ui {

using Json = nlohmann::json;

struct AssetVersionsModel::Asset {
    QString name;
    Json json; // {name, versions: [...]}
};

AssetVersionsModel::AssetVersionsModel(std::vector<Column> columns, QObject* parent)
    : QAbstractItemModel(parent)
    , m_columns(std::move(columns)) {}

AssetVersionsModel::~AssetVersionsModel() = default;

Json AssetVersionsModel::fetch(Api::Client& c, const std::string& collection) {
    Json all = Json::array();
    const auto base = "/api/v1/" + collection;
    for (const auto& a : c.get(base))
        all.push_back(c.get(base + "/" + Api::percentEncode(a["name"].get<std::string>())));
    return all;
}

void AssetVersionsModel::setAssets(const Json& assets) {
    beginResetModel();
    m_assets.clear();
    for (const auto& a : assets) {
        if (!a.is_object() || !a.contains("name") || !a["name"].is_string())
            continue;
        Asset asset{QString::fromStdString(a["name"].get<std::string>()), a};
        if (!asset.json.contains("versions") || !asset.json["versions"].is_array())
            asset.json["versions"] = Json::array();
        m_assets.push_back(std::move(asset));
    }
    endResetModel();
}

QModelIndex AssetVersionsModel::indexOf(const QString& name, int version) const {
    for (size_t a = 0; a < m_assets.size(); ++a) {
        if (m_assets[a].name != name)
            continue;
        const auto top = index(static_cast<int>(a), 0);
        if (version <= 0)
            return top;
        const auto& versions = m_assets[a].json["versions"];
        for (size_t v = 0; v < versions.size(); ++v)
            if (versions[v].value("version", 0) == version)
                return index(static_cast<int>(v), 0, top);
        return {};
    }
    return {};
}

const Json* AssetVersionsModel::versionAt(const QModelIndex& index) const {
    if (!index.isValid() || index.internalId() == 0)
        return nullptr;
    return &m_assets[index.internalId() - 1].json["versions"][static_cast<size_t>(index.row())];
}

QModelIndex AssetVersionsModel::index(int row, int column, const QModelIndex& parent) const {
    if (row < 0 || column < 0 || column >= columnCount() || row >= rowCount(parent))
        return {};
    // internalId: 0 for a name's row, else 1 + the row of the name the version belongs to.
    return createIndex(row, column, parent.isValid() ? static_cast<quintptr>(parent.row()) + 1 : 0);
}

QModelIndex AssetVersionsModel::parent(const QModelIndex& child) const {
    if (!child.isValid() || child.internalId() == 0)
        return {};
    return createIndex(static_cast<int>(child.internalId() - 1), 0, quintptr(0));
}

int AssetVersionsModel::rowCount(const QModelIndex& parent) const {
    if (!parent.isValid())
        return static_cast<int>(m_assets.size());
    if (parent.internalId() != 0 || parent.column() != 0)
        return 0; // versions have no children
    return static_cast<int>(m_assets[static_cast<size_t>(parent.row())].json["versions"].size());
}

int AssetVersionsModel::columnCount(const QModelIndex&) const {
    return static_cast<int>(m_columns.size());
}

QVariant AssetVersionsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid())
        return {};
    const auto& asset =
        m_assets[index.internalId() == 0 ? static_cast<size_t>(index.row()) : index.internalId() - 1];
    const Json* version = versionAt(index);
    switch (role) {
    case Qt::DisplayRole:
        return m_columns[static_cast<size_t>(index.column())].text(asset.json, version);
    case Qt::ToolTipRole:
        if (version && version->contains("description") && (*version)["description"].is_string() &&
            !(*version)["description"].get<std::string>().empty())
            return QString::fromStdString((*version)["description"].get<std::string>());
        return {};
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(m_columns[static_cast<size_t>(index.column())].alignment);
    case Qt::ForegroundRole:
        if (version && m_muted && m_muted(*version))
            return QGuiApplication::palette().brush(QPalette::Disabled, QPalette::Text);
        return {};
    case NameRole:
        return asset.name;
    case VersionRole:
        return version ? version->value("version", 0) : 0;
    case UnderlyingDataRole:
        return QString::fromStdString(version ? version->dump() : asset.json.dump());
    default:
        return {};
    }
}

QVariant AssetVersionsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= columnCount())
        return {};
    return m_columns[static_cast<size_t>(section)].title;
}

Qt::ItemFlags AssetVersionsModel::flags(const QModelIndex& index) const {
    if (!index.isValid())
        return Qt::NoItemFlags;
    auto f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (m_drag && index.internalId() != 0)
        f |= Qt::ItemIsDragEnabled;
    return f;
}

QStringList AssetVersionsModel::mimeTypes() const {
    return {QStringLiteral("text/uri-list")};
}

QMimeData* AssetVersionsModel::mimeData(const QModelIndexList& indexes) const {
    // One version at a time (a row's cells arrive as several indexes).
    if (!m_drag || indexes.isEmpty())
        return nullptr;
    const auto first = indexes.first().siblingAtColumn(0);
    for (const auto& i : indexes)
        if (i.siblingAtColumn(0) != first)
            return nullptr;
    const int version = first.data(VersionRole).toInt();
    return version > 0 ? m_drag(first.data(NameRole).toString(), version) : nullptr;
}

} // namespace Kiln::Ui
