#include "DownloadDialog.h"

#include "api/Client.h"
#include "app/TabOrder.h"
#include "transfer/Download.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QComboBox>
#include <QCoreApplication>
#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardPaths>
#include <QUrl>
#include <QVBoxLayout>

namespace Kiln::Ui {

DownloadDialog::DownloadDialog(WorkspaceConnection& connection, const QString& what,
                               std::vector<Transfer::RemoteFile> files, const QString& archiveName,
                               QWidget* parent)
    : QDialog(parent)
    , m_connection(connection)
    , m_files(std::move(files))
    , m_archiveName(archiveName)
    , m_dest(new QLineEdit(this))
    , m_format(new QComboBox(this))
    , m_progress(new QProgressBar(this))
    , m_status(new QLabel(this))
    , m_start(new QPushButton(tr("&Download"), this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_openFolder(new QPushButton(tr("&Open folder"), this)) {
    setObjectName(QStringLiteral("downloadDialog"));
    setWindowTitle(tr("Download %1").arg(what));
    m_dest->setObjectName(QStringLiteral("downloadDest"));
    m_format->setObjectName(QStringLiteral("downloadFormat"));
    m_progress->setObjectName(QStringLiteral("downloadProgress"));
    m_status->setObjectName(QStringLiteral("downloadStatus"));
    m_start->setObjectName(QStringLiteral("downloadStart"));

    qint64 total = 0;
    for (const auto& f : m_files)
        total += f.size;
    auto* summary = new QLabel(tr("%1: %n file(s), %2", nullptr, static_cast<int>(m_files.size()))
                                   .arg(what.toHtmlEscaped(), QLocale().formattedDataSize(total)),
                               this);
    m_dest->setText(QStandardPaths::writableLocation(QStandardPaths::DownloadLocation));
    if (m_dest->text().isEmpty())
        m_dest->setText(QDir::homePath());
    auto* browse = new QPushButton(tr("&Browse…"), this);
    auto* destRow = new QHBoxLayout;
    destRow->addWidget(m_dest, 1);
    destRow->addWidget(browse);
    m_format->addItem(tr("Files in the folder"));
    m_format->addItem(tr("One .zip archive (%1.zip)").arg(archiveName));
    m_format->addItem(tr("One .tar.gz archive (%1.tar.gz)").arg(archiveName));

    auto* form = new QFormLayout;
    auto* destLabel = new QLabel(tr("&To folder:"), this);
    destLabel->setBuddy(m_dest);
    form->addRow(destLabel, destRow);
    auto* formatLabel = new QLabel(tr("&As:"), this);
    formatLabel->setBuddy(m_format);
    form->addRow(formatLabel, m_format);

    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QStringLiteral("%p%"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status->setText(tr("Every file's SHA-256 is checked as it arrives; nothing is left behind if the "
                         "download fails or is canceled."));
    m_openFolder->hide();

    auto* buttons = new QDialogButtonBox(this);
    buttons->addButton(m_openFolder, QDialogButtonBox::ActionRole);
    buttons->addButton(m_start, QDialogButtonBox::AcceptRole);
    buttons->addButton(m_cancel, QDialogButtonBox::RejectRole);
    m_start->setDefault(true);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(summary);
    layout->addLayout(form);
    layout->addWidget(m_progress);
    layout->addWidget(m_status);
    layout->addWidget(buttons);
    resize(560, sizeHint().height());

    connect(browse, &QPushButton::clicked, this, [this] {
        const auto dir = QFileDialog::getExistingDirectory(this, tr("Download to"), m_dest->text());
        if (!dir.isEmpty())
            m_dest->setText(dir);
    });
    connect(m_start, &QPushButton::clicked, this, &DownloadDialog::start);
    connect(m_cancel, &QPushButton::clicked, this, &DownloadDialog::reject);
    connect(m_openFolder, &QPushButton::clicked, this, [this] {
        const QFileInfo info(m_written);
        QDesktopServices::openUrl(QUrl::fromLocalFile(info.isDir() ? m_written : info.absolutePath()));
    });
    tabInLayoutOrder(this);
}

DownloadDialog::~DownloadDialog() {
    if (m_canceled)
        *m_canceled = true;
}

void DownloadDialog::setDestination(const QString& folder) {
    m_dest->setText(folder);
}

void DownloadDialog::setFormat(Format format) {
    m_format->setCurrentIndex(format);
}

void DownloadDialog::setRunning(bool running) {
    m_running = running;
    m_start->setEnabled(!running);
    m_dest->setEnabled(!running);
    m_format->setEnabled(!running);
    m_cancel->setText(running ? tr("Cancel") : tr("Close"));
}

void DownloadDialog::start() {
    if (m_running)
        return;
    const QString dest = m_dest->text().trimmed();
    if (dest.isEmpty() || !QDir::isAbsolutePath(dest)) {
        m_status->setText(tr("Choose a folder to download to (an absolute path)."));
        return;
    }
    static constexpr Transfer::Format formats[] = {Transfer::Format::Folder, Transfer::Format::Zip,
                                                   Transfer::Format::TarGz};
    const auto format = formats[m_format->currentIndex()];
    std::filesystem::path target = dest.toStdString();
    if (format != Transfer::Format::Folder)
        target /= m_archiveName.toStdString() + Transfer::extension(format);
    m_written.clear();
    m_openFolder->hide();
    m_progress->setValue(0);
    m_status->setText(tr("Starting…"));
    setRunning(true);
    m_canceled = std::make_shared<std::atomic<bool>>(false);
    auto canceled = m_canceled;
    QPointer<DownloadDialog> self(this);
    auto files = m_files;
    const auto root = m_archiveName.toStdString();
    m_connection.call(
        this,
        [files, target, format, root, canceled, self](Api::Client& client) {
            Transfer::Options options;
            options.format = format;
            options.archiveRoot = root;
            options.onProgress = [canceled, self](const Transfer::Progress& p) {
                QMetaObject::invokeMethod(
                    qApp,
                    [self, p] {
                        if (!self || !self->m_running)
                            return;
                        const double fraction =
                            p.bytesTotal ? double(p.bytesDone) / double(p.bytesTotal) : 1.0;
                        self->m_progress->setValue(static_cast<int>(fraction * 1000));
                        const QLocale locale;
                        self->m_status->setText(
                            tr("%1 of %2 · %3/s · file %4 of %5: %6")
                                .arg(locale.formattedDataSize(p.bytesDone),
                                     locale.formattedDataSize(p.bytesTotal),
                                     locale.formattedDataSize(static_cast<qint64>(p.bytesPerSecond)))
                                .arg(std::min(p.filesDone + 1, p.fileCount))
                                .arg(p.fileCount)
                                .arg(QString::fromStdString(p.current)) +
                            (p.resumes ? tr(" · resumed %n time(s) after the connection dropped", nullptr,
                                            p.resumes)
                                       : QString()));
                    },
                    Qt::QueuedConnection);
                return !canceled->load();
            };
            auto r = Transfer::download(client, files, target, options);
            return nlohmann::json{{"written", r.written.string()},
                                  {"bytes", r.bytes},
                                  {"files", r.files},
                                  {"seconds", r.seconds}};
        },
        [this](const nlohmann::json& r) {
            setRunning(false);
            m_written = QString::fromStdString(r["written"].get<std::string>());
            m_progress->setValue(1000);
            const double seconds = std::max(r["seconds"].get<double>(), 1e-3);
            const QLocale locale;
            const auto message =
                tr("Downloaded %n file(s), %1, to %2 (%3/s). Every SHA-256 matched.", nullptr,
                   r["files"].get<int>())
                    .arg(locale.formattedDataSize(r["bytes"].get<qint64>()), m_written,
                         locale.formattedDataSize(static_cast<qint64>(r["bytes"].get<double>() / seconds)));
            m_status->setText(message);
            m_openFolder->show();
            Q_EMIT finished(true, message);
        },
        [this](const QString& error) {
            setRunning(false);
            m_progress->setValue(0);
            const bool canceled = m_canceled && m_canceled->load();
            const auto message =
                canceled ? tr("Canceled; nothing was written.") : tr("The download failed: %1").arg(error);
            m_status->setText(message);
            Q_EMIT finished(false, message);
        });
}

void DownloadDialog::reject() {
    if (m_running) {
        *m_canceled = true;
        m_status->setText(tr("Canceling…"));
        return; // the worker ends soon and reports; the dialog stays to say so
    }
    QDialog::reject();
}

} // namespace Kiln::Ui
