#include "ModelsPage.h"

#include "api/Client.h"
#include "api/Http.h"
#include "app/EmptyState.h"
#include "app/Remember.h"
#include "metrics/SystemSummary.h"
#include "models/RegisterModelDialog.h"
#include "transfer/Download.h"
#include "transfer/DownloadDialog.h"
#include "workspace/AssetVersionsModel.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QApplication>
#include <QCheckBox>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTreeView>
#include <QUrl>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

namespace {

QString str(const Json& j) {
    return QString::fromStdString(j.get<std::string>());
}

std::string versionPath(const QString& name, int version) {
    return "/api/v1/models/" + Api::percentEncode(name.toStdString()) + "/versions/" +
           (version > 0 ? std::to_string(version) : std::string("latest"));
}

std::vector<Transfer::RemoteFile> remoteFiles(const Json& v) {
    const auto base = versionPath(str(v["name"]), v["version"].get<int>()) + "/files";
    return Transfer::remoteFiles(v["files"], base);
}

// A drag carries the version's folder, which is fetched (and verified) only when the drop asks for it.
class ModelMimeData final : public QMimeData {
public:
    ModelMimeData(QString url, QString token, QString folder, std::vector<Transfer::RemoteFile> files)
        : m_url(std::move(url))
        , m_token(std::move(token))
        , m_folder(std::move(folder))
        , m_files(std::move(files)) {}
    QStringList formats() const override { return {QStringLiteral("text/uri-list")}; }
    bool hasFormat(const QString& mime) const override { return mime == QLatin1String("text/uri-list"); }

protected:
    QVariant retrieveData(const QString& mime, QMetaType type) const override {
        if (mime != QLatin1String("text/uri-list") || !fetch())
            return {};
        return QMimeData::retrieveData(mime, type);
    }

private:
    bool fetch() const {
        if (QFileInfo::exists(m_folder)) {
            const_cast<ModelMimeData*>(this)->setUrls({QUrl::fromLocalFile(m_folder)});
            return true;
        }
        QApplication::setOverrideCursor(Qt::WaitCursor);
        bool ok = false;
        try {
            Api::Client client(m_url.toStdString(), m_token.toStdString());
            // Into a sibling first, renamed when complete: a half-fetched folder never looks cached.
            const auto part = m_folder + QStringLiteral(".part");
            QDir(part).removeRecursively();
            Transfer::download(client, m_files, part.toStdString());
            ok = QDir().rename(part, m_folder);
        } catch (const std::exception& e) {
            qWarning("Could not fetch the model for the drop: %s", e.what());
        }
        QApplication::restoreOverrideCursor();
        if (ok)
            const_cast<ModelMimeData*>(this)->setUrls({QUrl::fromLocalFile(m_folder)});
        return ok;
    }
    QString m_url, m_token, m_folder;
    std::vector<Transfer::RemoteFile> m_files;
};

} // namespace

