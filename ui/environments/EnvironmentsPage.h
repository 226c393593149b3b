#pragma once
#include <QTimer>
#include <QWidget>

#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QTreeView;
QT_END_NAMESPACE

namespace Kiln::Ui {

class AssetVersionsModel;
class WorkspaceConnection;

// The Environments panel: names -> versions on the left (an AssetVersionsModel; with none yet, a line says
// how to make the first); on the right an editor for the selected spec (conda-style YAML with syntax
// highlighting, validated as you type with the error's line marked; python, pip options, variables, container
// image), "Save" (a new version when the spec changed), "Build" with its live log, and the runs that used the
// version.
class EnvironmentsPage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EnvironmentsPage)
public:
    explicit EnvironmentsPage(WorkspaceConnection& connection, QWidget* parent = nullptr);

    void refresh();
    void select(const QString& name, int version) { load(name, version); }
    QPlainTextEdit* editor() const { return m_yaml; }
    QTreeView* tree() const { return m_tree; }
    AssetVersionsModel* model() const { return m_model; }
    QLabel* validation() const { return m_validation; }
    int markedLine() const { return m_markedLine; } // 1-based line marked as wrong, 0 when valid

Q_SIGNALS:
    void openRun(qint64 runId);
    void saved(const QString& name, int version);

private:
    void validate();
    void load(const QString& name, int version);
    void save();
    void build();

    WorkspaceConnection& m_connection;
    AssetVersionsModel* m_model;
    QTreeView* m_tree;
    QLabel* m_emptyHint;
    bool m_reselecting = false; // a refresh putting the selection back: nothing to load
    QLineEdit* m_name;
    QLineEdit* m_python;
    QPlainTextEdit* m_yaml;
    QLabel* m_validation;
    QLineEdit* m_findLinks;
    QCheckBox* m_noIndex;
    QLineEdit* m_variables;
    QLineEdit* m_docker;
    QPushButton* m_save;
    QPushButton* m_build;
    QLabel* m_status;
    QPlainTextEdit* m_log;
    QListWidget* m_runs;
    QTimer m_validateTimer;
    int m_markedLine = 0;
    QString m_loadedName;
    int m_loadedVersion = 0;
};

} // namespace Kiln::Ui
