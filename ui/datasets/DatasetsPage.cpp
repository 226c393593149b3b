#include "DatasetsPage.h"

#include "api/Client.h"
#include "api/Http.h"
#include "app/EmptyState.h"
#include "app/Remember.h"
#include "datasets/RegisterDatasetDialog.h"
#include "workspace/AssetVersionsModel.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableWidget>
#include <QTreeView>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

static QString str(const Json& j) {
    return QString::fromStdString(j.get<std::string>());
}

DatasetsPage::DatasetsPage(WorkspaceConnection& connection, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_model(new AssetVersionsModel(
          {{tr("Dataset"),
            [this](const Json& d, const Json* v) {
                return v ? tr("version %1").arg((*v)["version"].get<int>()) : str(d["name"]);
            }},
           {tr("Files"),
            [](const Json& d, const Json* v) {
                const auto& shown = v ? *v : (d["versions"].empty() ? Json() : d["versions"].back());
                return shown.is_null() ? QString() : QString::number(shown["file_count"].get<qint64>());
            },
            Qt::AlignRight | Qt::AlignVCenter},
           {tr("Size"),
            [](const Json& d, const Json* v) {
                const auto& shown = v ? *v : (d["versions"].empty() ? Json() : d["versions"].back());
                return shown.is_null() ? QString()
                                       : QLocale().formattedDataSize(shown["total_size"].get<qint64>());
            },
            Qt::AlignRight | Qt::AlignVCenter}},
          this))
    , m_tree(new QTreeView(this))
    , m_stack(new QStackedWidget(this))
    , m_empty(new EmptyState(
          tr("No datasets yet"),
          tr("A dataset is a versioned set of files (a folder, some files, or URLs) that runs read by name, "
             "as {dataset:name}. Registering keeps each file once, by its SHA-256, and a new version only "
             "when something changed."),
          this))
    , m_header(new QLabel(this))
    , m_details(new QLabel(this))
    , m_files(new QTableWidget(0, 3, this))
    , m_runs(new QListWidget(this)) {
    setObjectName(QStringLiteral("datasetsPage"));
    m_tree->setObjectName(QStringLiteral("datasetTree"));
    m_files->setObjectName(QStringLiteral("datasetFiles"));
    m_files->setTabKeyNavigation(false);
    m_runs->setObjectName(QStringLiteral("datasetRuns"));
    m_header->setObjectName(QStringLiteral("datasetHeader"));
    m_tree->setModel(m_model);
    m_tree->setAccessibleName(tr("Datasets and their versions"));
    m_tree->setRootIsDecorated(true);
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_tree->header()->setStretchLastSection(false);
    m_files->setHorizontalHeaderLabels({tr("File"), tr("Size"), tr("SHA-256")});
    m_files->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_files->horizontalHeader()->setStretchLastSection(true);
    m_files->verticalHeader()->hide();
    m_files->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_files->setWordWrap(false);
    m_files->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_files->setSelectionBehavior(QAbstractItemView::SelectRows);
    QFont big = m_header->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_header->setFont(big);
    m_header->setText(tr("Datasets"));
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setText(tr("Select a dataset version on the left, or register one."));

    auto* registerButton = new QPushButton(tr("&Register dataset…"), this);
    registerButton->setObjectName(QStringLiteral("registerDataset"));
    auto* refreshButton = new QPushButton(tr("Re&fresh"), this);
    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(registerButton);
    buttons->addWidget(refreshButton);
    buttons->addStretch();
    leftLayout->addLayout(buttons);
    leftLayout->addWidget(m_tree);

    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(8, 0, 0, 0);
    rightLayout->addWidget(m_header);
    rightLayout->addWidget(m_details);
    rightLayout->addWidget(new QLabel(tr("Files"), this));
    rightLayout->addWidget(m_files, 3);
    rightLayout->addWidget(new QLabel(tr("Runs that used this version (double-click to open)"), this));
    rightLayout->addWidget(m_runs, 1);

    auto* splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({320, 700});
    Remember::splitter(splitter, QStringLiteral("datasets"));
    m_empty->setObjectName(QStringLiteral("datasetsEmpty"));
    connect(m_empty->addButton(tr("&Register dataset…"), "emptyRegisterDataset"), &QPushButton::clicked, this,
            &DatasetsPage::registerDataset);
    m_stack->addWidget(splitter);
    m_stack->addWidget(m_empty);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_stack);

    connect(registerButton, &QPushButton::clicked, this, &DatasetsPage::registerDataset);
    connect(refreshButton, &QPushButton::clicked, this, &DatasetsPage::refresh);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& index) {
                if (index.isValid())
                    showVersion(index.data(AssetVersionsModel::NameRole).toString(),
                                index.data(AssetVersionsModel::VersionRole).toInt());
            });
    connect(m_runs, &QListWidget::itemActivated, this,
            [this](QListWidgetItem* item) { Q_EMIT openRun(item->data(Qt::UserRole).toLongLong()); });
}

