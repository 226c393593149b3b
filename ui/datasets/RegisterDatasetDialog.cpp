#include "RegisterDatasetDialog.h"

#include "api/Client.h"
#include "app/TabOrder.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QCheckBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QMimeData>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QTableWidget>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

RegisterDatasetDialog::RegisterDatasetDialog(WorkspaceConnection& connection, QWidget* parent)
    : QDialog(parent)
    , m_connection(connection)
    , m_name(new QLineEdit(this))
    , m_description(new QLineEdit(this))
    , m_tags(new QLineEdit(this))
    , m_newVersion(new QCheckBox(tr("Register as a &new version if the name exists"), this))
    , m_sources(new QListWidget(this))
    , m_url(new QLineEdit(this))
    , m_progress(new QTableWidget(0, 3, this))
    , m_total(new QProgressBar(this))
    , m_speed(new QLabel(this))
    , m_message(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this)) {
    setObjectName(QStringLiteral("registerDatasetDialog"));
    setWindowTitle(tr("Register a dataset"));
    setAcceptDrops(true);
    m_name->setObjectName(QStringLiteral("datasetName"));
    m_sources->setObjectName(QStringLiteral("datasetSources"));
    m_url->setObjectName(QStringLiteral("datasetUrl"));
    m_sources->setAccessibleName(tr("Sources"));
    m_url->setAccessibleName(tr("URL to add"));
    m_progress->setObjectName(QStringLiteral("registerProgress"));
    m_progress->setTabKeyNavigation(false);
    m_progress->setAccessibleName(tr("Files registered so far"));
    m_total->setObjectName(QStringLiteral("registerTotal"));
    m_speed->setObjectName(QStringLiteral("registerSpeed"));
    m_message->setObjectName(QStringLiteral("registerMessage"));
    m_newVersion->setObjectName(QStringLiteral("newVersion"));
    m_name->setValidator(new QRegularExpressionValidator(
        QRegularExpression(QStringLiteral("[A-Za-z0-9][A-Za-z0-9._-]{0,99}")), this));
    m_name->setPlaceholderText(tr("letters, digits, '.', '_' or '-'"));
    m_tags->setPlaceholderText(tr("key=value, key2=value2"));
    m_url->setPlaceholderText(
        tr("Paste http(s) URLs here (one per line or separated by spaces) and press Enter"));
    m_sources->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_sources->setToolTip(tr("Drop files and folders here"));
    m_progress->setHorizontalHeaderLabels({tr("File"), tr("Size"), tr("Progress")});
    m_progress->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_progress->verticalHeader()->hide();
    m_progress->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_progress->hide();
    m_total->hide();
    m_message->setWordWrap(true);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Register"));
    m_buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("registerButton"));

    auto* addFiles = new QPushButton(tr("Add &files…"), this);
    auto* addFolder = new QPushButton(tr("Add f&older…"), this);
    auto* remove = new QPushButton(tr("Re&move"), this);
    auto* sourceButtons = new QHBoxLayout;
    sourceButtons->addWidget(addFiles);
    sourceButtons->addWidget(addFolder);
    sourceButtons->addWidget(remove);
    sourceButtons->addStretch();

    auto* form = new QFormLayout;
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Description:"), m_description);
    form->addRow(tr("&Tags:"), m_tags);
    form->addRow(QString(), m_newVersion);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Files, folders and URLs (drop files or folders here):"), this));
    layout->addWidget(m_sources, 1);
    layout->addLayout(sourceButtons);
    layout->addWidget(m_url);
    layout->addWidget(m_progress, 2);
    auto* totals = new QHBoxLayout;
    totals->addWidget(m_total, 1);
    totals->addWidget(m_speed);
    layout->addLayout(totals);
    layout->addWidget(m_message);
    layout->addWidget(m_buttons);
    resize(640, 520);

    connect(addFiles, &QPushButton::clicked, this, [this] {
        for (const auto& f : QFileDialog::getOpenFileNames(this, tr("Files to register")))
            addSource(f);
    });
    connect(addFolder, &QPushButton::clicked, this, [this] {
        const auto dir = QFileDialog::getExistingDirectory(this, tr("Folder to register"));
        if (!dir.isEmpty())
            addSource(dir);
    });
    connect(remove, &QPushButton::clicked, this, [this] { qDeleteAll(m_sources->selectedItems()); });
    connect(m_url, &QLineEdit::returnPressed, this, [this] {
        for (const auto& part :
             m_url->text().split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts))
            addSource(part);
        m_url->clear();
    });
    connect(m_buttons, &QDialogButtonBox::accepted, this, &RegisterDatasetDialog::start);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &RegisterDatasetDialog::reject);
    tabInLayoutOrder(this);
}

void RegisterDatasetDialog::addSource(const QString& source) {
    QString s = source.trimmed();
    if (s.isEmpty())
        return;
    const bool url = s.startsWith(QLatin1String("http://")) || s.startsWith(QLatin1String("https://"));
    if (!url) {
        QFileInfo info(s);
        if (!info.exists()) {
            m_message->setText(tr("No such file or folder: %1").arg(s));
            return;
        }
        s = info.absoluteFilePath();
    }
    if (!m_sources->findItems(s, Qt::MatchExactly).isEmpty())
        return;
    auto* item = new QListWidgetItem(s, m_sources);
    item->setIcon(style()->standardIcon(
        url ? QStyle::SP_DriveNetIcon : (QFileInfo(s).isDir() ? QStyle::SP_DirIcon : QStyle::SP_FileIcon)));
    if (m_name->text().isEmpty()) {
        QString base = url ? QUrl(s).fileName() : QFileInfo(s).fileName();
        base.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("-"));
        base.remove(QRegularExpression(QStringLiteral("^[^A-Za-z0-9]+")));
        m_name->setText(base.left(100));
    }
}