ModelsPage::ModelsPage(WorkspaceConnection& connection, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_model(new AssetVersionsModel(
          {{tr("Model"),
            [this](const Json& m, const Json* v) {
                if (!v)
                    return str(m["name"]);
                const int number = (*v)["version"].get<int>();
                return (*v)["archived"].get<bool>() ? tr("version %1 (archived)").arg(number)
                                                    : tr("version %1").arg(number);
            }},
           {tr("Framework"),
            [](const Json& m, const Json* v) {
                const auto& shown = v ? *v : (m["versions"].empty() ? Json() : m["versions"].back());
                return shown.is_null() ? QString() : str(shown["framework"]);
            }},
           {tr("Size"),
            [](const Json&, const Json* v) {
                return v ? QLocale().formattedDataSize((*v)["total_size"].get<qint64>()) : QString();
            },
            Qt::AlignRight | Qt::AlignVCenter}},
          this))
    , m_tree(new QTreeView(this))
    , m_stack(new QStackedWidget(this))
    , m_empty(new EmptyState(
          tr("No models yet"),
          tr("A model is a set of files a run wrote (usually outputs/model), registered under a "
             "name with its lineage: the run, its data, environment, code and final "
             "metrics. Open a completed run and click Register model."),
          this))
    , m_showArchived(new QCheckBox(tr("Show &archived"), this))
    , m_header(new QLabel(this))
    , m_details(new QLabel(this))
    , m_lineage(new QLabel(this))
    , m_description(new QPlainTextEdit(this))
    , m_tags(new QLineEdit(this))
    , m_save(new QPushButton(tr("&Save changes"), this))
    , m_archive(new QPushButton(tr("Arc&hive"), this))
    , m_download(new QPushButton(tr("&Download…"), this))
    , m_files(new QTableWidget(0, 3, this))
    , m_shown(std::make_unique<Json>()) {
    setObjectName(QStringLiteral("modelsPage"));
    m_tree->setObjectName(QStringLiteral("modelTree"));
    m_files->setObjectName(QStringLiteral("modelFiles"));
    m_files->setTabKeyNavigation(false);
    m_lineage->setObjectName(QStringLiteral("modelLineage"));
    m_header->setObjectName(QStringLiteral("modelHeader"));
    m_description->setObjectName(QStringLiteral("modelDescription"));
    m_tags->setObjectName(QStringLiteral("modelTagsEdit"));
    m_save->setObjectName(QStringLiteral("modelSave"));
    m_archive->setObjectName(QStringLiteral("modelArchive"));
    m_download->setObjectName(QStringLiteral("modelDownload"));
    m_model->setMuted([](const Json& v) { return v.value("archived", false); });
    // A version dragged into a file manager: its folder, downloaded and verified when dropped.
    m_model->setDragProvider([this](const QString& name, int version) { return dragData(name, version); });
    m_tree->setModel(m_model);
    m_tree->setAccessibleName(tr("Models and their versions"));
    m_tree->setUniformRowHeights(true);
    m_tree->setDragEnabled(true);
    m_tree->setDragDropMode(QAbstractItemView::DragOnly);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_tree->header()->setStretchLastSection(false);
    m_tree->setToolTip(tr("Drag a version into a file manager to save its files"));
    m_files->setHorizontalHeaderLabels({tr("File"), tr("Size"), tr("SHA-256")});
    m_files->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_files->horizontalHeader()->setStretchLastSection(true);
    m_files->verticalHeader()->hide();
    m_files->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_files->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_files->setSelectionBehavior(QAbstractItemView::SelectRows);
    QFont big = m_header->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_header->setFont(big);
    m_header->setText(tr("Models"));
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setText(tr("Select a model version on the left. Register one from a finished run's page."));
    m_lineage->setWordWrap(true);
    m_lineage->setTextFormat(Qt::RichText);
    m_lineage->setTextInteractionFlags(Qt::TextBrowserInteraction);
    m_description->setPlaceholderText(tr("Description"));
    m_description->setTabChangesFocus(true);
    m_description->setFixedHeight(m_description->fontMetrics().lineSpacing() * 3 + 10);
    m_tags->setPlaceholderText(tr("key=value, key=value"));
    for (auto* w :
         {static_cast<QWidget*>(m_description), static_cast<QWidget*>(m_tags), static_cast<QWidget*>(m_save),
          static_cast<QWidget*>(m_archive), static_cast<QWidget*>(m_download)})
        w->setEnabled(false);

    auto* refreshButton = new QPushButton(tr("Re&fresh"), this);
    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    auto* leftBar = new QHBoxLayout;
    leftBar->addWidget(refreshButton);
    leftBar->addWidget(m_showArchived);
    leftBar->addStretch();
    leftLayout->addLayout(leftBar);
    leftLayout->addWidget(m_tree);

    auto* edits = new QFormLayout;
    auto* descriptionLabel = new QLabel(tr("D&escription:"), this);
    descriptionLabel->setBuddy(m_description);
    edits->addRow(descriptionLabel, m_description);
    auto* tagsLabel = new QLabel(tr("&Tags:"), this);
    tagsLabel->setBuddy(m_tags);
    edits->addRow(tagsLabel, m_tags);
    auto* actions = new QHBoxLayout;
    actions->addWidget(m_save);
    actions->addWidget(m_archive);
    actions->addStretch();
    actions->addWidget(m_download);

    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(8, 0, 0, 0);
    rightLayout->addWidget(m_header);
    rightLayout->addWidget(m_details);
    rightLayout->addWidget(m_lineage);
    rightLayout->addLayout(edits);
    rightLayout->addLayout(actions);
    rightLayout->addWidget(new QLabel(tr("Files"), this));
    rightLayout->addWidget(m_files, 1);

    auto* splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({320, 700});
    Remember::splitter(splitter, QStringLiteral("models"));
    m_empty->setObjectName(QStringLiteral("modelsEmpty"));
    m_emptyAction = m_empty->addButton(tr("Run the Fashion-MNIST &sample"), "modelsEmptyAction");
    connect(m_emptyAction, &QPushButton::clicked, this, [this] {
        if (m_lastCompletedRun > 0)
            Q_EMIT openRun(m_lastCompletedRun);
        else
            Q_EMIT runSampleRequested();
    });
    m_stack->addWidget(splitter);
    m_stack->addWidget(m_empty);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_stack);

    connect(refreshButton, &QPushButton::clicked, this, &ModelsPage::refresh);
    connect(m_showArchived, &QCheckBox::toggled, this, &ModelsPage::refresh);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& index) {
                if (index.isValid())
                    showVersion(index.data(AssetVersionsModel::NameRole).toString(),
                                index.data(AssetVersionsModel::VersionRole).toInt());
            });
    connect(m_lineage, &QLabel::linkActivated, this, &ModelsPage::followLink);
    connect(m_save, &QPushButton::clicked, this, &ModelsPage::saveEdits);
    connect(m_archive, &QPushButton::clicked, this,
            [this] { setArchived(!m_shown->value("archived", false)); });
    connect(m_download, &QPushButton::clicked, this, &ModelsPage::download);
}

