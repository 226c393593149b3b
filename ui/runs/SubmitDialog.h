#pragma once
#include <QDialog>
#include <QStringList>

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLineEdit;
class QTableWidget;
class QLabel;
class QDialogButtonBox;
QT_END_NAMESPACE

namespace Kiln::Ui {

class WorkspaceConnection;

// Submits a run: experiment, source folder, script, arguments (a table of argument/value pairs).
// Opens pre-filled with the Fashion-MNIST sample, or with a run to clone (its snapshot, script, arguments,
// environment and compute). Submits in the background; errors stay in the dialog.
class SubmitDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SubmitDialog)
public:
    SubmitDialog(WorkspaceConnection& connection, QWidget* parent = nullptr);

    void setExperiments(const QStringList& names);
    // Registered datasets, offered for insertion as {dataset:NAME}; the sample's --data-folder uses
    // {dataset:fashion-mnist} when the workspace has it.
    void setDatasets(const QStringList& names);
    void setEnvironments(const QStringList& names); // first entry: the system python
    void setComputeTargets(const QStringList& names);
    void setSource(const QString& folder, const QString& script);
    void setArguments(const QList<QPair<QString, QString>>& args);
    QStringList arguments() const;
    // "Clone and edit": every field from `run` (as GET /runs/{id} answers), and its source snapshot
    // `manifest` submitted as is unless the user picks a folder instead.
    void cloneFrom(const nlohmann::json& run, const nlohmann::json& manifest);
    // Defaults from the settings (empty: keep what is there).
    void applyDefaults(const QString& experiment, const QString& compute, const QString& environment);
    bool usesSnapshot() const { return m_snapshot != nullptr; }
    QString environment() const;
    QString compute() const;
    QString experiment() const;
    QString script() const;

Q_SIGNALS:
    void submitted(qint64 runId);
    // What the snapshot left out (links leading out of the folder, names that cannot be stored) or a large
    // folder: said after a successful submit.
    void warned(const QStringList& warnings);

private:
    void submit();
    void fillScripts();
    void addArgument(const QString& name = {}, const QString& value = {});

    WorkspaceConnection& m_connection;
    QComboBox* m_experiment;
    QLineEdit* m_name;
    QLineEdit* m_source;
    QComboBox* m_script;
    QComboBox* m_environment;
    QComboBox* m_compute;
    QTableWidget* m_args;
    QComboBox* m_datasets;
    QLabel* m_message;
    QDialogButtonBox* m_buttons;
    std::shared_ptr<const nlohmann::json> m_snapshot; // a cloned run's snapshot, while in use
    qint64 m_snapshotRun = 0;
    std::optional<double> m_systemInterval; // a cloned run's, kept (else the server's default)
};

} // namespace Kiln::Ui
