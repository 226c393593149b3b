#pragma once
#include <QWidget>

QT_BEGIN_NAMESPACE
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;
QT_END_NAMESPACE

namespace Kiln::Ui {

class DownloadDialog;
class WorkspaceConnection;

// A run's kept files (outputs/, logs/, output.log) as a folder tree with sizes; "Download…" (or Enter or a
// double-click) fetches the selected file or folder through the verified download dialog.
class RunFilesView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunFilesView)
public:
    RunFilesView(WorkspaceConnection& connection, qint64 runId, QWidget* parent = nullptr);

    void load();
    QTreeWidget* tree() const { return m_tree; }
    // Opens the download dialog for a file or folder of the run ("outputs/model").
    DownloadDialog* download(const QString& path);

Q_SIGNALS:
    void loaded(int fileCount);

private:
    WorkspaceConnection& m_connection;
    qint64 m_runId;
    QTreeWidget* m_tree;
    QPushButton* m_download;
};

} // namespace Kiln::Ui