ModelsPage::~ModelsPage() = default;

void ModelsPage::refresh() {
    const bool archived = m_showArchived->isChecked();
    m_connection.call(
        this,
        [](Api::Client& c) {
            auto all = AssetVersionsModel::fetch(c, "models");
            // With no model yet, the empty state offers the newest completed run (or the sample).
            Json completed = Json::array();
            if (all.empty())
                completed = c.get("/api/v1/runs?filter=" + Api::percentEncode("status = Completed") +
                                  "&limit=1&metrics=0");
            return Json{{"models", std::move(all)}, {"completed", std::move(completed)}};
        },
        [this, archived](const Json& answer) {
            const auto current = m_tree->currentIndex();
            const QString selName = !m_pendingName.isEmpty()
                                        ? m_pendingName
                                        : current.data(AssetVersionsModel::NameRole).toString();
            int selVersion = !m_pendingName.isEmpty() ? m_pendingVersion
                                                      : current.data(AssetVersionsModel::VersionRole).toInt();
            m_pendingName.clear();
            // Archived versions are left out unless asked for (or the one to select).
            Json models = answer["models"];
            for (auto& m : models) {
                Json kept = Json::array();
                for (const auto& v : m["versions"])
                    if (archived || !v["archived"].get<bool>() ||
                        (str(m["name"]) == selName && v["version"].get<int>() == selVersion))
                        kept.push_back(v);
                m["versions"] = std::move(kept);
            }
            m_model->setAssets(models);
            m_tree->expandAll();
            m_stack->setCurrentWidget(models.empty() ? static_cast<QWidget*>(m_empty) : m_stack->widget(0));
            const auto& completed = answer["completed"];
            m_lastCompletedRun = completed.empty() ? 0 : completed[0]["id"].get<qint64>();
            m_emptyAction->setText(
                m_lastCompletedRun > 0
                    ? tr("&Open run %1 (%2)").arg(m_lastCompletedRun).arg(str(completed[0]["name"]))
                    : tr("Run the Fashion-MNIST &sample"));
            // A name without a version: its newest shown version.
            auto index = m_model->indexOf(selName, selVersion);
            if (index.isValid() && selVersion == 0 && m_model->rowCount(index) > 0)
                index = m_model->index(m_model->rowCount(index) - 1, 0, index);
            else if (!index.isValid() && !selName.isEmpty()) {
                const auto top = m_model->indexOf(selName, 0);
                if (top.isValid())
                    index = m_model->rowCount(top) ? m_model->index(m_model->rowCount(top) - 1, 0, top) : top;
            }
            if (index.isValid())
                m_tree->setCurrentIndex(index);
        });
}

void ModelsPage::select(const QString& name, int version) {
    m_pendingName = name;
    m_pendingVersion = version;
    refresh();
}

