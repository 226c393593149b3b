#pragma once
#include <QDialog>

#include <atomic>
#include <memory>
#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
QT_END_NAMESPACE

namespace Kiln::Transfer {
struct RemoteFile;
}

namespace Kiln::Ui {

class WorkspaceConnection;

// Downloads a model version or run files to a chosen folder, or as one .zip / .tar.gz, with a progress bar,
// speed and cancel. Every file's SHA-256 is verified; a failed or canceled download leaves nothing at the
// destination (see Transfer::download).
class DownloadDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DownloadDialog)
public:
    // `archiveName` names the archive file and the folder inside it ("keras-mnist-1").
    DownloadDialog(WorkspaceConnection& connection, const QString& what,
                   std::vector<Transfer::RemoteFile> files, const QString& archiveName,
                   QWidget* parent = nullptr);
    ~DownloadDialog() override;

    void setDestination(const QString& folder);
    enum Format { Folder = 0, Zip = 1, TarGz = 2 };
    void setFormat(Format format);
    QString written() const { return m_written; } // the folder or archive, once done
    bool succeeded() const { return !m_written.isEmpty(); }

public Q_SLOTS:
    void start();

Q_SIGNALS:
    void finished(bool ok, const QString& message);

protected:
    void reject() override; // cancels a running download first

private:
    void setRunning(bool running);

    WorkspaceConnection& m_connection;
    std::vector<Transfer::RemoteFile> m_files;
    QString m_archiveName;
    QLineEdit* m_dest;
    QComboBox* m_format;
    QProgressBar* m_progress;
    QLabel* m_status;
    QPushButton* m_start;
    QPushButton* m_cancel;
    QPushButton* m_openFolder;
    std::shared_ptr<std::atomic<bool>> m_canceled;
    bool m_running = false;
    QString m_written;
};

} // namespace Kiln::Ui
