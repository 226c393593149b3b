#include "DatasetsPage.h"

#include "api/Client.h"
#include "api/Http.h"
#include "app/Remember.h"
#include "datasets/RegisterDatasetDialog.h"
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
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

static QString str(const Json& j) {
    return QString::fromStdString(j.get<std::string>());
}

DatasetsPage::DatasetsPage(WorkspaceConnection& connection, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_tree(new QTreeWidget(this))
    , m_header(new QLabel(this))
    , m_details(new QLabel(this))
    , m_files(new QTableWidget(0, 3, this))
    , m_runs(new QListWidget(this)) {
    setObjectName(QStringLiteral("datasetsPage"));
    m_tree->setObjectName(QStringLiteral("datasetTree"));
    m_files->setObjectName(QStringLiteral("datasetFiles"));
    m_runs->setObjectName(QStringLiteral("datasetRuns"));
    m_header->setObjectName(QStringLiteral("datasetHeader"));
    m_tree->setHeaderLabels({tr("Dataset"), tr("Files"), tr("Size")});
    m_tree->setRootIsDecorated(true);
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
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(registerButton, &QPushButton::clicked, this, &DatasetsPage::registerDataset);
    connect(refreshButton, &QPushButton::clicked, this, &DatasetsPage::refresh);
    connect(m_tree, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (!item)
            return;
        const auto name = item->data(0, Qt::UserRole).toString();
        const auto version = item->data(0, Qt::UserRole + 1).toInt();
        showVersion(name, version);
    });
    connect(m_runs, &QListWidget::itemActivated, this,
            [this](QListWidgetItem* item) { Q_EMIT openRun(item->data(Qt::UserRole).toLongLong()); });
}

static QString formatSize(qint64 bytes) {
    return QLocale().formattedDataSize(bytes);
}

void DatasetsPage::refresh() {
    m_connection.call(
        this,
        [](Api::Client& c) {
            Json all = Json::array();
            for (const auto& d : c.get("/api/v1/datasets"))
                all.push_back(c.get("/api/v1/datasets/" + Api::percentEncode(d["name"].get<std::string>())));
            return all;
        },
        [this](const Json& all) {
            const auto current = m_tree->currentItem();
            QString selName = m_pendingName.isEmpty() && current ? current->data(0, Qt::UserRole).toString()
                                                                 : m_pendingName;
            int selVersion = m_pendingName.isEmpty() && current ? current->data(0, Qt::UserRole + 1).toInt()
                                                                : m_pendingVersion;
            m_pendingName.clear();
            m_tree->clear();
            QTreeWidgetItem* toSelect = nullptr;
            for (const auto& d : all) {
                const auto name = str(d["name"]);
                auto* top = new QTreeWidgetItem(m_tree, {name});
                top->setData(0, Qt::UserRole, name);
                top->setData(0, Qt::UserRole + 1, 0);
                const auto& versions = d["versions"];
                if (!versions.empty()) {
                    const auto& latest = versions.back();
                    top->setText(1, QString::number(latest["file_count"].get<qint64>()));
                    top->setText(2, formatSize(latest["total_size"].get<qint64>()));
                }
                for (const auto& v : versions) {
                    const int number = v["version"].get<int>();
                    auto* item = new QTreeWidgetItem(top, {tr("version %1").arg(number),
                                                           QString::number(v["file_count"].get<qint64>()),
                                                           formatSize(v["total_size"].get<qint64>())});
                    item->setData(0, Qt::UserRole, name);
                    item->setData(0, Qt::UserRole + 1, number);
                    item->setToolTip(0, str(v["description"]));
                    if (name == selName && number == selVersion)
                        toSelect = item;
                }
                if (name == selName && selVersion == 0)
                    toSelect = top;
                top->setExpanded(true);
            }
            if (toSelect)
                m_tree->setCurrentItem(toSelect);
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
