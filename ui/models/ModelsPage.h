#pragma once
#include <QWidget>

#include <memory>
#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QLabel;
class QLineEdit;
class QMimeData;
class QPlainTextEdit;
class QPushButton;
class QStackedWidget;
class QTableWidget;
class QTreeView;
QT_END_NAMESPACE

namespace Kiln::Ui {

class AssetVersionsModel;
class EmptyState;
class WorkspaceConnection;

// The Models panel: names -> versions on the left (an AssetVersionsModel) (archived ones greyed, hidden
// unless asked for); on the right the selected version's size, framework, files, lineage with links to its
// run, datasets and environment, an editable description and tags, Archive, and Download (folder, .zip or
// .tar.gz). A version can be dragged out into a file manager: it is downloaded, verified, into the cache when
// dropped.
class ModelsPage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelsPage)
public:
    explicit ModelsPage(WorkspaceConnection& connection, QWidget* parent = nullptr);
    ~ModelsPage() override;

    void refresh();
    void select(const QString& name, int version);
    QTreeView* tree() const { return m_tree; }
    AssetVersionsModel* model() const { return m_model; }
    EmptyState* emptyState() const { return m_empty; }
    QTableWidget* files() const { return m_files; }
    QLabel* lineage() const { return m_lineage; }
    const nlohmann::json& shown() const { return *m_shown; } // the version on the right
    // What a drag of name:version carries: the version's folder in the cache (downloaded on first use).
    QMimeData* dragData(const QString& name, int version) const;
    class DownloadDialog* download(); // opens the download dialog for the shown version

Q_SIGNALS:
    void openRun(qint64 runId);
    void openDataset(const QString& name, int version);
    void openEnvironment(const QString& name, int version);
    void runSampleRequested(); // from the empty state, when the workspace has no completed run

private:
    void showVersion(const QString& name, int version);
    void setDetails(const nlohmann::json& version);
    void saveEdits();
    void setArchived(bool archived);
    void followLink(const QString& link);

    WorkspaceConnection& m_connection;
    AssetVersionsModel* m_model;
    QTreeView* m_tree;
    QStackedWidget* m_stack; // the lists, or the empty state
    EmptyState* m_empty;
    QPushButton* m_emptyAction;
    qint64 m_lastCompletedRun = 0; // what the empty state's button opens
    QCheckBox* m_showArchived;
    QLabel* m_header;
    QLabel* m_details;
    QLabel* m_lineage;
    QPlainTextEdit* m_description;
    QLineEdit* m_tags;
    QPushButton* m_save;
    QPushButton* m_archive;
    QPushButton* m_download;
    QTableWidget* m_files;
    std::unique_ptr<nlohmann::json> m_shown;
    QString m_pendingName;
    int m_pendingVersion = 0;
};

} // namespace Kiln::Ui
