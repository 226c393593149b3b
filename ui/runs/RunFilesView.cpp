#include "RunFilesView.h"

#include "api/Client.h"
#include "transfer/Download.h"
#include "transfer/DownloadDialog.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

static constexpr int kPathRole = Qt::UserRole;
static constexpr int kSizeRole = Qt::UserRole + 1;
static constexpr int kHashRole = Qt::UserRole + 2;

RunFilesView::RunFilesView(WorkspaceConnection& connection, qint64 runId, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_runId(runId)
    , m_tree(new QTreeWidget(this))
    , m_download(new QPushButton(tr("&Download…"), this)) {
    m_tree->setObjectName(QStringLiteral("runFiles"));
    m_download->setObjectName(QStringLiteral("runFilesDownload"));
    m_tree->setHeaderLabels({tr("File"), tr("Size")});
    m_tree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_tree->header()->setStretchLastSection(false);
    m_download->setEnabled(false);
    m_download->setToolTip(tr("Download the selected file or folder, verified (Enter)"));
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Files kept from the run (outputs/, logs/, output.log)"), this));
    bar->addStretch();
    bar->addWidget(m_download);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_tree);
    connect(m_tree, &QTreeWidget::currentItemChanged, this,
            [this](QTreeWidgetItem* item) { m_download->setEnabled(item != nullptr); });
    auto downloadCurrent = [this] {
        if (auto* item = m_tree->currentItem())
            download(item->data(0, kPathRole).toString());
    };
    connect(m_download, &QPushButton::clicked, this, downloadCurrent);
    connect(m_tree, &QTreeWidget::itemActivated, this, downloadCurrent);
}

void RunFilesView::load() {
    const auto path = "/api/v1/runs/" + std::to_string(m_runId) + "/files";
    m_connection.call(
        this, [path](Api::Client& c) { return c.get(path); },
        [this](const Json& files) {
            m_tree->clear();
            QHash<QString, QTreeWidgetItem*> folders;
            const QLocale locale;
            // Folder items are made on demand; their sizes add up their files'.
            std::function<QTreeWidgetItem*(const QString&)> folderItem = [&](const QString& folder) {
                if (folder.isEmpty())
                    return static_cast<QTreeWidgetItem*>(nullptr);
                if (auto* found = folders.value(folder))
                    return found;
                const int slash = folder.lastIndexOf(QLatin1Char('/'));
                auto* parent = folderItem(slash > 0 ? folder.left(slash) : QString());
                auto* item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_tree);
                item->setText(0, folder.mid(slash + 1) + QLatin1Char('/'));
                item->setData(0, kPathRole, folder);
                item->setData(0, kSizeRole, qint64(0));
                folders.insert(folder, item);
                return item;
            };
            for (const auto& f : files) {
                const auto path = QString::fromStdString(f["path"].get<std::string>());
                const int slash = path.lastIndexOf(QLatin1Char('/'));
                auto* parent = folderItem(slash > 0 ? path.left(slash) : QString());
                auto* item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_tree);
                const auto size = f["size"].get<qint64>();
                item->setText(0, path.mid(slash + 1));
                item->setText(1, locale.formattedDataSize(size));
                item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
                item->setData(0, kPathRole, path);
                item->setData(0, kHashRole, QString::fromStdString(f["sha256"].get<std::string>()));
                item->setData(0, kSizeRole, size);
                item->setToolTip(0, QStringLiteral("SHA-256 %1").arg(item->data(0, kHashRole).toString()));
                for (auto* p = parent; p; p = p->parent())
                    p->setData(0, kSizeRole, p->data(0, kSizeRole).toLongLong() + size);
            }
            for (auto* item : std::as_const(folders)) {
                item->setText(1, locale.formattedDataSize(item->data(0, kSizeRole).toLongLong()));
                item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
            }
            m_tree->expandToDepth(1);
            Q_EMIT loaded(static_cast<int>(files.size()));
        });
}

DownloadDialog* RunFilesView::download(const QString& path) {
    // Like `kiln run download`: a folder keeps its name (outputs/model -> model/...), a file lands as itself.
    const auto base = "/api/v1/runs/" + std::to_string(m_runId) + "/files";
    const auto leaf = path.section(QLatin1Char('/'), -1);
    std::vector<Transfer::RemoteFile> files;
    std::function<void(QTreeWidgetItem*)> collect = [&](QTreeWidgetItem* item) {
        for (int i = 0; i < item->childCount(); ++i)
            collect(item->child(i));
        const auto remote = item->data(0, kPathRole).toString();
        const auto hash = item->data(0, kHashRole).toString();
        if (hash.isEmpty() || (remote != path && !remote.startsWith(path + QLatin1Char('/'))))
            return;
        const auto local = remote == path ? leaf : leaf + remote.mid(path.size());
        files.push_back({local.toStdString(), hash.toStdString(), item->data(0, kSizeRole).toLongLong(),
                         Transfer::fileUrl(base, remote.toStdString())});
    };
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        collect(m_tree->topLevelItem(i));
    if (files.empty())
        return nullptr;
    auto* dialog =
        new DownloadDialog(m_connection, tr("%1 of run %2").arg(path).arg(m_runId), std::move(files),
                           QStringLiteral("run-%1-%2").arg(m_runId).arg(leaf), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

} // namespace Kiln::Ui