QStringList RegisterDatasetDialog::sources() const {
    QStringList out;
    for (int i = 0; i < m_sources->count(); ++i)
        out << m_sources->item(i)->text();
    return out;
}

void RegisterDatasetDialog::dragEnterEvent(QDragEnterEvent* event) {
    if (!running() && (event->mimeData()->hasUrls() || event->mimeData()->hasText()))
        event->acceptProposedAction();
}

void RegisterDatasetDialog::dropEvent(QDropEvent* event) {
    const auto* mime = event->mimeData();
    if (mime->hasUrls()) {
        for (const auto& url : mime->urls())
            addSource(url.isLocalFile() ? url.toLocalFile() : url.toString());
    } else {
        for (const auto& part :
             mime->text().split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts))
            addSource(part);
    }
    event->acceptProposedAction();
}

void RegisterDatasetDialog::start() {
    const auto name = m_name->text().trimmed();
    if (name.isEmpty() || sources().isEmpty()) {
        m_message->setText(tr("A name and at least one file, folder or URL are needed."));
        return;
    }
    Json tags = Json::object();
    for (const auto& pair : m_tags->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const auto eq = pair.indexOf(QLatin1Char('='));
        if (eq <= 0) {
            m_message->setText(tr("Tags are key=value pairs separated by commas."));
            return;
        }
        tags[pair.left(eq).trimmed().toStdString()] = pair.mid(eq + 1).trimmed().toStdString();
    }
    Json list = Json::array();
    for (const auto& s : sources())
        list.push_back(s.startsWith(QLatin1String("http")) ? Json{{"url", s.toStdString()}}
                                                           : Json{{"path", s.toStdString()}});
    Json body = {{"name", name.toStdString()},
                 {"description", m_description->text().toStdString()},
                 {"tags", tags},
                 {"new_version", m_newVersion->isChecked()},
                 {"sources", list}};
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
    m_message->setText(tr("Registering…"));
    m_progress->show();
    m_total->show();
    m_total->setRange(0, 0);
    QPointer<RegisterDatasetDialog> self(this);
    m_connection.call(
        this,
        [body, self](Api::Client& c) {
            const auto job = c.post("/api/v1/datasets", body)["job"].get<qint64>();
            QMetaObject::invokeMethod(
                qApp,
                [self, job] {
                    if (self)
                        self->m_job = job;
                },
                Qt::QueuedConnection);
            return c.waitJob(job, [self](const Json& j) {
                auto copy = std::make_shared<Json>(j);
                QMetaObject::invokeMethod(
                    qApp,
                    [self, copy] {
                        if (self)
                            self->showProgress(*copy);
                    },
                    Qt::QueuedConnection);
            });
        },
        [this](const Json& result) { finished(result, {}); },
        [this](const QString& error) { finished({}, error); });
}

void RegisterDatasetDialog::showProgress(const Json& job) {
    const auto& p = job["progress"];
    if (!p.contains("files"))
        return;
    const auto& files = p["files"];
    m_progress->setRowCount(static_cast<int>(files.size()));
    int row = 0;
    for (const auto& f : files) {
        const auto size = f["size"].get<qint64>();
        const auto done = f["done"].get<qint64>();
        const auto set = [&](int col, const QString& text) {
            auto* item = m_progress->item(row, col);
            if (!item)
                m_progress->setItem(row, col, item = new QTableWidgetItem);
            item->setText(text);
        };
        set(0, QString::fromStdString(f["name"].get<std::string>()));
        set(1, QLocale().formattedDataSize(size));
        const auto state = QString::fromStdString(f["state"].get<std::string>());
        set(2, state == QLatin1String("done")      ? tr("done")
               : state == QLatin1String("waiting") ? tr("waiting")
               : size > 0 ? QStringLiteral("%1 %2%").arg(state).arg(100 * done / size)
                          : state);
        ++row;
    }
    const auto total = p["bytes_total"].get<qint64>();
    if (total > 0) {
        m_total->setRange(0, 1000);
        m_total->setValue(static_cast<int>(1000 * p["bytes_done"].get<qint64>() / total));
    }
    m_total->setFormat(
        tr("%1 of %2 files").arg(p["files_done"].get<qint64>()).arg(p["file_count"].get<qint64>()));
    m_speed->setText(tr("%1/s").arg(
        QLocale().formattedDataSize(static_cast<qint64>(p["bytes_per_second"].get<double>()))));
}

void RegisterDatasetDialog::finished(const Json& result, const QString& error) {
    m_job = 0;
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(true);
    m_total->setRange(0, 1);
    if (!error.isEmpty()) {
        m_total->setValue(0);
        m_message->setText(tr("Not registered: %1").arg(error));
        return;
    }
    m_total->setValue(1);
    m_message->setText(QString::fromStdString(result["message"].get<std::string>()));
    Q_EMIT registered(QString::fromStdString(result["dataset"]["name"].get<std::string>()),
                      result["dataset"]["version"].get<int>());
    accept();
}

void RegisterDatasetDialog::reject() {
    if (running()) {
        // Cancel the job; the dialog stays until the server confirms (finished() shows the outcome).
        const auto path = "/api/v1/jobs/" + std::to_string(m_job) + "/cancel";
        m_connection.call(this, [path](Api::Client& c) { return c.post(path, Json::object()); }, {});
        m_message->setText(tr("Canceling…"));
        return;
    }
    QDialog::reject();
}

} // namespace Kiln::Ui