void ModelsPage::showVersion(const QString& name, int version) {
    const auto path = versionPath(name, version);
    m_connection.call(
        this, [path](Api::Client& c) { return c.get(path); }, [this](const Json& v) { setDetails(v); });
}

void ModelsPage::setDetails(const Json& v) {
    *m_shown = v;
    const QLocale locale;
    const bool archived = v["archived"].get<bool>();
    m_header->setText(tr("%1 · version %2%3")
                          .arg(str(v["name"]))
                          .arg(v["version"].get<int>())
                          .arg(archived ? tr(" (archived)") : QString()));
    const auto created =
        QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(v["created"].get<double>() * 1000));
    m_details->setText(
        tr("%1 in %n file(s) · %2 · registered %3 from %4", nullptr, v["file_count"].get<int>())
            .arg(locale.formattedDataSize(v["total_size"].get<qint64>()),
                 v["framework"].get<std::string>().empty() ? tr("framework unknown") : str(v["framework"]),
                 created.toString(QStringLiteral("yyyy-MM-dd hh:mm")), str(v["source_path"])));
    // Lineage, with links that open the run, datasets and environment.
    const auto& l = v["lineage"];
    QStringList lines;
    if (l.contains("run")) {
        const auto& run = l["run"];
        lines << tr("Run: <a href=\"run:%1\">%2</a> (experiment %3, %4)")
                     .arg(run["id"].get<qint64>())
                     .arg(str(run["name"]).toHtmlEscaped(), str(run["experiment"]).toHtmlEscaped(),
                          str(run["status"]));
    }
    const auto usedDatasets = l.value("datasets", Json::array());
    const auto finalMetrics = l.value("metrics", Json::object());
    QStringList datasets;
    for (const auto& d : usedDatasets)
        datasets << QStringLiteral("<a href=\"dataset:%1:%2\">%1:%2</a>")
                        .arg(str(d["name"]).toHtmlEscaped())
                        .arg(d["version"].get<int>());
    if (!datasets.isEmpty())
        lines << tr("Datasets: %1").arg(datasets.join(QStringLiteral(", ")));
    if (l.contains("environment") && l["environment"].is_object())
        lines << tr("Environment: <a href=\"environment:%1:%2\">%1:%2</a>")
                     .arg(str(l["environment"]["name"]).toHtmlEscaped())
                     .arg(l["environment"]["version"].get<int>());
    if (l.contains("snapshot"))
        lines << tr("Source snapshot: <code>%1</code>").arg(str(l["snapshot"]).left(16));
    QStringList metrics;
    for (const auto& [key, value] : finalMetrics.items())
        if (!Metrics::isSystemKey(key))
            metrics << QStringLiteral("%1 = %2").arg(
                QString::fromStdString(key).toHtmlEscaped(),
                value.is_number() ? QString::number(value.get<double>(), 'g', 6) : QStringLiteral("-"));
    if (!metrics.isEmpty())
        lines << tr("Final metrics: %1").arg(metrics.join(QStringLiteral(", ")));
    // The run's system metrics in one line, as its header says them (sys/open_files and the like are on
    // the run's page).
    if (const auto system = Metrics::systemSummary(finalMetrics); !system.empty())
        lines << tr("System: %1").arg(QString::fromStdString(system).toHtmlEscaped());
    m_lineage->setText(lines.join(QStringLiteral("<br>")));

    m_description->setPlainText(str(v["description"]));
    QStringList tags;
    for (const auto& [k, value] : v["tags"].items())
        tags << QString::fromStdString(k) + QLatin1Char('=') +
                    QString::fromStdString(value.is_string() ? value.get<std::string>() : value.dump());
    m_tags->setText(tags.join(QStringLiteral(", ")));
    m_archive->setText(archived ? tr("Unarc&hive") : tr("Arc&hive"));
    for (auto* w :
         {static_cast<QWidget*>(m_description), static_cast<QWidget*>(m_tags), static_cast<QWidget*>(m_save),
          static_cast<QWidget*>(m_archive), static_cast<QWidget*>(m_download)})
        w->setEnabled(true);

    const auto& files = v["files"];
    m_files->setRowCount(static_cast<int>(files.size()));
    int row = 0;
    for (const auto& f : files) {
        m_files->setItem(row, 0, new QTableWidgetItem(str(f["path"])));
        auto* size = new QTableWidgetItem(locale.formattedDataSize(f["size"].get<qint64>()));
        size->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        size->setToolTip(tr("%1 bytes").arg(f["size"].get<qint64>()));
        m_files->setItem(row, 1, size);
        m_files->setItem(row, 2, new QTableWidgetItem(str(f["sha256"])));
        ++row;
    }
}