static QString formatSize(qint64 bytes) {
    return QLocale().formattedDataSize(bytes);
}

void DatasetsPage::refresh() {
    m_connection.call(
        this, [](Api::Client& c) { return AssetVersionsModel::fetch(c, "datasets"); },
        [this](const Json& all) {
            const auto current = m_tree->currentIndex();
            const QString name = !m_pendingName.isEmpty()
                                     ? m_pendingName
                                     : current.data(AssetVersionsModel::NameRole).toString();
            const int version = !m_pendingName.isEmpty()
                                    ? m_pendingVersion
                                    : current.data(AssetVersionsModel::VersionRole).toInt();
            m_pendingName.clear();
            m_model->setAssets(all);
            m_tree->expandAll();
            m_stack->setCurrentWidget(all.empty() ? static_cast<QWidget*>(m_empty) : m_stack->widget(0));
            if (const auto index = m_model->indexOf(name, version); index.isValid())
                m_tree->setCurrentIndex(index);
        });
}

void DatasetsPage::select(const QString& name, int version) {
    m_pendingName = name;
    m_pendingVersion = version;
    refresh();
}

void DatasetsPage::showVersion(const QString& name, int version) {
    const auto path = "/api/v1/datasets/" + Api::percentEncode(name.toStdString()) + "/versions/" +
                      (version > 0 ? std::to_string(version) : std::string("latest"));
    m_connection.call(
        this, [path](Api::Client& c) { return c.get(path); }, [this](const Json& v) { setDetails(v); });
}

void DatasetsPage::setDetails(const Json& v) {
    m_header->setText(tr("%1 · version %2").arg(str(v["name"])).arg(v["version"].get<int>()));
    QStringList tags;
    for (const auto& [k, value] : v["tags"].items())
        tags << QString::fromStdString(k) + QLatin1Char('=') +
                    QString::fromStdString(value.is_string() ? value.get<std::string>() : value.dump());
    const auto created =
        QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(v["created"].get<double>() * 1000));
    QString text = tr("%1 files, %2 · registered %3")
                       .arg(v["file_count"].get<qint64>())
                       .arg(formatSize(v["total_size"].get<qint64>()))
                       .arg(created.toString(QStringLiteral("yyyy-MM-dd hh:mm")));
    const auto description = str(v["description"]);
    if (!description.isEmpty())
        text += QStringLiteral("\n") + description;
    if (!tags.isEmpty())
        text += QStringLiteral("\n") + tr("Tags: %1").arg(tags.join(QStringLiteral(", ")));
    text += QStringLiteral("\n") +
            tr("Use it in a run as {dataset:%1:%2}").arg(str(v["name"])).arg(v["version"].get<int>());
    m_details->setText(text);
    const auto& files = v["files"];
    m_files->setRowCount(static_cast<int>(files.size()));
    int row = 0;
    for (const auto& f : files) {
        m_files->setItem(row, 0, new QTableWidgetItem(str(f["path"])));
        auto* sizeItem = new QTableWidgetItem(formatSize(f["size"].get<qint64>()));
        sizeItem->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        sizeItem->setToolTip(tr("%1 bytes").arg(f["size"].get<qint64>()));
        m_files->setItem(row, 1, sizeItem);
        auto* hash = new QTableWidgetItem(str(f["sha256"]));
        hash->setToolTip(str(f["source"]));
        m_files->setItem(row, 2, hash);
        ++row;
    }
    m_runs->clear();
    for (const auto& r : v["runs"]) {
        auto* item = new QListWidgetItem(
            tr("%1 (%2, %3)").arg(str(r["name"]), str(r["status"]), str(r["mode"])), m_runs);
        item->setData(Qt::UserRole, static_cast<qint64>(r["id"].get<qint64>()));
    }
}

void DatasetsPage::registerDataset() {
    auto* dialog = new RegisterDatasetDialog(m_connection, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &RegisterDatasetDialog::registered, this, &DatasetsPage::select);
    dialog->open();
}

} // namespace Kiln::Ui
