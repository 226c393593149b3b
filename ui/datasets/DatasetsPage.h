#pragma once
#include <QWidget>

#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QStackedWidget;
class QTreeView;
class QTableWidget;
class QLabel;
class QListWidget;
QT_END_NAMESPACE

namespace Kiln::Ui {

class AssetVersionsModel;
class EmptyState;
class WorkspaceConnection;

// The Datasets panel: names -> versions on the left (an AssetVersionsModel); the selected version's
// description, tags, files (size, SHA-256) and the runs that used it on the right. "Register…" opens the
// registration dialog. With no dataset yet, the panel says what a dataset is and offers to register one.
class DatasetsPage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DatasetsPage)
public:
    explicit DatasetsPage(WorkspaceConnection& connection, QWidget* parent = nullptr);

    void refresh();
    QTreeView* tree() const { return m_tree; }
    AssetVersionsModel* model() const { return m_model; }
    EmptyState* emptyState() const { return m_empty; }
    QTableWidget* files() const { return m_files; }
    void select(const QString& name, int version);

Q_SIGNALS:
    void openRun(qint64 runId);

private:
    void registerDataset();
    void showVersion(const QString& name, int version);
    void setDetails(const nlohmann::json& version);

    WorkspaceConnection& m_connection;
    AssetVersionsModel* m_model;
    QTreeView* m_tree;
    QStackedWidget* m_stack; // the lists, or the empty state
    EmptyState* m_empty;
    QLabel* m_header;
    QLabel* m_details;
    QTableWidget* m_files;
    QListWidget* m_runs;
    QString m_pendingName;
    int m_pendingVersion = 0;
};

} // namespace Kiln::Ui