void ModelsPage::followLink(const QString& link) {
    const auto parts = link.split(QLatin1Char(':'));
    if (parts.size() == 2 && parts[0] == QLatin1String("run"))
        Q_EMIT openRun(parts[1].toLongLong());
    else if (parts.size() == 3 && parts[0] == QLatin1String("dataset"))
        Q_EMIT openDataset(parts[1], parts[2].toInt());
    else if (parts.size() == 3 && parts[0] == QLatin1String("environment"))
        Q_EMIT openEnvironment(parts[1], parts[2].toInt());
}

void ModelsPage::saveEdits() {
    if (m_shown->is_null())
        return;
    Json tags;
    QString bad;
    if (!RegisterModelDialog::parseTags(m_tags->text(), tags, bad)) {
        QMessageBox::warning(this, tr("Tags"),
                             tr("Tags are key=value pairs separated by commas: %1").arg(bad));
        return;
    }
    const auto path = versionPath(str((*m_shown)["name"]), (*m_shown)["version"].get<int>());
    const Json body = {{"description", m_description->toPlainText().toStdString()}, {"tags", tags}};
    m_connection.call(
        this,
        [path, body](Api::Client& c) {
            auto [status, text] = c.raw("PATCH", path, body.dump());
            auto j = Json::parse(text, nullptr, false);
            if (status >= 400)
                throw Api::ClientError(status, j.is_object() ? j.value("error", text) : text);
            return c.get(path);
        },
        [this](const Json& v) { setDetails(v); },
        [this](const QString& e) {
            QMessageBox::warning(this, tr("Save"), tr("Could not save: %1").arg(e));
        });
}

void ModelsPage::setArchived(bool archived) {
    if (m_shown->is_null())
        return;
    const auto name = str((*m_shown)["name"]);
    const int version = (*m_shown)["version"].get<int>();
    const auto path = versionPath(name, version);
    m_connection.call(
        this,
        [path, archived](Api::Client& c) {
            auto [status, text] = c.raw("PATCH", path, Json{{"archived", archived}}.dump());
            if (status >= 400)
                throw Api::ClientError(status, text);
            return Json();
        },
        [this, name, version](const Json&) { select(name, version); },
        [this](const QString& e) { QMessageBox::warning(this, tr("Archive"), e); });
}

DownloadDialog* ModelsPage::download() {
    if (m_shown->is_null())
        return nullptr;
    const auto name = str((*m_shown)["name"]);
    const int version = (*m_shown)["version"].get<int>();
    auto* dialog =
        new DownloadDialog(m_connection, tr("model %1:%2").arg(name).arg(version), remoteFiles(*m_shown),
                           QStringLiteral("%1-%2").arg(name).arg(version), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

QMimeData* ModelsPage::dragData(const QString& name, int version) const {
    // The files are needed now for the list; the bytes only when the drop asks for them.
    Json v;
    try {
        Api::Client client(m_connection.url().toStdString(), m_connection.token().toStdString(),
                           std::chrono::seconds(5));
        v = client.get(versionPath(name, version));
    } catch (const std::exception&) {
        return nullptr;
    }
    // Keyed by content too: another workspace may have its own name:version.
    QCryptographicHash content(QCryptographicHash::Sha256);
    for (const auto& f : v["files"])
        content.addData(
            QByteArray::fromStdString(f["path"].get<std::string>() + '\0' + f["sha256"].get<std::string>()));
    const auto folder = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) +
                        QStringLiteral("/models/") + QString::fromLatin1(content.result().toHex().left(16)) +
                        QLatin1Char('/') + QStringLiteral("%1-%2").arg(name).arg(version);
    QDir().mkpath(QFileInfo(folder).absolutePath());
    return new ModelMimeData(m_connection.url(), m_connection.token(), folder, remoteFiles(v));
}

} // namespace Kiln::Ui
