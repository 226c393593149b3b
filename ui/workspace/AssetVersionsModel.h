#pragma once
#include <QAbstractItemModel>

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <vector>

QT_BEGIN_NAMESPACE
class QMimeData;
QT_END_NAMESPACE

namespace Kiln::Api {
class Client;
}

namespace Kiln::Ui {

// Names -> versions, for the Datasets, Models and Environments panels: a row per name (as
// GET /api/v1/<collection>/<name> answers it: {name, versions: [...]}) with a child row per version. The
// columns come from the panel; NameRole and VersionRole (0 on a name's row) say which row is which, and
// UnderlyingDataRole gives the row's JSON text. A version's description is its tooltip.
class AssetVersionsModel final : public QAbstractItemModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AssetVersionsModel)
public:
    enum Role { NameRole = Qt::UserRole, VersionRole, UnderlyingDataRole };
    struct Column {
        QString title;
        // A cell's text: `version` is null on a name's row (`asset` is then the whole {name, versions}).
        std::function<QString(const nlohmann::json& asset, const nlohmann::json* version)> text;
        Qt::Alignment alignment = Qt::AlignLeft | Qt::AlignVCenter;
    };

    AssetVersionsModel(std::vector<Column> columns, QObject* parent = nullptr);
    ~AssetVersionsModel() override;

    // Every asset of `collection` ("datasets", "models", "environments") with its versions: the listing the
    // three panels share. Blocking: call it on a worker thread (WorkspaceConnection::call).
    static nlohmann::json fetch(Api::Client& client, const std::string& collection);

    // Replaces what is shown (a reset: views re-select with indexOf()).
    void setAssets(const nlohmann::json& assets);
    // Versions for which `muted` holds are drawn greyed (archived model versions).
    void setMuted(std::function<bool(const nlohmann::json& version)> muted) { m_muted = std::move(muted); }
    // Makes version rows draggable, carrying what `provider` returns for name:version.
    void setDragProvider(std::function<QMimeData*(const QString& name, int version)> provider) {
        m_drag = std::move(provider);
    }

    QModelIndex indexOf(const QString& name, int version) const;     // version 0: the name's row
    const nlohmann::json* versionAt(const QModelIndex& index) const; // null on a name's row

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QStringList mimeTypes() const override;
    QMimeData* mimeData(const QModelIndexList& indexes) const override;

private:
    struct Asset;
    std::vector<Column> m_columns;
    std::vector<Asset> m_assets;
    std::function<bool(const nlohmann::json&)> m_muted;
    std::function<QMimeData*(const QString&, int)> m_drag;
};

} // namespace Kiln::Ui
