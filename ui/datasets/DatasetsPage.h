#pragma once
#include <QWidget>

#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QTreeWidget;
class QTreeWidgetItem;
class QTableWidget;
class QLabel;
class QListWidget;
QT_END_NAMESPACE

namespace Kiln::Ui {

class WorkspaceConnection;

// The Datasets panel: names -> versions on the left; the selected version's description, tags, files
// (size, SHA-256) and the runs that used it on the right. "Register…" opens the registration dialog.
class DatasetsPage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DatasetsPage)
public:
    explicit DatasetsPage(WorkspaceConnection& connection, QWidget* parent = nullptr);

    void refresh();
    QTreeWidget* tree() const { return m_tree; }
    QTableWidget* files() const { return m_files; }
    void select(const QString& name, int version);

Q_SIGNALS:
    void openRun(qint64 runId);

private:
    void registerDataset();
    void showVersion(const QString& name, int version);
    void setDetails(const nlohmann::json& version);

    WorkspaceConnection& m_connection;
    QTreeWidget* m_tree;
    QLabel* m_header;
    QLabel* m_details;
    QTableWidget* m_files;
    QListWidget* m_runs;
    QString m_pendingName;
    int m_pendingVersion = 0;
};

} // namespace Kiln::Ui
